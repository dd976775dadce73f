/*
 * collector.c: the connection state machine. IDLE -> (jittered first delay)
 * WAITING -> CONNECTING (resolve, TCP, TLS handshake, pin check) ->
 * CONNECTED; any failure -> WAITING on the next address after a backoff
 * delay. Lines stay in the queue until libevent reports their bytes handed
 * to the socket; a broken connection rewinds the rest for the next one.
 */
#include "collector.h"

#include <errno.h>
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

static void collector_connect(struct collector *c);
static void collector_fail(struct collector *c, const char *why);

/* Parses "host:port[,host:port...]" ("[v6]:port" for IPv6) into cfg. */
int
collector_parse_addresses(const char *list, struct collector_config *cfg, char *err,
    size_t errlen)
{
	char *copy = xstrdup(list), *save = NULL, *tok;
	int rc = 0;

	cfg->naddrs = 0;
	for (tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		struct collector_addr *a;
		char *host = tok, *port;
		uint64_t pn;

		if (cfg->naddrs == COLLECTOR_MAX_ADDRS) {
			snprintf(err, errlen, "more than %d collector addresses", COLLECTOR_MAX_ADDRS);
			rc = -1;
			break;
		}
		if (*host == '[') {
			char *close = strchr(host, ']');
			if (close == NULL || close[1] != ':') {
				snprintf(err, errlen, "bad address '%s' (expected [ipv6]:port)", tok);
				rc = -1;
				break;
			}
			*close = '\0';
			host++;
			port = close + 2;
		} else {
			port = strrchr(host, ':');
			if (port == NULL || strchr(host, ':') != port) {
				snprintf(err, errlen, "bad address '%s' (expected host:port)", tok);
				rc = -1;
				break;
			}
			*port++ = '\0';
		}
		if (*host == '\0' || strlen(host) >= sizeof(a->host) ||
		    parse_u64(port, 1, 65535, &pn) == -1) {
			snprintf(err, errlen, "bad address '%s' (expected host:port, port 1-65535)", list);
			rc = -1;
			break;
		}
		a = &cfg->addrs[cfg->naddrs++];
		strlcpy_trunc(a->host, host, sizeof(a->host));
		snprintf(a->port, sizeof(a->port), "%u", (unsigned)pn);
		snprintf(a->label, sizeof(a->label), strchr(host, ':') ? "[%s]:%s" : "%s:%s",
		    a->host, a->port);
	}
	free(copy);
	if (rc == 0 && cfg->naddrs == 0) {
		snprintf(err, errlen, "no collector address given");
		rc = -1;
	}
	return rc;
}

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

/* Hands queued lines to TLS while the window has room. */
void
collector_flush(struct collector *c)
{
	struct evbuffer *out;
	struct lq_line *l;

	if (c->st != COL_CONNECTED)
		return;
	out = bufferevent_get_output(c->bev);
	while (evbuffer_get_length(out) < COLLECTOR_WINDOW_BYTES &&
	    (l = lq_take_unsent(&c->q)) != NULL) {
		/* The queue owns the bytes until out_cb reports them written. */
		if (evbuffer_add_reference(out, l->data, l->len, NULL, NULL) == -1) {
			collector_fail(c, "cannot queue data for TLS");
			return;
		}
	}
}

/* Output buffer callback: bytes left the buffer for the socket. */
static void
out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct collector *c = arg;
	(void)buf;
	if (info->n_deleted > 0)
		lq_written(&c->q, info->n_deleted);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	collector_flush(arg);
}

/* The collector should not talk on an ndjson stream: drain, and cut off a flood. */
static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct collector *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n = evbuffer_get_length(in);

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
	if (c->bev) {
		if (c->out_cb)
			evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->out_cb);
		bufferevent_free(c->bev);	/* frees the SSL and closes the socket */
	}
	c->bev = NULL;
	c->ssl = NULL;
	c->out_cb = NULL;
	evtimer_del(c->timeout_ev);
	lq_rewind(&c->q);
}

/* Tears down the connection, rewinds the queue, and schedules the next try. */
static void
collector_fail(struct collector *c, const char *why)
{
	uint64_t now = now_mono_ms();
	bool was_connected = c->st == COL_CONNECTED;
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
	evtimer_add(c->retry_ev, &tv);
	log_debug("collector: next attempt in %u ms on %s", delay, collector_current(c));
}

