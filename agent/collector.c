/*
 * collector.c: the connection state machine. IDLE -> (jittered first delay)
 * WAITING -> CONNECTING (resolve, TCP, TLS handshake, pin check) ->
 * CONNECTED; any failure -> WAITING on the next address after a backoff
 * delay. Lines stay in the queue until libevent reports their bytes handed
 * to the socket (ndjson) or the collector's "200 OK" for them arrives
 * (RELP); a broken connection rewinds the rest for the next one. With a
 * spool, every line is written to disk first and read back in order.
 */
#include "collector_int.h"

#include <errno.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "relp.h"
#include "relpsess.h"

static void collector_connect(struct collector *c);
static void collector_fail(struct collector *c, const char *why);
static void collector_confirm(struct collector *c);
static void collector_arm_confirm(struct collector *c);

/* Frees the strings a collector config owns. */
void
collector_config_release(struct collector_config *cfg)
{
	free(cfg->server_name);
	free(cfg->ca_file);
	free(cfg->cert_file);
	free(cfg->key_file);
	cfg->server_name = cfg->ca_file = cfg->cert_file = cfg->key_file = NULL;
}

/* Says whether a connection is up. */
bool
collector_connected(const struct collector *c)
{
	return c->st == COL_CONNECTED;
}

/* Returns the address in use (or next to be tried). */
const char *
collector_current(const struct collector *c)
{
	return c->cfg->naddrs ? c->cfg->addrs[c->cur].label : "";
}

/* Logs a failure of the current address, rate-limited. */
static void
collector_log(struct collector *c, const char *what)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(60000, 10);
	if (log_ratelimit_allow(&rl))
		log_warnx("collector %s: %s", collector_current(c), what);
}

/* Moves spooled lines into memory while the queue has room. */
static void
collector_refill(struct collector *c)
{
	const char *line;
	size_t len;
	uint64_t seg;

	if (c->spool == NULL)
		return;
	while (c->q.bytes < c->q.max_bytes / 2 && spool_read(c->spool, &line, &len, &seg) == 1)
		lq_push(&c->q, line, len, seg);
}

/*
 * Copies bytes into the output buffer and counts them; -1 on failure. A
 * copy, never a reference: a line can leave the queue (answered, dropped)
 * while the bytes handed to TLS still wait in user space.
 */
static int
collector_put(struct collector *c, struct evbuffer *out, const void *p, size_t len)
{
	if (len == 0)
		return 0;
	if (evbuffer_add(out, p, len) == -1)
		return -1;
	c->wire_added += len;
	return 0;
}

/* Frames one line as a RELP syslog command and notes where it ends; -1 on failure. */
static int
relp_send_line(struct collector *c, struct evbuffer *out, struct lq_line *l)
{
	char hdr[RELP_MAX_HEADER];
	size_t dlen = l->len > 0 && l->data[l->len - 1] == '\n' ? l->len - 1 : l->len;
	size_t hlen = relpsess_syslog_header(&c->relp, hdr, sizeof(hdr), dlen);

	if (hlen == 0 || collector_put(c, out, hdr, hlen) == -1 ||
	    collector_put(c, out, l->data, dlen) == -1 || collector_put(c, out, "\n", 1) == -1)
		return -1;
	l->wire_end = c->wire_added;
	return 0;
}

/* Hands queued lines to TLS while the window has room. */
void
collector_flush(struct collector *c)
{
	struct evbuffer *out;
	struct lq_line *l;
	bool relp = c->cfg->protocol == PROTO_RELP;

	c->spooled_since_flush = 0;
	if (c->st != COL_CONNECTED)
		return;
	collector_confirm(c);
	collector_refill(c);
	out = bufferevent_get_output(c->bev);
	/*
	 * At most half the queue in flight (handed to TLS or awaiting TCP's
	 * acknowledgement), so a full queue still drops its oldest unsent lines.
	 */
	size_t window = c->q.max_bytes / 4 < COLLECTOR_WINDOW_BYTES ? c->q.max_bytes / 4
								   : COLLECTOR_WINDOW_BYTES;
	while (evbuffer_get_length(out) < window && lq_inflight_bytes(&c->q) < c->q.max_bytes / 2 &&
	    (!relp || lq_inflight(&c->q) < c->cfg->relp_window) &&
	    (l = lq_take_unsent(&c->q)) != NULL) {
		/* The queue keeps the line until it is written or acknowledged. */
		int r = relp ? relp_send_line(c, out, l) : collector_put(c, out, l->data, l->len);
		if (r == -1) {
			collector_fail(c, "cannot queue data for TLS");
			return;
		}
		collector_refill(c);
	}
}

