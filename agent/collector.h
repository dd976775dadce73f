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

enum collector_state { COL_IDLE, COL_WAITING, COL_CONNECTING, COL_OPENING, COL_CONNECTED };

struct collector;
struct timeval;

/*
 * The seam below the state machine (and below RELP framing): how a
 * connection is made, checked and judged, and the clock and timers. The
 * default is TLS over TCP with libevent's timers (collector_tls_transport);
 * a unit test gives a fake that hands out bufferevent pairs and fires the
 * timers itself, so every transition runs without a socket or a wait.
 */
struct collector_transport {
	/* Prepares what connecting needs (TLS context, resolver); -1 with a reason. */
	int (*setup)(struct collector *c, char *err, size_t errlen);
	/* Makes the bufferevent of a connection to the current address (c->bev, c->ssl); -1 with a reason. */
	int (*open)(struct collector *c, char *err, size_t errlen);
	/* Starts connecting c->bev, its callbacks set; -1 with a reason. */
	int (*connect)(struct collector *c, char *err, size_t errlen);
	/* On BEV_EVENT_CONNECTED: 0 when the peer is the one configured, with a description; -1 with a reason. */
	int (*verify)(struct collector *c, char *desc, size_t desclen, char *err, size_t errlen);
	/* Bytes written that the peer has not acknowledged: 1 with *bytes, 0 not yet (ask again soon), -1 unknown. */
	int (*unacked)(struct collector *c, size_t *bytes);
	/* Says why a connection failed or broke, from the bufferevent's events. */
	void (*describe)(struct collector *c, short events, char *why, size_t len);
	uint64_t (*now_ms)(void);
	void (*timer_add)(struct event *ev, const struct timeval *tv);
	void (*timer_del)(struct event *ev);
	bool (*timer_pending)(const struct event *ev);
};

extern const struct collector_transport collector_tls_transport;

struct collector {
	const struct collector_transport *tp;
	struct event_base *base;
	struct evdns_base *dns;
	SSL_CTX *ctx;
	const struct collector_config *cfg;
	enum collector_state st;
	size_t cur;			/* index of the address in use */
	struct bufferevent *bev;
	SSL *ssl;
	struct evbuffer_cb_entry *out_cb;
	struct event *retry_ev, *flush_ev, *timeout_ev, *watchdog_ev, *confirm_ev;
	uint64_t progress_ms;		/* last time bytes left, TCP acked, or RELP answered */
	bool peer_accepted;		/* TLS 1.3: a session ticket came, the server took us */
	struct backoff bo;
	uint64_t connected_at_ms;
	size_t rx_unexpected;		/* this connection */
	struct linequeue q;
	uint64_t connects, disconnects, connect_failures;
	bool ever_connected;
	struct spool *spool;		/* NULL: memory only */
	uint64_t spool_retry_ms;	/* after a write error, memory only until then */
	uint64_t spooled_since_flush;
	struct relp_session relp;	/* RELP only */
	uint64_t wire_added, wire_written;	/* this connection: bytes put into and
						   taken from the output buffer */
};

/* collector.c */
void collector_config_release(struct collector_config *cfg);
int collector_init(struct collector *c, struct event_base *base,
    const struct collector_config *cfg, const char *hostname, uint64_t seed,
    char *err, size_t errlen);
int collector_init_transport(struct collector *c, struct event_base *base,
    const struct collector_config *cfg, const char *hostname, uint64_t seed,
    const struct collector_transport *tp, char *err, size_t errlen);
void collector_start(struct collector *c);
void collector_reconfigure(struct collector *c, SSL_CTX *ctx, const char *hostname);
void collector_enqueue(struct collector *c, const char *line, size_t len);
void collector_flush(struct collector *c);
bool collector_connected(const struct collector *c);
const char *collector_current(const struct collector *c);
void collector_release(struct collector *c);
void collector_set_spool(struct collector *c, struct spool *sp);
bool collector_safe_to_stop(const struct collector *c);
void collector_close_session(struct collector *c);
void collector_stats(const struct collector *c, struct collector_stats *st);
uint64_t collector_take_dropped(struct collector *c);

#endif
