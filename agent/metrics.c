/*
 * metrics.c: the optional Prometheus endpoint. It renders the counters of
 * AGENT_STATS_LIST (the same ones the heartbeat carries) as the text
 * exposition format 0.0.4, and serves them with libevent's HTTP server on
 * GET or HEAD /metrics; every other path is 404 and every other method
 * 405. A client gets bounded memory and time: at most METRICS_MAX_CONNS
 * connections (the listener pauses at that many), METRICS_MAX_HEADERS of
 * request, no body, and METRICS_TIMEOUT_S for each whole request, so a
 * client trickling a byte a second is cut off too. It is not for pushing
 * events: those go to the collector.
 */
#include "metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define METRICS_MAX_CONNS 16		/* open connections; the listener pauses at this many */
#define METRICS_MAX_HEADERS 8192	/* request line plus headers, in bytes */
#define METRICS_MAX_BODY 1024		/* a scrape sends none; more is refused with 413 */
#define METRICS_TIMEOUT_S 5		/* for a whole request, from the connection or the last answer */
#define METRICS_BACKLOG 16		/* connections the kernel queues while paused */
#define METRICS_PREFIX "hids_"		/* of every metric name */

struct metrics_conn {
	struct metrics *m;
	struct bufferevent *bev;		/* ours, held until adopted */
	struct evhttp_connection *evcon;	/* once adopted */
	struct event *deadline;
	bool used;
};

struct metrics {
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	struct event *ev_adopt;
	metrics_snapshot_cb snapshot;
	void *arg;
	char *version;
	uint64_t start_time_s;
	struct log_ratelimit full_rl;
	unsigned active;
	bool paused;
	bool freeing;
	struct metrics_conn conns[METRICS_MAX_CONNS];
};

/* Parses "PORT", "IPv4:PORT" or "[IPv6]:PORT" (numeric only); -1 with err set. */
int
metrics_parse_listen(const char *v, struct sockaddr_storage *ss, socklen_t *sslen,
    char *err, size_t errlen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char host[INET6_ADDRSTRLEN];
	const char *port, *end, *colon;
	size_t hlen;
	uint64_t p;

	memset(ss, 0, sizeof(*ss));
	if (v[0] == '[') {
		if ((end = strchr(v, ']')) == NULL || end[1] != ':') {
			snprintf(err, errlen, "bad listen '%s' (expected [ADDRESS]:PORT)", v);
			return -1;
		}
		hlen = (size_t)(end - v - 1);
		v++;
		port = end + 2;
	} else if ((colon = strrchr(v, ':')) != NULL) {
		if (strchr(v, ':') != colon) {
			snprintf(err, errlen, "bad listen '%s' (put an IPv6 address in "
			    "brackets: [ADDRESS]:PORT)", v);
			return -1;
		}
		hlen = (size_t)(colon - v);
		port = colon + 1;
	} else {
		port = v;
		v = METRICS_DEFAULT_HOST;
		hlen = strlen(v);
	}
	if (parse_u64(port, 1, 65535, &p) == -1) {
		snprintf(err, errlen, "bad port '%s' in listen (expected 1 to 65535)", port);
		return -1;
	}
	if (hlen >= sizeof(host)) {
		snprintf(err, errlen, "bad listen address (too long)");
		return -1;
	}
	memcpy(host, v, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)p);
		*sslen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)p);
		*sslen = sizeof(*sin6);
	} else {
		snprintf(err, errlen, "bad listen address '%s' (expected a numeric IPv4 or "
		    "IPv6 address)", host);
		return -1;
	}
	return 0;
}

/* Writes s with the exposition format's escapes; quotes too when in a label value. */
static void
metrics_escape(FILE *f, const char *s, bool label)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '"' && label)
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

/* Writes the HELP and TYPE lines and the sample of one metric. */
static void
metrics_put(FILE *f, const char *name, const char *suffix, const char *type,
    const char *help, uint64_t value)
{
	fprintf(f, "# HELP " METRICS_PREFIX "%s%s ", name, suffix);
	metrics_escape(f, help, false);
	fprintf(f, "\n# TYPE " METRICS_PREFIX "%s%s %s\n" METRICS_PREFIX "%s%s %llu\n",
	    name, suffix, type, name, suffix, (unsigned long long)value);
}

/*
 * Renders the counters as the text exposition format 0.0.4: counters get
 * _total, the forwarding and spool ones appear only when they apply (as
 * in the heartbeat). Returns a string the caller frees.
 */