/*
 * Frees written lines the peer's TCP has acknowledged, from the kernel's
 * count of unacknowledged bytes (SIOCOUTQ). What stays is what a broken
 * connection could lose, and it is sent again.
 */
static void
collector_confirm(struct collector *c)
{
	size_t unacked = 0;
	int r;

	if (c->bev == NULL || c->cfg->protocol != PROTO_NDJSON || c->st != COL_CONNECTED)
		return;
	if ((r = c->tp->unacked(c, &unacked)) == 0) {
		collector_arm_confirm(c);
		return;
	}
	if (r == -1)
		return;	/* keep them: resending is safe, freeing is not */
	if (lq_confirm(&c->q, unacked) > 0) {
		c->progress_ms = c->tp->now_ms();
		/* Room in flight again: hand out more on the next loop turn. */
		if (c->q.unsent_count > 0 && !c->tp->timer_pending(c->flush_ev)) {
			struct timeval now = { 0, 0 };
			c->tp->timer_add(c->flush_ev, &now);
		}
	}
	collector_arm_confirm(c);
}

/* Looks at TCP's acknowledgements again soon while written lines wait for them. */
static void
collector_arm_confirm(struct collector *c)
{
	struct timeval tv = { 0, COLLECTOR_CONFIRM_MS * 1000 };

	if (c->q.wait_bytes > 0 && c->st == COL_CONNECTED && !c->tp->timer_pending(c->confirm_ev))
		c->tp->timer_add(c->confirm_ev, &tv);
}

static void
confirm_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	collector_confirm(arg);
}

/* Output buffer callback: bytes left the buffer for the socket. */
static void
out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct collector *c = arg;
	(void)buf;
	if (info->n_deleted > 0) {
		c->wire_written += info->n_deleted;
		if (c->cfg->protocol == PROTO_RELP)
			return;	/* RELP lines are done when answered, not when written */
		lq_written(&c->q, info->n_deleted);
		c->progress_ms = c->tp->now_ms();
		collector_confirm(c);
	}
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	collector_flush(arg);
}

/* Hands every complete RELP frame in the input buffer to the session and acts on it. */
static void
relp_read(struct collector *c, struct evbuffer *in)
{
	char why[TLS_PEER_TEXT_BUF + 128];

	for (;;) {
		size_t avail = evbuffer_get_length(in), want, used;
		if (avail == 0)
			break;
		want = avail < RELP_MAX_HEADER + RELP_MAX_RSP_DATA + 1 ? avail
		    : RELP_MAX_HEADER + RELP_MAX_RSP_DATA + 1;
		const char *buf = (const char *)evbuffer_pullup(in, (ssize_t)want);
		bool head_written = c->q.head && c->q.head->wire_end <= c->wire_written;
		enum relpsess_result r = relpsess_read(&c->relp, buf, want, lq_inflight(&c->q),
		    head_written, &used, why, sizeof(why));
		if (r == RELPSESS_NEED_MORE)
			break;
		if (r == RELPSESS_FAIL) {
			collector_fail(c, why);
			return;
		}
		evbuffer_drain(in, used);
		if (r == RELPSESS_OPENED) {
			c->st = COL_CONNECTED;
			log_info("collector %s: RELP session open", collector_current(c));
		} else {
			lq_ack_head(&c->q);
			c->progress_ms = c->tp->now_ms();
		}
	}
	collector_flush(c);
}

/* RELP answers; on an ndjson stream the collector should not talk: drain, cut off a flood. */
static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct collector *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n = evbuffer_get_length(in);

	if (c->cfg->protocol == PROTO_RELP) {
		relp_read(c, in);
		return;
	}
	evbuffer_drain(in, n);
	c->rx_unexpected += n;
	if (c->rx_unexpected > COLLECTOR_MAX_UNEXPECTED) {
		char why[128];
		snprintf(why, sizeof(why), "sent %zu bytes of unexpected data; disconnecting",
		    c->rx_unexpected);
		collector_fail(c, why);
	}
}

