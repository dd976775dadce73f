/*
 * metrics.h: the optional Prometheus endpoint ([metrics] listen). It serves
 * the heartbeat's counters (AGENT_STATS_LIST) as the text exposition format
 * 0.0.4 on GET /metrics through libevent's HTTP server, with bounded
 * connections, request size and time. It keeps no counter of its own.
 */
#ifndef HIDS_METRICS_H
#define HIDS_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "event.h"

#define METRICS_DEFAULT_HOST "127.0.0.1"	/* when listen gives only a port */

struct event_base;
struct metrics;

/* Returns the counters as they are now; called once per scrape. */
typedef const struct agent_stats *(*metrics_snapshot_cb)(void *arg);

/* metrics.c */
int metrics_parse_listen(const char *v, struct sockaddr_storage *ss, socklen_t *sslen,
    char *err, size_t errlen);
char *metrics_render(const struct agent_stats *s, const char *version,
    uint64_t start_time_s, size_t *len);
struct metrics *metrics_new(struct event_base *base, const char *listen,
    metrics_snapshot_cb snapshot, void *arg, const char *version, char *err,
    size_t errlen);
void metrics_free(struct metrics *m);

#endif