/* Describes a failed or broken connection from what libevent and OpenSSL say. */
static void
describe_event(struct collector *c, short events, char *why, size_t len)
{
	int dns_err = bufferevent_socket_get_dns_error(c->bev);
	unsigned long ossl = bufferevent_get_openssl_error(c->bev);
	int sock_err = EVUTIL_SOCKET_ERROR();

	if (dns_err) {
		snprintf(why, len, "cannot resolve %s: %s", c->cfg->addrs[c->cur].host,
		    evutil_gai_strerror(dns_err));
	} else if (ossl || (c->ssl && SSL_get_verify_result(c->ssl) != X509_V_OK)) {
		tls_describe_failure(c->ssl, ossl, why, len);
		while (bufferevent_get_openssl_error(c->bev))
			;
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

static void
event_cb(struct bufferevent *bev, short events, void *arg)
{
	struct collector *c = arg;
	char why[512];
	(void)bev;

	if (events & BEV_EVENT_CONNECTED) {
		if (!tls_pin_matches(c->ssl, &c->cfg->tls)) {
			collector_fail(c, "TLS verification failed: the server's key does not "
			    "match pin_sha256");
			return;
		}
		evtimer_del(c->timeout_ev);
		c->st = COL_CONNECTED;
		c->connected_at_ms = now_mono_ms();
		c->connects++;
		c->rx_unexpected = 0;
		log_info("collector %s: connected (%s, %s)", collector_current(c),
		    SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl));
		c->ever_connected = true;
		collector_flush(c);
		return;
	}
	if (events & (BEV_EVENT_ERROR | BEV_EVENT_EOF | BEV_EVENT_TIMEOUT)) {
		describe_event(c, events, why, sizeof(why));
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

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	collector_flush(arg);
}

/* Starts one connection attempt to the current address. */
static void
collector_connect(struct collector *c)
{
	const struct collector_addr *a = &c->cfg->addrs[c->cur];
	const char *name = c->cfg->server_name ? c->cfg->server_name : a->host;
	struct timeval tv = { (time_t)c->cfg->connect_timeout_s, 0 };
	char err[256];

	ERR_clear_error();
	if ((c->ssl = tls_conn_new(c->ctx, name, err, sizeof(err))) == NULL) {
		collector_fail(c, err);
		return;
	}
	c->bev = bufferevent_openssl_socket_new(c->base, -1, c->ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		SSL_free(c->ssl);
		c->ssl = NULL;
		collector_fail(c, "cannot create a TLS bufferevent");
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, COLLECTOR_WINDOW_BYTES / 2, 0);
	bufferevent_setwatermark(c->bev, EV_READ, 0, COLLECTOR_MAX_UNEXPECTED);
	c->out_cb = evbuffer_add_cb(bufferevent_get_output(c->bev), out_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->st = COL_CONNECTING;
	evtimer_add(c->timeout_ev, &tv);
	/* Resolved anew on every attempt, without blocking the loop. */
	if (bufferevent_socket_connect_hostname(c->bev, c->dns, AF_UNSPEC, a->host,
	    atoi(a->port)) == -1) {
		char why[256];
		describe_event(c, BEV_EVENT_ERROR, why, sizeof(why));
		collector_fail(c, why);
	}
}

/* Returns a host-hashed start address, spreading a fleet over the list. */
static size_t
collector_start_index(const struct collector_config *cfg, const char *hostname)
{
	uint32_t h = 2166136261u;
	for (const char *p = hostname; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h % cfg->naddrs;
}

/* Sets up the TLS context, resolver and timers; -1 with a reason. */
int
collector_init(struct collector *c, struct event_base *base,
    const struct collector_config *cfg, const char *hostname, uint64_t seed, char *err,
    size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->base = base;
	c->cfg = cfg;
	if ((c->ctx = tls_ctx_new(&cfg->tls, err, errlen)) == NULL)
		return -1;
	c->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (c->dns == NULL) {
		/* No usable resolv.conf: numeric addresses and /etc/hosts still work. */
		c->dns = evdns_base_new(base, 0);
		if (c->dns)
			evdns_base_load_hosts(c->dns, NULL);
	}
	c->retry_ev = evtimer_new(base, retry_cb, c);
	c->flush_ev = evtimer_new(base, flush_cb, c);
	c->timeout_ev = evtimer_new(base, timeout_cb, c);
	if (c->dns == NULL || !c->retry_ev || !c->flush_ev || !c->timeout_ev) {
		snprintf(err, errlen, "cannot set up the collector's resolver and timers");
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
	c->q.max_bytes = c->cfg->queue_max_bytes;
	c->bo.initial_ms = c->cfg->backoff_initial_ms;
	c->bo.max_ms = c->cfg->backoff_max_ms;
	backoff_reset(&c->bo);
	c->cur = collector_start_index(c->cfg, hostname);
	c->st = COL_WAITING;
	evtimer_del(c->retry_ev);
	evtimer_add(c->retry_ev, &now);
	log_info("collector: configuration reloaded; connecting to %s", collector_current(c));
}

/* Schedules the first connect after a random delay within start_jitter_ms. */
void
collector_start(struct collector *c)
{
	uint32_t d = backoff_first_delay_ms(&c->bo, c->cfg->start_jitter_ms);
	struct timeval tv = { (time_t)(d / 1000), (suseconds_t)((d % 1000) * 1000) };

	c->st = COL_WAITING;
	evtimer_add(c->retry_ev, &tv);
	log_info("collector: first connection to %s in %u ms", collector_current(c), d);
}

/* Queues one encoded line; flushes at once when a batch is full, else arms the timer. */
void
collector_enqueue(struct collector *c, const char *line, size_t len)
{
	lq_push(&c->q, line, len);
	if (c->q.unsent_count >= c->cfg->batch_events || c->q.unsent_bytes >= c->cfg->batch_bytes) {
		collector_flush(c);
	} else if (!evtimer_pending(c->flush_ev, NULL)) {
		struct timeval tv = { 0, (suseconds_t)c->cfg->flush_interval_ms * 1000 };
		tv.tv_sec = tv.tv_usec / 1000000;
		tv.tv_usec %= 1000000;
		evtimer_add(c->flush_ev, &tv);
	}
}

/* Closes the connection and frees everything. */
void
collector_release(struct collector *c)
{
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
	if (c->dns)
		evdns_base_free(c->dns, 0);
	if (c->ctx)
		SSL_CTX_free(c->ctx);
	lq_release(&c->q);
	memset(c, 0, sizeof(*c));
}