/* Closes the connection, if any, and rewinds what was in flight. */
static void
collector_teardown(struct collector *c)
{
	collector_confirm(c);	/* what TCP acknowledged before the break is done */
	if (c->bev) {
		if (c->out_cb)
			evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->out_cb);
		bufferevent_free(c->bev);	/* frees the SSL and closes the socket */
	}
	c->bev = NULL;
	c->ssl = NULL;
	c->out_cb = NULL;
	c->tp->timer_del(c->timeout_ev);
	lq_rewind(&c->q);
}

/* Tears down the connection, rewinds the queue, and schedules the next try. */
static void
collector_fail(struct collector *c, const char *why)
{
	uint64_t now = c->tp->now_ms();
	bool was_connected = c->st == COL_CONNECTED || c->st == COL_OPENING;
	struct timeval tv;
	uint32_t delay;

	collector_log(c, why);
	collector_teardown(c);
	if (was_connected) {
		c->disconnects++;
		if (now - c->connected_at_ms >= c->cfg->healthy_after_s * 1000ull)
			backoff_reset(&c->bo);
	} else {
		c->connect_failures++;
	}
	c->cur = (c->cur + 1) % c->cfg->naddrs;
	c->st = COL_WAITING;
	delay = backoff_next_delay_ms(&c->bo);
	tv.tv_sec = delay / 1000;
	tv.tv_usec = (delay % 1000) * 1000;
	c->tp->timer_add(c->retry_ev, &tv);
	log_debug("collector: next attempt in %u ms on %s", delay, collector_current(c));
}

/* Describes a failed or broken connection from what libevent and OpenSSL say. */
static void
tls_transport_describe(struct collector *c, short events, char *why, size_t len)
{
	int dns_err = bufferevent_socket_get_dns_error(c->bev);
	unsigned long ossl = bufferevent_get_openssl_error(c->bev);
	int sock_err = EVUTIL_SOCKET_ERROR();

	if (dns_err) {
		snprintf(why, len, "cannot resolve %s: %s", c->cfg->addrs[c->cur].host,
		    evutil_gai_strerror(dns_err));
	} else if ((ossl && ERR_GET_LIB(ossl) != ERR_LIB_SYS && ERR_GET_LIB(ossl) != 0) ||
	    (c->ssl && SSL_get_verify_result(c->ssl) != X509_V_OK)) {
		tls_describe_failure(c->ssl, ossl, c->st == COL_CONNECTED || c->st == COL_OPENING,
		    why, len);
		while (bufferevent_get_openssl_error(c->bev))
			;
	} else if (sock_err && sock_err != EAGAIN && sock_err != EINTR && sock_err != EINPROGRESS &&
	    (ossl || (events & BEV_EVENT_ERROR))) {
		/* OpenSSL saw a system error (SSL_ERROR_SYSCALL): errno says which. */
		snprintf(why, len, "%s: %s", c->st == COL_CONNECTING ? "cannot connect"
		    : "connection lost", evutil_socket_error_to_string(sock_err));
	} else if (events & BEV_EVENT_EOF) {
		snprintf(why, len, c->st == COL_CONNECTED ? "connection closed by the collector"
		    : "connection closed during the TLS handshake");
	} else if (sock_err) {
		snprintf(why, len, "%s: %s", c->st == COL_CONNECTED ? "connection lost"
		    : "cannot connect", evutil_socket_error_to_string(sock_err));
	} else {
		snprintf(why, len, "connection failed");
	}
}

/* Opens a RELP session: transaction 1, our offers. */
static int
relp_send_open(struct collector *c)
{
	char frame[RELPSESS_OPEN_MAX];
	size_t len = relpsess_open(&c->relp, frame, sizeof(frame));

	c->st = COL_OPENING;
	if (len == 0 || collector_put(c, bufferevent_get_output(c->bev), frame, len) == -1)
		return -1;
	return 0;
}

