/*
 * forge_cn.c: multicasts forged process-events connector messages to the
 * connector's group, as any process with CAP_NET_ADMIN in the host's
 * network namespace can: an exec and an exit of PID, then one fork per CPU
 * with a sequence number far ahead of the kernel's. Prints how many
 * datagrams it sent; exits 1 if the kernel refused any.
 */
#include <errno.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "decode.h"
#include "event.h"

#define FORGED_SEQ 0x7fff0000u	/* ahead of any kernel counter by less than 2^31 */

/* Sends one datagram to the connector's multicast group. */
static int
forge_send(int fd, const uint8_t *msg, size_t len)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK, .nl_pid = 0,
	    .nl_groups = CN_IDX_PROC };

	if (sendto(fd, msg, len, 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)len) {
		fprintf(stderr, "forge_cn: sendto: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct sockaddr_nl me = { .nl_family = AF_NETLINK, .nl_groups = 0 };
	struct timespec ts;
	uint8_t msg[256];
	uint32_t body[6];
	int fd, sent = 0, failed = 0;
	long ncpus = sysconf(_SC_NPROCESSORS_CONF);
	size_t len;
	uint64_t now;
	int32_t pid;

	if (argc != 2 || (pid = (int32_t)atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: forge_cn PID\n");
		return 2;
	}
	if ((fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR)) == -1 ||
	    bind(fd, (struct sockaddr *)&me, sizeof(me)) == -1) {
		fprintf(stderr, "forge_cn: socket: %s\n", strerror(errno));
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;

	/* exec of pid, then its exit with status 0 and a parent. */
	body[0] = body[1] = (uint32_t)pid;
	len = decode_build_msg(msg, sizeof(msg), CN_EV_EXEC, 0, 1, now, body, 8);
	failed += forge_send(fd, msg, len) == -1;
	sent++;
	body[2] = 0;
	body[3] = 17;
	body[4] = body[5] = 1;
	len = decode_build_msg(msg, sizeof(msg), CN_EV_EXIT, 0, 2, now + 1000, body, 24);
	failed += forge_send(fd, msg, len) == -1;
	sent++;
	/* A fork per CPU with a sequence number the kernel will not reach. */
	for (long cpu = 0; cpu < ncpus; cpu++) {
		body[0] = body[1] = 1;
		body[2] = body[3] = (uint32_t)pid;
		len = decode_build_msg(msg, sizeof(msg), CN_EV_FORK, (uint32_t)cpu, FORGED_SEQ,
		    now + 2000, body, 16);
		failed += forge_send(fd, msg, len) == -1;
		sent++;
	}
	close(fd);
	printf("%d\n", sent);
	return failed ? 1 : 0;
}
