/*
 * bare_listener.c: the benchmark's floor, the least a connector client can do.
 *
 *   bare_listener drain     subscribe to every process event and read them
 *   bare_listener exec      exec events only (the kernel's filter, Linux 6.6+),
 *                           read /proc/PID/cmdline of each at SCHED_FIFO 1
 *
 * In exec mode it prints one line "exec PID ARG0 ARG1 ..." per exec event
 * (arguments joined by one space; "<gone>" when /proc had no cmdline any
 * more) on standard output, block-buffered. It logs "ready" on standard
 * error once subscribed, and on SIGTERM or SIGINT prints a summary line
 * "bare_listener: events N exec N fork N exit N other N overruns N
 * filter yes|no fifo yes|no" on standard error and exits 0. Anything that
 * stops it from listening exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The 6.6 filter request, declared here since older headers lack it. */
struct bl_proc_input {
	uint32_t	mcast_op;
	uint32_t	event_type;
};

static volatile sig_atomic_t stop;

/* Asks the main loop to end. */
static void
stop_cb(int sig)
{
	(void)sig;
	stop = 1;
}

/* Sends one subscription request (len 4: bare, len 8: with a filter). */
static int
send_op(int fd, uint32_t op, uint32_t type, size_t len)
{
	char buf[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(struct bl_proc_input))];
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct cn_msg *cn = NLMSG_DATA(nlh);
	struct bl_proc_input in = { op, type };

	memset(buf, 0, sizeof(buf));
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(*cn) + len);
	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_pid = (uint32_t)getpid();
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->len = (uint16_t)len;
	memcpy(cn->data, &in, len);
	return send(fd, buf, nlh->nlmsg_len, 0) == (ssize_t)nlh->nlmsg_len ? 0 : -1;
}

/* Prints the command line of pid as one line; "<gone>" when it is unreadable. */
static void
print_cmdline(int pid)
{
	static char buf[65536];
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	n = -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (n <= 0) {
		printf("exec %d <gone>\n", pid);
		return;
	}
	if (buf[n - 1] == '\0')
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	printf("exec %d %s\n", pid, buf);
}

int
main(int argc, char **argv)
{
	static char obuf[1 << 20];
	uint64_t events = 0, execs = 0, forks = 0, exits = 0, other = 0, overruns = 0;
	int fd, execmode, filtered = 0, fifo = 0, rcv = 4 << 20;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC };
	struct sigaction act;
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));

	if (argc != 2 || (strcmp(argv[1], "drain") != 0 && strcmp(argv[1], "exec") != 0)) {
		fprintf(stderr, "usage: bare_listener drain|exec\n");
		return 2;
	}
	execmode = strcmp(argv[1], "exec") == 0;
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	memset(&act, 0, sizeof(act));
	act.sa_handler = stop_cb;	/* no SA_RESTART: recv returns EINTR */
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);

	if ((fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR)) == -1) {
		perror("bare_listener: socket");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv));
	sa.nl_pid = (uint32_t)getpid();
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		perror("bare_listener: bind");
		return 1;
	}
	if (execmode) {
		struct sched_param sp = { .sched_priority = 1 };
		if (send_op(fd, PROC_CN_MCAST_LISTEN, PROC_EVENT_EXEC, 8) == 0)
			filtered = 1;
		fifo = sched_setscheduler(0, SCHED_FIFO, &sp) == 0;
	}
	if (!filtered && send_op(fd, PROC_CN_MCAST_LISTEN, 0, 4) == -1) {
		perror("bare_listener: subscribe");
		return 1;
	}
	fprintf(stderr, "bare_listener: ready\n");

	while (!stop) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				overruns++;
				continue;
			}
			perror("bare_listener: recv");
			return 1;
		}
		for (struct nlmsghdr *nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, (size_t)n);
		    nlh = NLMSG_NEXT(nlh, n)) {
			struct cn_msg *cn = NLMSG_DATA(nlh);
			struct proc_event *ev = (struct proc_event *)cn->data;

			if (nlh->nlmsg_type != NLMSG_DONE ||
			    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*cn) + sizeof(*ev)))
				continue;
			events++;
			switch (ev->what) {
			case PROC_EVENT_EXEC:
				execs++;
				if (execmode)
					print_cmdline(ev->event_data.exec.process_tgid);
				break;
			case PROC_EVENT_FORK:
				forks++;
				break;
			case PROC_EVENT_EXIT:
				exits++;
				break;
			default:
				other++;
				break;
			}
		}
	}
	fflush(stdout);
	fprintf(stderr, "bare_listener: events %llu exec %llu fork %llu exit %llu other %llu "
	    "overruns %llu filter %s fifo %s\n", (unsigned long long)events,
	    (unsigned long long)execs, (unsigned long long)forks, (unsigned long long)exits,
	    (unsigned long long)other, (unsigned long long)overruns, filtered ? "yes" : "no",
	    fifo ? "yes" : "no");
	return 0;
}