/* Ends a RELP session politely (on stop); the answer is not waited for. */
void
collector_close_session(struct collector *c)
{
	char frame[RELP_MAX_HEADER + 1];
	size_t len;

	if (c->cfg->protocol != PROTO_RELP || c->st != COL_CONNECTED)
		return;
	len = relpsess_close(&c->relp, frame, sizeof(frame));
	if (len)
		collector_put(c, bufferevent_get_output(c->bev), frame, len);
}

/* Sets the configured SO_SNDBUF on the new connection's socket, if any. */
static void
collector_set_sndbuf(struct collector *c)
{
	int n = (int)c->cfg->sndbuf;
	evutil_socket_t fd = bufferevent_getfd(c->bev);

	if (n > 0 && fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &n, sizeof(n)) == -1)
		log_warn("collector %s: cannot set sndbuf to %d", collector_current(c), n);
}

/* TLS transport: checks the pins, sets the send buffer and names the protocol and cipher. */
static int
tls_transport_verify(struct collector *c, char *desc, size_t desclen, char *err, size_t errlen)
{
	if (!tls_pin_matches(c->ssl, &c->cfg->tls)) {
		snprintf(err, errlen, "TLS verification failed: the server's key does not "
		    "match pin_sha256");
		return -1;
	}
	collector_set_sndbuf(c);
	snprintf(desc, desclen, "%s, %s", SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl));
	return 0;
}

/* TLS transport: the bytes the peer's TCP has not acknowledged, from SIOCOUTQ. */
static int
tls_transport_unacked(struct collector *c, size_t *bytes)
{
	int outq = 0;
	evutil_socket_t fd;

	/*
	 * A TLS 1.3 server that refuses us after the handshake (it checks a
	 * client certificate after the client is done) still lets TCP
	 * acknowledge the first bytes: they count only once the server sent a
	 * session ticket, or, from a server that sends none, once the
	 * connection has lasted COLLECTOR_CONFIRM_GRACE_MS.
	 */
	if (SSL_version(c->ssl) >= TLS1_3_VERSION && !c->peer_accepted &&
	    c->tp->now_ms() - c->connected_at_ms < COLLECTOR_CONFIRM_GRACE_MS)
		return 0;
	fd = bufferevent_getfd(c->bev);
	if (fd < 0 || ioctl(fd, SIOCOUTQ, &outq) == -1)
		return -1;
	*bytes = (size_t)(outq > 0 ? outq : 0);
	return 1;
}

/* TLS transport: the TLS context and the resolver; -1 with a reason. */
static int
tls_transport_setup(struct collector *c, char *err, size_t errlen)
{
	if ((c->ctx = tls_ctx_new(&c->cfg->tls, err, errlen)) == NULL)
		return -1;
	c->dns = evdns_base_new(c->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (c->dns == NULL) {
		/* No usable resolv.conf: numeric addresses and /etc/hosts still work. */
		c->dns = evdns_base_new(c->base, 0);
		if (c->dns)
			evdns_base_load_hosts(c->dns, NULL);
	}
	if (c->dns == NULL) {
		snprintf(err, errlen, "cannot set up the collector's resolver");
		return -1;
	}
	return 0;
}

/* TLS transport: arms a libevent timer. */
static void
tls_transport_timer_add(struct event *ev, const struct timeval *tv)
{
	event_add(ev, tv);
}

/* TLS transport: disarms a libevent timer. */
static void
tls_transport_timer_del(struct event *ev)
{
	event_del(ev);
}

/* TLS transport: says whether a libevent timer is armed. */
static bool
tls_transport_timer_pending(const struct event *ev)
{
	return event_pending(ev, EV_TIMEOUT, NULL) != 0;
}

static void
event_cb(struct bufferevent *bev, short events, void *arg)
{
	struct collector *c = arg;
	char why[512];
	(void)bev;

	if (events & BEV_EVENT_CONNECTED) {
		char desc[128];
		if (c->tp->verify(c, desc, sizeof(desc), why, sizeof(why)) == -1) {
			collector_fail(c, why);
			return;
		}
		c->tp->timer_del(c->timeout_ev);
		c->connected_at_ms = c->tp->now_ms();
		c->progress_ms = c->connected_at_ms;
		c->connects++;
		c->rx_unexpected = 0;
		log_info("collector %s: connected (%s)", collector_current(c), desc);
		c->ever_connected = true;
		if (c->cfg->protocol == PROTO_RELP) {
			if (relp_send_open(c) == -1)
				collector_fail(c, "cannot send the RELP open command");
			return;
		}
		c->st = COL_CONNECTED;
		collector_flush(c);
		return;
	}
	if (events & (BEV_EVENT_ERROR | BEV_EVENT_EOF | BEV_EVENT_TIMEOUT)) {
		c->tp->describe(c, events, why, sizeof(why));
		collector_fail(c, why);
	}
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	collector_connect(arg);
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct collector *c = arg;
	char why[96];
	(void)fd;
	(void)what;
	snprintf(why, sizeof(why), "no connection within connect_timeout_s (%u s)",
	    c->cfg->connect_timeout_s);
	collector_fail(c, why);
}

/* Fails over from a collector that takes nothing while data waits for it. */
static void
watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct collector *c = arg;
	uint64_t now = c->tp->now_ms();
	char why[128];
	(void)fd;
	(void)what;
	if (c->st != COL_CONNECTED && c->st != COL_OPENING)
		return;
	collector_confirm(c);
	bool waiting = lq_inflight(&c->q) > 0 ||
	    (c->bev && evbuffer_get_length(bufferevent_get_output(c->bev)) > 0);
	if (!waiting) {
		c->progress_ms = now;
		return;
	}
	if (c->cfg->stall_timeout_s && now - c->progress_ms >= c->cfg->stall_timeout_s * 1000ull) {
		snprintf(why, sizeof(why), "no progress for %u s with data waiting "
		    "(stall_timeout_s); trying the next address", c->cfg->stall_timeout_s);
		collector_fail(c, why);
	}
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	collector_flush(arg);
}