char *
metrics_render(const struct agent_stats *s, const char *version, uint64_t start_time_s,
    size_t *len)
{
	size_t n;
	const struct agent_stat_desc *d = agent_stats_list(&n);
	char *text = NULL;
	FILE *f;

	if ((f = open_memstream(&text, len)) == NULL)
		fatal("open_memstream");
	fputs("# HELP " METRICS_PREFIX "agent_info the agent's version\n"
	    "# TYPE " METRICS_PREFIX "agent_info gauge\n" METRICS_PREFIX "agent_info{version=\"", f);
	metrics_escape(f, version, true);
	fputs("\"} 1\n", f);
	metrics_put(f, "start_time_seconds", "", "gauge",
	    "when the agent started, in seconds since the epoch", start_time_s);
	for (size_t i = 0; i < n; i++) {
		if (!agent_stats_has_group(s, d[i].group))
			continue;
		metrics_put(f, d[i].name, d[i].kind == STAT_COUNTER ? "_total" : "",
		    d[i].kind == STAT_COUNTER ? "counter" : "gauge", d[i].help,
		    agent_stats_value(s, &d[i]));
	}
	if (s->forwarding)
		metrics_put(f, "collector_connected", "", "gauge",
		    "1 while a collector connection is up, else 0", s->connected);
	if (fclose(f) != 0)
		fatal("open_memstream");
	return text;
}

/* Stops accepting until a connection closes. */
static void
metrics_pause(struct metrics *m)
{
	if (m->paused)
		return;
	evconnlistener_disable(evhttp_bound_socket_get_listener(m->bound));
	m->paused = true;
	if (log_ratelimit_allow(&m->full_rl))
		log_warnx("metrics: %d connections open; new ones wait", METRICS_MAX_CONNS);
}

/* Gives a connection slot back, and accepts again if the limit had paused it. */
static void
metrics_conn_release(struct metrics_conn *c)
{
	struct metrics *m = c->m;

	event_del(c->deadline);
	c->used = false;
	c->evcon = NULL;
	m->active--;
	if (m->paused && !m->freeing && m->active < METRICS_MAX_CONNS) {
		evconnlistener_enable(evhttp_bound_socket_get_listener(m->bound));
		m->paused = false;
	}
}

/* (Re)starts the time a connection has for its next whole request. */
static void
metrics_conn_arm(struct metrics_conn *c)
{
	struct timeval tv = { METRICS_TIMEOUT_S, 0 };
	evtimer_add(c->deadline, &tv);
}

/* libevent: the connection is going away. */
static void
metrics_close_cb(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	metrics_conn_release(arg);
}

/* A request took longer than METRICS_TIMEOUT_S: drop the connection. */
static void
metrics_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct metrics_conn *c = arg;
	(void)fd;
	(void)what;
	log_debug("metrics: no whole request within %d s; closing the connection",
	    METRICS_TIMEOUT_S);
	evhttp_connection_free(c->evcon);	/* calls metrics_close_cb */
}

/*
 * libevent: a connection was accepted; hands evhttp a bufferevent of ours
 * so the connection can be counted. evhttp makes its connection object
 * only after this returns, so metrics_adopt_cb finds it later; the extra
 * reference keeps the bufferevent readable until then.
 */
static struct bufferevent *
metrics_bev_cb(struct event_base *base, void *arg)
{
	struct metrics *m = arg;
	struct metrics_conn *c = NULL;
	struct bufferevent *bev;

	for (size_t i = 0; i < METRICS_MAX_CONNS && c == NULL; i++)
		if (!m->conns[i].used)
			c = &m->conns[i];
	/* Not reached: the listener pauses at METRICS_MAX_CONNS. */
	if (c == NULL || (bev = bufferevent_socket_new(base, -1, 0)) == NULL)
		return NULL;
	bufferevent_incref(bev);
	c->used = true;
	c->bev = bev;
	m->active++;
	if (m->active >= METRICS_MAX_CONNS)
		metrics_pause(m);
	event_active(m->ev_adopt, EV_TIMEOUT, 0);
	return bev;
}

/*
 * Finds the connection objects evhttp made for new bufferevents (evhttp
 * passes its connection as the bufferevent's callback argument) and asks
 * to hear when each closes. A bufferevent evhttp already freed has no
 * callbacks left: that connection is gone.
 */
static void
metrics_adopt_cb(evutil_socket_t fd, short what, void *arg)
{
	struct metrics *m = arg;
	(void)fd;
	(void)what;

	for (size_t i = 0; i < METRICS_MAX_CONNS; i++) {
		struct metrics_conn *c = &m->conns[i];
		struct bufferevent *bev = c->bev;
		void *cbarg = NULL;

		if (bev == NULL)
			continue;
		c->bev = NULL;
		bufferevent_getcb(bev, NULL, NULL, NULL, &cbarg);
		if (cbarg == NULL) {
			metrics_conn_release(c);
		} else {
			c->evcon = cbarg;
			evhttp_connection_set_closecb(c->evcon, metrics_close_cb, c);
			metrics_conn_arm(c);
		}
		bufferevent_decref(bev);
	}
}

