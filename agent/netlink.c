/*
 * netlink.c: the connector socket. Subscription is confirmed by the
 * kernel's reply (a PROC_EVENT_NONE message whose ack field is our nonce
 * plus one); no reply within NL_ACK_TIMEOUT_MS means the connector is not
 * serving us (no CONFIG_PROC_EVENTS, no CAP_NET_ADMIN before Linux 6.6, or
 * not in the initial user and pid namespaces). Root is not required: the
 * capability, ambient for the hids-agent user under the unit, is enough.
 */
#include "netlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "decode.h"
#include "event.h"

#define NL_ACK_TIMEOUT_MS 500	/* wait for the kernel's subscribe reply */
#define NL_MCAST_LISTEN 1u
#define NL_MCAST_IGNORE 2u

/* Opens and binds the socket and raises its receive buffer. */
int
nlsource_open(struct nlsource *s, size_t rcvbuf, char *err, size_t errlen)
{
	int val = (int)rcvbuf;
	socklen_t vlen = sizeof(val);

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if ((s->nl = mnl_socket_open2(NETLINK_CONNECTOR, SOCK_CLOEXEC)) == NULL) {
		snprintf(err, errlen, "cannot open the netlink connector socket: %s",
		    strerror(errno));
		return -1;
	}
	if (mnl_socket_bind(s->nl, CN_IDX_PROC, MNL_SOCKET_AUTOPID) == -1) {
		snprintf(err, errlen, "cannot bind to the process-events connector: %s",
		    strerror(errno));
		nlsource_close(s);
		return -1;
	}
	s->fd = mnl_socket_get_fd(s->nl);
	s->portid = mnl_socket_get_portid(s->nl);
	/* FORCE lifts the rmem_max cap; it needs CAP_NET_ADMIN, as does the connector. */
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &val, sizeof(val)) == -1 &&
	    setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &val, sizeof(val)) == -1)
		log_warn("cannot raise the netlink receive buffer to %zu bytes", rcvbuf);
	/* Overruns are reported (ENOBUFS) and counted, never fatal. */
	val = 0;
	setsockopt(s->fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &val, sizeof(val));
	val = 0;
	if (getsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &val, &vlen) == 0)
		s->rcvbuf = (size_t)val;
	return 0;
}

/* Sends one multicast control message: 4 bytes bare, or 8 with a filter mask. */
static int
send_mcast_op(struct nlsource *s, uint32_t op, const uint32_t *mask, uint32_t seq,
    uint32_t ack)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct cn_msg *cn;
	uint32_t data[2] = { op, mask ? *mask : 0 };
	size_t dlen = mask ? 8 : 4;

	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_pid = s->portid;
	cn = mnl_nlmsg_put_extra_header(nlh, sizeof(*cn) + dlen);
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->seq = seq;
	cn->ack = ack;
	cn->len = (uint16_t)dlen;
	memcpy(cn->data, data, dlen);
	return mnl_socket_sendto(s->nl, nlh, nlh->nlmsg_len) < 0 ? -1 : 0;
}

/* Waits for the kernel's reply to our request; 1 found, 0 timeout, -1 error. */
static int
wait_ack(struct nlsource *s, uint32_t ack, uint32_t *ack_err)
{
	uint8_t buf[8192];
	uint64_t deadline = now_mono_ms() + NL_ACK_TIMEOUT_MS;

	for (;;) {
		uint64_t now = now_mono_ms();
		struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
		if (now >= deadline)
			return 0;
		int r = poll(&pfd, 1, (int)(deadline - now));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return r;
		uint32_t sender;
		ssize_t n = nlsource_recv(s, buf, sizeof(buf), MSG_DONTWAIT, &sender);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR || errno == ENOBUFS)
				continue;
			return -1;
		}
		if (sender != 0)
			continue;	/* not the kernel: a forged reply proves nothing */
		const uint8_t *p = buf;
		size_t left = (size_t)n;
		while (left > 0) {
			struct cn_event ev;
			/* The kernel overwrites seq; ack (ours + 1) identifies the reply. */
			if (decode_next(&p, &left, &ev) == DECODE_ACK && ev.ack_ack == ack + 1) {
				*ack_err = ev.ack_err;
				return 1;
			}
		}
	}
}

/* Says whether the running kernel is at least major.minor. */
static bool
kernel_at_least(int major, int minor)
{
	struct utsname u;
	char *end;
	long ma, mi;

	if (uname(&u) == -1)
		return false;
	ma = strtol(u.release, &end, 10);
	if (end == u.release || *end != '.')
		return false;
	mi = strtol(end + 1, &end, 10);
	return ma > major || (ma == major && mi >= minor);
}