/* TLS transport: makes the SSL and its bufferevent, not connected yet; -1 with a reason. */
static int
tls_transport_open(struct collector *c, char *err, size_t errlen)
{
	const struct collector_addr *a = &c->cfg->addrs[c->cur];
	const char *name = c->cfg->server_name ? c->cfg->server_name : a->host;

	ERR_clear_error();
	if ((c->ssl = tls_conn_new(c->ctx, name, &c->peer_accepted, err, errlen)) == NULL)
		return -1;
	c->bev = bufferevent_openssl_socket_new(c->base, -1, c->ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		SSL_free(c->ssl);
		c->ssl = NULL;
		snprintf(err, errlen, "cannot create a TLS bufferevent");
		return -1;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	return 0;
}

/* TLS transport: resolves the current address anew, without blocking the loop, and connects. */
static int
tls_transport_connect(struct collector *c, char *err, size_t errlen)
{
	const struct collector_addr *a = &c->cfg->addrs[c->cur];

	if (bufferevent_socket_connect_hostname(c->bev, c->dns, AF_UNSPEC, a->host,
	    a->portnum) == -1) {
		tls_transport_describe(c, BEV_EVENT_ERROR, err, errlen);
		return -1;
	}
	return 0;
}

/* Starts one connection attempt to the current address. */
static void
collector_connect(struct collector *c)
{
	struct timeval tv = { (time_t)c->cfg->connect_timeout_s, 0 };
	char err[512];

	if (c->tp->open(c, err, sizeof(err)) == -1) {
		collector_fail(c, err);
		return;
	}
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, COLLECTOR_WINDOW_BYTES / 2, 0);
	bufferevent_setwatermark(c->bev, EV_READ, 0, c->cfg->protocol == PROTO_RELP ?
	    RELP_MAX_HEADER + RELP_MAX_RSP_DATA + 1 : COLLECTOR_MAX_UNEXPECTED);
	c->wire_added = c->wire_written = 0;
	c->out_cb = evbuffer_add_cb(bufferevent_get_output(c->bev), out_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->st = COL_CONNECTING;
	c->tp->timer_add(c->timeout_ev, &tv);
	if (c->tp->connect(c, err, sizeof(err)) == -1)
		collector_fail(c, err);
}

/* The real transport: TLS over TCP, names resolved by evdns, libevent's clock and timers. */
const struct collector_transport collector_tls_transport = {
	.setup = tls_transport_setup,
	.open = tls_transport_open,
	.connect = tls_transport_connect,
	.verify = tls_transport_verify,
	.unacked = tls_transport_unacked,
	.describe = tls_transport_describe,
	.now_ms = now_mono_ms,
	.timer_add = tls_transport_timer_add,
	.timer_del = tls_transport_timer_del,
	.timer_pending = tls_transport_timer_pending,
};

/* Returns a host-hashed start address, spreading a fleet over the list. */
static size_t
collector_start_index(const struct collector_config *cfg, const char *hostname)
{
	uint32_t h = 2166136261u;
	for (const char *p = hostname; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h % cfg->naddrs;
}

/* Makes a collector over TLS, with its context, resolver and timers; NULL with a reason. */
struct collector *
collector_new(struct event_base *base, const struct collector_config *cfg,
    const char *hostname, uint64_t seed, char *err, size_t errlen)
{
	struct collector *c = xcalloc(1, sizeof(*c));

	if (collector_init_transport(c, base, cfg, hostname, seed, &collector_tls_transport,
	    err, errlen) == -1) {
		collector_free(c);
		return NULL;
	}
	return c;
}

/* Sets up the collector over transport tp (not owned), and its timers; -1 with a reason. */
int
collector_init_transport(struct collector *c, struct event_base *base,
    const struct collector_config *cfg, const char *hostname, uint64_t seed,
    const struct collector_transport *tp, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->tp = tp;
	c->base = base;
	c->cfg = cfg;
	if (tp->setup && tp->setup(c, err, errlen) == -1)
		return -1;
	c->retry_ev = evtimer_new(base, retry_cb, c);
	c->flush_ev = evtimer_new(base, flush_cb, c);
	c->timeout_ev = evtimer_new(base, timeout_cb, c);
	c->watchdog_ev = event_new(base, -1, EV_PERSIST, watchdog_cb, c);
	c->confirm_ev = evtimer_new(base, confirm_cb, c);
	if (!c->retry_ev || !c->flush_ev || !c->timeout_ev || !c->watchdog_ev ||
	    !c->confirm_ev) {
		snprintf(err, errlen, "cannot set up the collector's timers");
		return -1;
	}
	backoff_init(&c->bo, cfg->backoff_initial_ms, cfg->backoff_max_ms, seed);
	lq_init(&c->q, cfg->queue_max_bytes);
	c->cur = collector_start_index(cfg, hostname);
	return 0;
}

/*
 * Takes a reloaded configuration (already in *c->cfg) and its new TLS
 * context: keeps every queued line, closes the current connection and
 * connects at once with the new addresses, certificates and limits.
 */
void
collector_reconfigure(struct collector *c, SSL_CTX *ctx, const char *hostname)
{
	struct timeval now = { 0, 0 };

	collector_teardown(c);
	SSL_CTX_free(c->ctx);	/* an SSL still alive holds its own reference */
	c->ctx = ctx;
	lq_set_max_bytes(&c->q, c->cfg->queue_max_bytes);
	backoff_set_limits(&c->bo, c->cfg->backoff_initial_ms, c->cfg->backoff_max_ms);
	c->cur = collector_start_index(c->cfg, hostname);
	c->st = COL_WAITING;
	c->tp->timer_del(c->retry_ev);
	c->tp->timer_add(c->retry_ev, &now);
	log_info("collector: configuration reloaded; connecting to %s", collector_current(c));
}

/* Schedules the first connect after a random delay within start_jitter_ms. */
void
collector_start(struct collector *c)
{
	uint32_t d = backoff_first_delay_ms(&c->bo, c->cfg->start_jitter_ms);
	struct timeval tv = { (time_t)(d / 1000), (suseconds_t)((d % 1000) * 1000) };

	struct timeval wd = { COLLECTOR_WATCHDOG_MS / 1000, (COLLECTOR_WATCHDOG_MS % 1000) * 1000 };

	c->st = COL_WAITING;
	c->tp->timer_add(c->retry_ev, &tv);
	c->tp->timer_add(c->watchdog_ev, &wd);
	log_info("collector: first connection to %s in %u ms", collector_current(c), d);
}

/* Notes that a line left the queue: a spooled one counts toward deleting its segment. */
static void
line_done_cb(void *arg, const struct lq_line *l, bool delivered)
{
	struct collector *c = arg;
	(void)delivered;
	if (l->seg && c->spool)
		spool_delivered(c->spool, l->seg);
}

/* Puts every line through the spool from now on. */
void
collector_set_spool(struct collector *c, struct spool *sp)
{
	c->spool = sp;
	c->q.done = line_done_cb;
	c->q.done_arg = c;
}

/* Writes a line ahead to the spool; false when it must stay in memory instead. */
static bool
collector_spool_line(struct collector *c, const char *line, size_t len)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(60000, 3);
	uint64_t now;

	if (c->spool == NULL)
		return false;
	now = c->tp->now_ms();
	if (c->spool_retry_ms && now < c->spool_retry_ms)
		return false;
	if (spool_append(c->spool, line, len) == 0) {
		c->spool_retry_ms = 0;
		return true;
	}
	if (log_ratelimit_allow(&rl))
		log_warn("spool: cannot write to %s; keeping events in memory for %d s "
		    "(the oldest are dropped and counted when it fills)", spool_dir(c->spool),
		    COLLECTOR_SPOOL_RETRY_MS / 1000);
	c->spool_retry_ms = now + COLLECTOR_SPOOL_RETRY_MS;
	return false;
}

/* Queues one encoded line; flushes at once when a batch is full, else arms the timer. */
void
collector_enqueue(struct collector *c, const char *line, size_t len)
{
	if (collector_spool_line(c, line, len))
		c->spooled_since_flush++;
	else
		lq_push(&c->q, line, len, 0);
	if (c->q.unsent_count >= c->cfg->batch_events || c->q.unsent_bytes >= c->cfg->batch_bytes ||
	    c->spooled_since_flush >= c->cfg->batch_events) {
		collector_flush(c);
	} else if (!c->tp->timer_pending(c->flush_ev)) {
		struct timeval tv = { 0, (suseconds_t)c->cfg->flush_interval_ms * 1000 };
		tv.tv_sec = tv.tv_usec / 1000000;
		tv.tv_usec %= 1000000;
		c->tp->timer_add(c->flush_ev, &tv);
	}
}

/* Says whether stopping now loses nothing: all delivered, or all on disk. */
bool
collector_safe_to_stop(const struct collector *c)
{
	bool memory_only = false;

	for (const struct lq_line *l = c->q.head; l; l = l->next)
		if (l->seg == 0)
			memory_only = true;
	if (c->spool == NULL)
		return c->q.count == 0;
	if (memory_only)
		return false;
	return c->st != COL_CONNECTED || (c->q.count == 0 && !spool_pending(c->spool));
}

/* Closes the connection and frees everything. */
void
collector_release(struct collector *c)
{
	if (c->ssl && c->st == COL_CONNECTED)
		SSL_shutdown(c->ssl);	/* close_notify, best effort */
	if (c->bev) {
		if (c->out_cb)
			evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->out_cb);
		bufferevent_free(c->bev);
	}
	if (c->retry_ev)
		event_free(c->retry_ev);
	if (c->flush_ev)
		event_free(c->flush_ev);
	if (c->timeout_ev)
		event_free(c->timeout_ev);
	if (c->watchdog_ev)
		event_free(c->watchdog_ev);
	if (c->confirm_ev)
		event_free(c->confirm_ev);
	if (c->dns)
		evdns_base_free(c->dns, 0);
	if (c->ctx)
		SSL_CTX_free(c->ctx);
	lq_release(&c->q);
	memset(c, 0, sizeof(*c));
}

/* Closes the connection and frees the collector. NULL is allowed. */
void
collector_free(struct collector *c)
{
	if (c == NULL)
		return;
	collector_release(c);
	free(c);
}

/* Copies the collector's counters and the size of its queue. */
void
collector_stats(const struct collector *c, struct collector_stats *st)
{
	st->sent = c->q.written + c->q.acked;
	st->dropped = c->q.dropped;
	st->reconnects = c->disconnects + c->connect_failures;
	st->relp_errors = c->relp.errors;
	st->queued = c->q.count;
	st->queue_bytes = c->q.bytes;
}

/* Returns the lines the full queue dropped since the last call, once it has room again. */
uint64_t
collector_take_dropped(struct collector *c)
{
	return lq_take_dropped(&c->q);
}
