/*
 * netlink.h: the kernel's process-events connector socket: open, raise the
 * receive buffer, subscribe (with the Linux 6.6+ event filter when it can),
 * receive, unsubscribe. Knows nothing of events beyond the subscription.
 */
#ifndef HIDS_NETLINK_H
#define HIDS_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct mnl_socket;

struct nlsource {
	struct mnl_socket *nl;
	int fd;
	uint32_t portid;
	uint32_t mask;		/* event types asked of the kernel */
	bool kernel_filter;	/* the kernel applies mask (6.6+) */
	size_t rcvbuf;		/* effective receive buffer, bytes */
};

/* netlink.c */
void nlsource_init(struct nlsource *s);
bool nlsource_is_open(const struct nlsource *s);
bool nlsource_kernel_filter(const struct nlsource *s);
size_t nlsource_rcvbuf(const struct nlsource *s);
int nlsource_open(struct nlsource *s, size_t rcvbuf, char *err, size_t errlen);
int nlsource_subscribe(struct nlsource *s, uint32_t mask, char *err, size_t errlen);
void nlsource_unsubscribe(struct nlsource *s);
void nlsource_close(struct nlsource *s);
ssize_t nlsource_recv(struct nlsource *s, void *buf, size_t len, int flags,
    uint32_t *sender);
int nlsource_set_timeout(struct nlsource *s, unsigned ms);

#endif