/* Gives the connection of a finished request a fresh deadline for the next. */
static void
metrics_rearm(struct metrics *m, const struct evhttp_connection *evcon)
{
	for (size_t i = 0; i < METRICS_MAX_CONNS; i++)
		if (m->conns[i].used && m->conns[i].evcon == evcon)
			metrics_conn_arm(&m->conns[i]);
}

/* libevent: a whole request arrived; answers it. */
static void
metrics_request_cb(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
	struct evbuffer *body;
	char *text;
	size_t len;

	metrics_adopt_cb(-1, 0, m);	/* in case this came before the adoption */
	metrics_rearm(m, evhttp_request_get_connection(req));
	if (path == NULL || strcmp(path, "/metrics") != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, NULL);
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(hdr, "Allow", "GET, HEAD");
		evhttp_send_error(req, 405, "Method Not Allowed");
		return;
	}
	text = metrics_render(m->snapshot(m->arg), m->version, m->start_time_s, &len);
	if ((body = evbuffer_new()) == NULL || evbuffer_add(body, text, len) == -1)
		fatal("evbuffer");
	free(text);
	evhttp_add_header(hdr, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", body);
	evbuffer_free(body);
}

/* Opens the listening socket and names its address in shown; -1 with err set. */
static int
metrics_listen_socket(const char *listen_on, char *shown, size_t shownlen, char *err,
    size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	char addr[INET6_ADDRSTRLEN];
	int fd, one = 1;

	if (metrics_parse_listen(listen_on, &ss, &sslen, err, errlen) == -1)
		return -1;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    (ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1) ||
	    bind(fd, (struct sockaddr *)&ss, sslen) == -1 || listen(fd, METRICS_BACKLOG) == -1) {
		snprintf(err, errlen, "cannot listen on %s: %s", listen_on, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
		snprintf(shown, shownlen, "[%s]:%u", addr, ntohs(sin6->sin6_port));
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		snprintf(shown, shownlen, "%s:%u", addr, ntohs(sin->sin_port));
	}
	return fd;
}

/*
 * Starts serving /metrics on listen_on; snapshot(arg) gives the counters
 * at each scrape. Returns NULL with err set when the address is bad or
 * taken.
 */
struct metrics *
metrics_new(struct event_base *base, const char *listen_on, metrics_snapshot_cb snapshot,
    void *arg, const char *version, char *err, size_t errlen)
{
	struct metrics *m;
	char shown[INET6_ADDRSTRLEN + 8];
	int fd;

	if ((fd = metrics_listen_socket(listen_on, shown, sizeof(shown), err, errlen)) == -1)
		return NULL;
	m = xcalloc(1, sizeof(*m));
	m->base = base;
	m->snapshot = snapshot;
	m->arg = arg;
	m->version = xstrdup(version);
	m->start_time_s = (uint64_t)time(NULL);
	m->full_rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(60000, 1);
	if ((m->http = evhttp_new(base)) == NULL ||
	    (m->ev_adopt = event_new(base, -1, 0, metrics_adopt_cb, m)) == NULL)
		fatal("evhttp_new");
	for (size_t i = 0; i < METRICS_MAX_CONNS; i++) {
		m->conns[i].m = m;
		if ((m->conns[i].deadline = evtimer_new(base, metrics_deadline_cb,
		    &m->conns[i])) == NULL)
			fatal("evtimer_new");
	}
	evhttp_set_max_headers_size(m->http, METRICS_MAX_HEADERS);
	evhttp_set_max_body_size(m->http, METRICS_MAX_BODY);
	evhttp_set_timeout(m->http, METRICS_TIMEOUT_S);
	/* Let every common method reach us, to answer 405 rather than 501. */
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
	    EVHTTP_REQ_PATCH);
	evhttp_set_gencb(m->http, metrics_request_cb, m);
	evhttp_set_bevcb(m->http, metrics_bev_cb, m);
	if ((m->bound = evhttp_accept_socket_with_handle(m->http, fd)) == NULL) {
		snprintf(err, errlen, "cannot listen on %s: %s", listen_on, strerror(errno));
		close(fd);
		metrics_free(m);
		return NULL;
	}
	log_info("metrics: serving http://%s/metrics", shown);
	return m;
}

/* Closes the listener and every connection. */
void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	m->freeing = true;
	evhttp_free(m->http);	/* closes connections: metrics_close_cb for each */
	for (size_t i = 0; i < METRICS_MAX_CONNS; i++) {
		if (m->conns[i].bev)
			bufferevent_decref(m->conns[i].bev);
		event_free(m->conns[i].deadline);
	}
	event_free(m->ev_adopt);
	free(m->version);
	free(m);
}
