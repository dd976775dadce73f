/*
 * collector.h: forwarding encoded lines to a central collector over TLS,
 * inside the agent's libevent loop: non-blocking name resolution (evdns)
 * on every connect, failover across the listed addresses, jittered
 * exponential backoff, batching by count, bytes and time, and a bounded
 * memory queue that drops its oldest lines (counted) when the collector
 * cannot keep up.
 */
#ifndef HIDS_COLLECTOR_H
#define HIDS_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "backoff.h"
#include "linequeue.h"
#include "relpsess.h"
#include "spool.h"
#include "tls.h"

#define COLLECTOR_MAX_ADDRS 16
#define COLLECTOR_WINDOW_BYTES (256u << 10)	/* bytes handed to TLS at once */
#define COLLECTOR_MAX_UNEXPECTED (64u << 10)	/* bytes a collector may send us */
#define COLLECTOR_SPOOL_RETRY_MS 10000		/* after a spool write error, memory only */
#define COLLECTOR_CONFIRM_GRACE_MS 2000		/* a new connection must survive this long
						   before TCP acks count as delivery */
#define COLLECTOR_WATCHDOG_MS 1000		/* how often a connection's progress is checked */
#define COLLECTOR_CONFIRM_MS 10			/* how often TCP acks are looked at while lines wait */

struct event_base;
struct evdns_base;
struct bufferevent;
struct event;
struct evbuffer_cb_entry;

enum collector_protocol { PROTO_NDJSON = 0, PROTO_RELP };

struct collector_config {
	enum collector_protocol protocol;
	unsigned relp_window;		/* RELP commands awaiting an answer */
	struct collector_addr addrs[COLLECTOR_MAX_ADDRS];
	size_t naddrs;
	char *server_name;		/* NULL: each address's host */
	char *ca_file, *cert_file, *key_file;
	struct tls_config tls;
	unsigned batch_events;
	size_t batch_bytes;
	unsigned flush_interval_ms;
	size_t queue_max_bytes;
	unsigned backoff_initial_ms;
	unsigned backoff_max_ms;
	unsigned healthy_after_s;
	unsigned connect_timeout_s;
	unsigned stall_timeout_s;	/* no progress with data in flight: fail over */
	unsigned stop_timeout_s;
	unsigned start_jitter_ms;
	size_t sndbuf;			/* SO_SNDBUF of the socket; 0: the kernel's */
};

/* What collector_stats reports. */
struct collector_stats {
	uint64_t sent;			/* written and TCP-acknowledged, or RELP-acknowledged */
	uint64_t dropped;		/* dropped from the full queue since start */
	uint64_t reconnects;		/* disconnects and failed connects */
	uint64_t relp_errors;
	size_t queued;			/* lines in the memory queue */
	size_t queue_bytes;
};

struct collector;

/* collector.c */
void collector_config_release(struct collector_config *cfg);
struct collector *collector_new(struct event_base *base,
    const struct collector_config *cfg, const char *hostname, uint64_t seed,
    char *err, size_t errlen);
void collector_free(struct collector *c);
void collector_start(struct collector *c);
void collector_reconfigure(struct collector *c, SSL_CTX *ctx, const char *hostname);
void collector_enqueue(struct collector *c, const char *line, size_t len);
void collector_flush(struct collector *c);
bool collector_connected(const struct collector *c);
const char *collector_current(const struct collector *c);
void collector_set_spool(struct collector *c, struct spool *sp);
bool collector_safe_to_stop(const struct collector *c);
void collector_close_session(struct collector *c);
void collector_stats(const struct collector *c, struct collector_stats *st);
uint64_t collector_take_dropped(struct collector *c);

#endif
