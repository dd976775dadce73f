/*
 * collector_int.h: the collector's insides, for collector.c, the transports
 * below its state machine and the collector's unit test. Everyone else
 * holds a struct collector * from collector.h and asks it through its
 * functions (collector_stats, collector_take_dropped, ...).
 */
#ifndef HIDS_COLLECTOR_INT_H
#define HIDS_COLLECTOR_INT_H

#include "collector.h"

enum collector_state { COL_IDLE, COL_WAITING, COL_CONNECTING, COL_OPENING, COL_CONNECTED };

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
int collector_init_transport(struct collector *c, struct event_base *base,
    const struct collector_config *cfg, const char *hostname, uint64_t seed,
    const struct collector_transport *tp, char *err, size_t errlen);
void collector_release(struct collector *c);

#endif