/*
 * Subscribes to every event and waits for the kernel's reply, then, when
 * fewer types are wanted, installs the 6.6+ filter. The reply to a filtered
 * request is itself filtered out (it has type NONE), so the bare request is
 * the one that proves the connector serves us; a kernel older than 6.6
 * ignores the filtered request and keeps sending everything, and the
 * capture thread filters instead.
 */
int
nlsource_subscribe(struct nlsource *s, uint32_t mask, char *err, size_t errlen)
{
	uint32_t nonce, ack_err = 0;
	int r;

	if (getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce))
		nonce = (uint32_t)time(NULL);
	nonce &= 0x7fffffff;
	s->mask = mask;
	s->kernel_filter = false;
	if (send_mcast_op(s, NL_MCAST_LISTEN, NULL, nonce, nonce) == -1) {
		snprintf(err, errlen, "cannot send the subscription request: %s",
		    strerror(errno));
		return -1;
	}
	r = wait_ack(s, nonce, &ack_err);
	if (r == 1 && ack_err != 0) {
		snprintf(err, errlen, "the kernel refused the subscription: %s%s",
		    strerror((int)ack_err),
		    ack_err == EPERM ? " (CAP_NET_ADMIN is required)" : "");
		return -1;
	}
	if (r != 1) {
		snprintf(err, errlen, "no reply from the kernel's process-events "
		    "connector: the agent needs CAP_NET_ADMIN (root, or the unit's ambient "
		    "capabilities), a kernel with "
		    "CONFIG_PROC_EVENTS, and the initial user and pid namespaces "
		    "(containers are not served)");
		return -1;
	}
	if (mask == CN_EV_ALL)
		return 0;
	if (!kernel_at_least(6, 6)) {
		log_info("kernel older than 6.6: no kernel-side event filter; "
		    "filtering in the agent");
		return 0;
	}
	if (send_mcast_op(s, NL_MCAST_LISTEN, &mask, nonce + 1, nonce + 1) == -1) {
		log_warn("cannot install the kernel event filter; filtering in the agent");
		return 0;
	}
	s->kernel_filter = true;
	return 0;
}

/* Tells the kernel we no longer listen, so it can stop building messages. */
void
nlsource_unsubscribe(struct nlsource *s)
{
	uint32_t none = 0;

	if (s->nl == NULL)
		return;
	if (send_mcast_op(s, NL_MCAST_IGNORE, s->kernel_filter ? &none : NULL, 0, 0) == -1)
		log_warn("cannot unsubscribe from the process-events connector");
}

/* Makes s a closed source, as nlsource_close leaves it. */
void
nlsource_init(struct nlsource *s)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

/* Says whether s has an open socket. */
bool
nlsource_is_open(const struct nlsource *s)
{
	return s->nl != NULL;
}

/* Says whether the kernel applies s's event mask itself (Linux 6.6+). */
bool
nlsource_kernel_filter(const struct nlsource *s)
{
	return s->kernel_filter;
}

/* Returns s's effective receive buffer in bytes. */
size_t
nlsource_rcvbuf(const struct nlsource *s)
{
	return s->rcvbuf;
}

/* Closes the socket. */
void
nlsource_close(struct nlsource *s)
{
	if (s->nl)
		mnl_socket_close(s->nl);
	s->nl = NULL;
	s->fd = -1;
}

/*
 * Receives one datagram; -1 with errno as recv(2). *sender gets the
 * sending socket's port id: 0 is the kernel, anything else a process that
 * multicast to the connector's group (which CAP_NET_ADMIN allows).
 */
ssize_t
nlsource_recv(struct nlsource *s, void *buf, size_t len, int flags, uint32_t *sender)
{
	struct sockaddr_nl from;
	socklen_t fromlen = sizeof(from);
	ssize_t n;

	memset(&from, 0, sizeof(from));
	n = recvfrom(s->fd, buf, len, flags, (struct sockaddr *)&from, &fromlen);
	/* No address means no proof of origin: treat it as not the kernel. */
	*sender = n >= 0 && (fromlen < sizeof(from) || from.nl_family != AF_NETLINK) ?
	    UINT32_MAX : from.nl_pid;
	return n;
}

/* Sets how long a blocking nlsource_recv waits (0: for ever); -1 with errno if it cannot. */
int
nlsource_set_timeout(struct nlsource *s, unsigned ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	return setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}
