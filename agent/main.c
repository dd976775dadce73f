/*
 * main.c: wires the stages together and owns the libevent loop. It parses
 * the command line and config, subscribes to the kernel, seeds the process
 * table, starts the capture thread, and then, on each wake-up, turns
 * queued records into JSON lines. It holds no stage's logic itself.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/capability.h>
#include <openssl/sha.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "canary.h"
#include "capture.h"
#include "clockstep.h"
#include "collector.h"
#include "common.h"
#include "config.h"
#include "encode.h"
#include "enrich.h"
#include "metrics.h"
#include "filter.h"
#include "hasher.h"
#include "hostinfo.h"
#include "names.h"
#include "netlink.h"
#include "output.h"
#include "privdrop.h"
#include "procfs.h"
#include "proctab.h"
#include "textview.h"

#define AGENT_BATCH_MS 5	/* pause between two takes of the capture queue */

/* What the command line asks of the text view. */
struct view_args {
	const char *read_path;		/* --read FILE ("-": standard input), or NULL */
	const char *color;		/* --color: "auto", "always" or "never" */
	bool text;			/* --format text */
	bool format_set;
};

struct agent {
	struct config cfg;
	struct event_base *base;
	struct nlsource src;		/* every event, or exec only (split) */
	struct nlsource src_other;	/* split: every other event; closed when unused */
	struct capture cap;
	struct hasher *hasher;		/* NULL when [hash] algorithms is empty */
	struct capture_rec *held, *held_tail;	/* taken, waiting behind an exec's hash */
	uint64_t held_lost;		/* loss noted after the held records */
	const char *held_lost_reason;
	bool hash_nowait;		/* stopping: nothing waits for a hash */
	struct event *ev_hash, *ev_hashwait;
	struct procfs_env_spec env_spec;	/* [process] env_vars, read by the capture thread */
	struct proctab tab;
	struct names *names;
	struct enricher en;
	struct encode_ctx enc;
	struct output out;
	struct collector *col;		/* NULL unless forwarding */
	struct spool *spool;		/* NULL without [spool] dir */
	struct canary *canary;		/* NULL when there is none */
	struct textview *tv;		/* --format text: the live view; NULL for JSON */
	struct metrics *metrics;	/* NULL unless [metrics] listen */
	struct filter filt;
	struct event *ev_filter;	/* the filter summary timer */
	struct event *ev_fsync;
	struct clockstep *clockstep;
	struct event *ev_stopcheck;
	struct event *ev_notify, *ev_batch, *ev_int, *ev_term, *ev_usr1, *ev_hup, *ev_heartbeat;
	uint64_t stop_deadline_ms;
	struct agent_stats stats;
	const char *config_path;
	int procfd;
	char hostname[256];
	char host_id[65];
	struct host_os os;	/* host.os.*, read at start and on SIGHUP */
	char agent_id[33];
	char ephemeral_id[17];
	bool spooling;
	bool forwarding;
	bool to_stdout;
	bool stopping;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: hids-agent [-c FILE] [--stdout] [--format json|text] [--color[=WHEN]]\n"
	    "                  [--check-config] [-v] [--version] [--help]\n"
	    "       hids-agent --read FILE [--color[=WHEN]]\n"
	    "  -c, --config FILE   read FILE (default " CONFIG_DEFAULT_PATH " if present,\n"
	    "                      else built-in defaults)\n"
	    "      --stdout        write events as JSON lines to standard output\n"
	    "      --format FMT    json (default) or text: one readable line per event,\n"
	    "                      to standard output (implies --stdout)\n"
	    "      --read FILE     show JSON lines from FILE (- for standard input) as\n"
	    "                      text, then exit; needs no privileges or config\n"
	    "      --color[=WHEN]  colour the text: auto (default, when a terminal),\n"
	    "                      always or never\n"
	    "      --check-config  validate the configuration and exit (0 valid, 1 not)\n"
	    "  -v, --verbose       log debug messages\n"
	    "      --version       print the version and exit\n"
	    "  -h, --help          print this help and exit\n");
}

/* Reads host name, machine id, and derives the agent ids. */
static void
agent_identity(struct agent *a)
{
	unsigned char md[SHA256_DIGEST_LENGTH], rnd[8];
	char seed[300];
	int fd, n;

	if (gethostname(a->hostname, sizeof(a->hostname) - 1) == -1)
		strlcpy_trunc(a->hostname, "unknown", sizeof(a->hostname));
	if ((fd = open("/etc/machine-id", O_RDONLY | O_CLOEXEC)) != -1) {
		n = (int)read(fd, a->host_id, 64);
		close(fd);
		while (n > 0 && (a->host_id[n - 1] == '\n' || a->host_id[n - 1] == ' '))
			n--;
		a->host_id[n > 0 ? n : 0] = '\0';
	}
	if (a->host_id[0] == '\0')
		log_warnx("no /etc/machine-id; host.id is left out and entity ids "
		    "use the host name");
	snprintf(seed, sizeof(seed), "hids-agent:%s",
	    a->host_id[0] ? a->host_id : a->hostname);
	SHA256((const unsigned char *)seed, strlen(seed), md);
	for (int i = 0; i < 16; i++)
		snprintf(a->agent_id + 2 * i, 3, "%02x", md[i]);
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		fatal("getrandom");
	for (int i = 0; i < 8; i++)
		snprintf(a->ephemeral_id + 2 * i, 3, "%02x", rnd[i]);
}

/* Measures the offsets from the kernel's clocks to wall time. */
static void
agent_sync_clocks(struct agent *a)
{
	uint64_t real = clock_ns(CLOCK_REALTIME);
	uint64_t mono = clock_ns(CLOCK_MONOTONIC);
	uint64_t boot = clock_ns(CLOCK_BOOTTIME);

	a->enc.mono_to_real_ns = (int64_t)(real - mono);
	a->enc.boot_to_real_ns = (int64_t)(real - boot);
	a->en.mono_to_boot_ns = (int64_t)(boot - mono);
}

/* Reads this process's resident set size. */
static uint64_t
agent_rss(void)
{
	char buf[128];
	unsigned long long res;
	char *p, *end;
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "size resident ...": the second field. */
	if ((p = strchr(buf, ' ')) == NULL)
		return 0;
	res = strtoull(p + 1, &end, 10);
	if (end == p + 1)
		return 0;
	return res * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Gathers the counters of every stage. */
static void
agent_collect_stats(struct agent *a)
{
	struct agent_stats *s = &a->stats;
	struct capture_stats c;
	struct proctab_stats ps;

	capture_stats(&a->cap, &c);
	s->events_seen = c.seen;
	s->overruns = c.overruns;
	s->decode_errors = c.decode_errors;
	s->threads_skipped = c.threads_skipped;
	s->queue_drops = c.queue_drops;
	s->events_lost = c.seq_lost + s->queue_drops;
	s->forged = c.forged;
	s->filtered = c.filtered;
	s->rt_demotions = c.rt_demotions;
	if (a->hasher) {
		struct hasher_stats hs;
		hasher_stats(a->hasher, &hs);
		s->hash_done = hs.done;
		s->hash_cache_hits = hs.cache_hits;
		s->hash_skipped = hs.skipped;
	}
	s->seq_unexplained = c.seq_unexplained;
	proctab_stats(&a->tab, &ps);
	s->proctab_size = ps.count;
	s->proctab_evictions = ps.evictions;
	s->proctab_bytes = ps.bytes;
	s->proctab_budget_evictions = ps.budget_evictions;
	s->rss_bytes = agent_rss();
	s->events_suppressed = filter_suppressed(&a->filt);
	s->forwarding = a->forwarding;
	if (a->forwarding) {
		s->connected = collector_connected(a->col);
		s->collector = collector_current(a->col);
		struct collector_stats cs;
		collector_stats(a->col, &cs);
		s->events_sent = cs.sent;
		s->events_dropped = cs.dropped;
		s->queue_bytes = cs.queue_bytes;
		s->reconnects = cs.reconnects;
		s->relp_errors = cs.relp_errors;
	}
	s->spooling = a->spooling;
	if (a->spooling) {
		struct spool_stats ss;
		spool_stats(a->spool, &ss);
		s->spool_bytes = ss.bytes;
		s->spooled = ss.appended;
		s->replayed = ss.replayed;
		s->spool_dropped = ss.dropped;
		s->spool_corrupt = ss.corrupt;
		s->spool_untrusted = ss.untrusted;
		s->spool_write_errors = ss.write_errors;
	}
}

/* Writes one encoded line to standard output, as text for the live view. */
static void
agent_output(struct agent *a, const char *line, size_t len)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(60000, 1);
	const char *text;
	size_t tlen;
	char err[160];

	if (a->tv && textview_format(a->tv, line, len, &text, &tlen, err, sizeof(err)) == 0) {
		output_line(&a->out, text, tlen);
		return;
	}
	if (a->tv && log_ratelimit_allow(&rl))
		log_warnx("text view: %s; writing the JSON line instead", err);
	output_line(&a->out, line, len);
}

/* Encodes and writes one event. */
static void
agent_emit(struct agent *a, struct hids_event *ev)
{
	size_t len;
	char *line;

	/* The agent's own records have no kernel time: they happen now. */
	if (ev->k.ts_ns == 0)
		ev->k.ts_ns = clock_ns(CLOCK_MONOTONIC);
	line = encode_event(&a->enc, ev, &len);
	if (a->forwarding)
		collector_enqueue(a->col, line, len);
	else
		agent_output(a, line, len);
	free(line);
	a->stats.events_emitted++;
}

/* Emits a record of the agent's own: lost or heartbeat. */
static void
agent_emit_meta(struct agent *a, enum ev_action action, uint64_t lost, const char *reason)
{
	struct hids_event ev;

	hids_event_init(&ev);
	ev.k.action = action;
	ev.lost = lost;
	ev.reason = reason;
	agent_collect_stats(a);
	ev.stats = &a->stats;
	agent_emit(a, &ev);
	hids_event_release(&ev);
}

/* Emits one filter rule's suppressed record. */
static void
agent_emit_summary_cb(const struct filter_summary *sum, void *arg)
{
	struct hids_event ev;

	hids_event_init(&ev);
	ev.k.action = EV_SUPPRESSED;
	ev.summary = sum;
	agent_emit(arg, &ev);
	hids_event_release(&ev);
}

/* Emits a suppressed record for every rule that suppressed anything since the last. */
static void
agent_flush_filter(struct agent *a)
{
	filter_flush(&a->filt, agent_emit_summary_cb, a);
}

/*
 * Reports lines the collector queue dropped, once it has room again, so the
 * lost record itself is not the next thing dropped.
 */
static void
agent_report_queue_drops(struct agent *a)
{
	uint64_t n;

	/*
	 * Reported only while connected: the record goes through the spool too,
	 * and during an outage it could be the next thing dropped, count and all.
	 */
	if (a->spooling && collector_connected(a->col) && (n = spool_take_dropped(a->spool)) > 0)
		agent_emit_meta(a, EV_LOST, n, "spool_full");
	if (!a->forwarding || (n = collector_take_dropped(a->col)) == 0)
		return;
	log_warnx("collector queue was full: %llu events dropped", (unsigned long long)n);
	agent_emit_meta(a, EV_LOST, n, "queue_full");
}

/* Emits one taken record: the loss before it, then its event unless filtered. */
static void
agent_emit_record(struct agent *a, struct capture_rec *r)
{
	struct hids_event ev;

	if (r->lost_before || r->lost_reason)
		agent_emit_meta(a, EV_LOST, r->lost_before, r->lost_reason);
	if (canary_match(a->canary, &r->k)) {
		/* The agent's own check, not an event of the host. */
		if (a->hasher && r->hash_slot >= 0)
			hasher_orphan(a->hasher, r->hash_slot, r->hash_gen, -1, "");
		capture_rec_done(&a->cap, r);
		return;
	}
	enrich_record(&a->en, r, &ev);
	if (a->hasher && r->hash_slot >= 0) {
		/* It goes without its hash (pending); the exit will carry it. */
		hasher_orphan(a->hasher, r->hash_slot, r->hash_gen, ev.proc.pid, ev.proc.entity_id);
		a->stats.hash_pending++;
	}
	if (!filter_event(&a->filt, &a->tab, &ev, a->procfd))
		agent_emit(a, &ev);
	hids_event_release(&ev);
	capture_rec_done(&a->cap, r);
}

/*
 * Emits the held records in order. An exec whose hash is not ready stops
 * the stream (every process's events, so that no process's events pass
 * its exec) until the hash comes or [hash] wait_ms after the kernel
 * reported the exec, whichever is first; the timer is armed for that.
 * Returns whether the list is empty.
 */
static bool
agent_emit_held(struct agent *a)
{
	struct capture_rec *r;
	uint64_t now = 0, wait_ns = (uint64_t)a->cfg.hash_wait_ms * 1000000u;

	while ((r = a->held) != NULL) {
		if (a->hasher == NULL)
			r->hash_slot = -1;
		if (r->hash_slot >= 0 && hasher_poll(a->hasher, r->hash_slot, r->hash_gen, &r->snap))
			r->hash_slot = -1;
		if (r->hash_slot >= 0 && !a->hash_nowait) {
			if (now == 0)
				now = clock_ns(CLOCK_MONOTONIC);
			if (now < r->k.ts_ns + wait_ns) {
				uint64_t left_us = (r->k.ts_ns + wait_ns - now) / 1000 + 1;
				struct timeval tv = { (time_t)(left_us / 1000000),
					(suseconds_t)(left_us % 1000000) };
				evtimer_add(a->ev_hashwait, &tv);
				return false;
			}
		}
		if ((a->held = r->next) == NULL)
			a->held_tail = NULL;
		r->next = NULL;
		agent_emit_record(a, r);
	}
	return true;
}

/* Hands hashes that came after their exec events to the process table. */
static void
agent_take_late_hashes(struct agent *a)
{
	struct process p;
	char entity_id[ENTITY_ID_LEN + 1];
	int32_t pid;

	if (a->hasher == NULL)
		return;
	process_init(&p);
	while (hasher_take_late(a->hasher, &pid, entity_id, &p))
		if (pid > 0)
			enrich_late_hash(&a->en, pid, entity_id, &p);
}

/* Turns every queued record into output lines. */
static void
agent_drain_queue(struct agent *a)
{
	size_t depth;
	uint64_t lost_after;
	const char *reason_after;
	struct capture_rec *r = capture_take_all(&a->cap, &depth, &lost_after, &reason_after), *n;

	a->stats.queue_depth = depth;
	agent_take_late_hashes(a);
	for (; r; r = n) {
		n = r->next;
		r->next = NULL;
		if (a->held_tail)
			a->held_tail->next = r;
		else
			a->held = r;
		a->held_tail = r;
	}
	if (lost_after || reason_after) {
		a->held_lost += lost_after;
		a->held_lost_reason = reason_after;
	}
	if (agent_emit_held(a) && (a->held_lost || a->held_lost_reason)) {
		agent_emit_meta(a, EV_LOST, a->held_lost, a->held_lost_reason);
		a->held_lost = 0;
		a->held_lost_reason = NULL;
	}
	if ((lost_after = capture_take_forged(&a->cap)) > 0)
		agent_emit_meta(a, EV_LOST, lost_after, "forged");
	agent_report_queue_drops(a);
	if (!a->forwarding && output_flush(&a->out) == -1 && !a->stopping) {
		log_warnx("the event reader went away; stopping");
		a->stopping = true;
		event_base_loopbreak(a->base);
	}
}

/* A hash is ready, or an exec's wait is over: emit what can go. */
static void
hash_cb(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;
	uint64_t v;

	(void)what;
	if (fd != -1 && read(fd, &v, sizeof(v)) == -1 && errno != EAGAIN)
		log_warn("hasher: eventfd read");
	agent_drain_queue(a);
}

/*
 * Records are waiting: take them, then look again only after
 * AGENT_BATCH_MS, so a storm is handled in batches rather than one wake-up
 * per event. The capture thread is not slowed: it queues meanwhile.
 */
static void
notify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;
	struct timeval tv = { 0, AGENT_BATCH_MS * 1000 };
	(void)fd;
	(void)what;
	agent_drain_queue(a);
	event_del(a->ev_notify);
	evtimer_add(a->ev_batch, &tv);
}

/* The batch pause is over: drain what came meanwhile and listen again. */
static void
batch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;
	(void)fd;
	(void)what;
	agent_drain_queue(a);
	event_add(a->ev_notify, NULL);
}

static void
stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct agent *a = arg;
	(void)what;
	log_info("received signal %d; stopping", (int)sig);
	event_base_loopbreak(a->base);
}

/* SIGUSR1: logs every counter that applies, as one line. */
static void
usr1_cb(evutil_socket_t sig, short what, void *arg)
{
	struct agent *a = arg;
	size_t n, len = 0;
	const struct agent_stat_desc *d = agent_stats_list(&n);
	char line[2048];
	(void)sig;
	(void)what;
	agent_collect_stats(a);
	line[0] = '\0';
	for (size_t i = 0; i < n && len < sizeof(line); i++)
		if (agent_stats_has_group(&a->stats, d[i].group))
			len += (size_t)snprintf(line + len, sizeof(line) - len, " %s %llu",
			    d[i].name, (unsigned long long)agent_stats_value(&a->stats, &d[i]));
	log_info("counters:%s", line);
}

/* Logs each line of a config error report. */
static void
log_config_errors(char *report)
{
	char *save = NULL;
	for (char *l = strtok_r(report, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		log_error("%s", l);
}

/* Logs a key that changed but that only a restart applies. */
static void
restart_key_cb(const struct config_key *k, void *arg)
{
	(void)arg;
	log_warnx("[%s] %s changes take effect after a restart", k->section, k->name);
}

/* Re-arms the filter summary timer with the configured interval. */
static void
agent_arm_filter(struct agent *a)
{
	struct timeval tv = { (time_t)filter_interval_s(&a->filt), 0 };
	event_del(a->ev_filter);
	event_add(a->ev_filter, &tv);
}

/* Re-arms the heartbeat timer with the configured interval. */
static void
agent_arm_heartbeat(struct agent *a)
{
	struct timeval tv = { (time_t)a->cfg.heartbeat_interval_s, 0 };
	event_del(a->ev_heartbeat);
	if (a->cfg.heartbeat_interval_s > 0)
		event_add(a->ev_heartbeat, &tv);
}

/*
 * SIGHUP: reads host.os and the config again. A config with any error is refused and
 * the running one kept; collector, certificate, batch, heartbeat and log
 * level changes apply at once, without losing a queued line.
 */
static void
agent_reload(struct agent *a)
{
	struct config nc, old;
	char *report = NULL, err[512];
	size_t rlen = 0;
	SSL_CTX *ctx = NULL;
	FILE *mem;
	int r = 0;

	sdnotify_send("RELOADING=1");
	hostinfo_read(&a->os, NULL);
	encode_ctx_host_changed(&a->enc);
	config_defaults(&nc);
	if ((mem = open_memstream(&report, &rlen)) == NULL)
		fatal("open_memstream");
	if (a->config_path)
		r = config_load(&nc, a->config_path, mem);
	fclose(mem);
	if (r == -1) {
		log_config_errors(report);
		log_error("configuration reload refused; the running configuration stays");
		goto out;
	}
	if (a->forwarding != (nc.forward && !a->to_stdout)) {
		log_error("configuration reload refused: switching between standard output "
		    "and a collector needs a restart");
		goto out;
	}
	if (a->forwarding && (ctx = tls_ctx_new(&nc.col.tls, err, sizeof(err))) == NULL) {
		log_error("configuration reload refused: %s", err);
		goto out;
	}
	config_keep_restart_only(&nc, &a->cfg, restart_key_cb, NULL);
	if (a->to_stdout && !nc.max_line_set)
		nc.max_line_bytes = 0;
	/* Counts so far go out under the old rules; their processes keep their decision. */
	agent_drain_queue(a);
	agent_flush_filter(a);
	filter_install(&a->filt, &nc.filter, &a->tab);
	agent_arm_filter(a);
	old = a->cfg;
	a->cfg = nc;
	config_defaults(&nc);	/* its strings now belong to a->cfg */
	config_release(&old);
	log_set_level(a->cfg.log_level);
	a->enc.max_line_bytes = a->cfg.max_line_bytes;
	agent_arm_heartbeat(a);
	if (a->forwarding)
		collector_reconfigure(a->col, ctx, a->hostname);
	log_info("configuration reloaded from %s", a->config_path ? a->config_path : "built-in defaults");
out:
	config_release(&nc);
	free(report);
	sdnotify_send("READY=1");
}

static void
hup_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	agent_reload(arg);
}

static void
filter_cb(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;
	(void)fd;
	(void)what;
	agent_drain_queue(a);
	agent_flush_filter(a);
	if (!a->forwarding)
		output_flush(&a->out);
}

static void
heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;
	(void)fd;
	(void)what;
	agent_sync_clocks(a);
	gethostname(a->hostname, sizeof(a->hostname) - 1);
	agent_drain_queue(a);
	agent_emit_meta(a, EV_HEARTBEAT, 0, "interval");
	agent_report_queue_drops(a);
	if (!a->forwarding)
		output_flush(&a->out);
}

/* While stopping: ends the loop once the collector has everything, or at the deadline. */
static void
stopcheck_cb(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;
	struct collector_stats cs;

	(void)fd;
	(void)what;

	collector_flush(a->col);	/* also frees what TCP has acknowledged */
	if (collector_safe_to_stop(a->col) || now_mono_ms() >= a->stop_deadline_ms) {
		collector_stats(a->col, &cs);
		if (cs.queued && !a->spooling)
			log_warnx("stopping with %zu events not delivered to the collector",
			    cs.queued);
		else if (a->spooling && (cs.queued || spool_pending(a->spool)))
			log_info("stopping; undelivered events stay in the spool for the next start");
		collector_close_session(a->col);
		event_base_loopexit(a->base, NULL);
	}
}

/* Gives the collector stop_timeout_s to take what is queued. */
static void
agent_flush_collector(struct agent *a)
{
	struct timeval tv = { 0, 50000 };
	struct collector_stats cs;

	if (!a->forwarding)
		return;
	if (collector_safe_to_stop(a->col)) {
		collector_stats(a->col, &cs);
		if (a->spooling && (cs.queued || spool_pending(a->spool)))
			log_info("stopping; undelivered events stay in the spool for the next start");
		return;
	}
	a->stop_deadline_ms = now_mono_ms() + a->cfg.col.stop_timeout_s * 1000ull;
	a->ev_stopcheck = event_new(a->base, -1, EV_PERSIST, stopcheck_cb, a);
	event_add(a->ev_stopcheck, &tv);
	collector_flush(a->col);
	event_base_dispatch(a->base);
}

static void
fsync_cb(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;
	(void)fd;
	(void)what;
	spool_sync(a->spool);
}

/*
 * Opens the spool if one is configured. An unusable directory is not
 * fatal: the agent says so and runs with the memory queue alone.
 */
static void
agent_open_spool(struct agent *a)
{
	char err[512];
	struct timeval tv;
	struct spool_stats st;

	if (a->cfg.spool_dir == NULL)
		return;
	if ((a->spool = spool_new(a->cfg.spool_dir, a->cfg.spool_max_bytes,
	    a->cfg.spool_fsync, err, sizeof(err))) == NULL) {
		log_error("spool: %s; running without a spool (memory queue only)", err);
		return;
	}
	a->spooling = true;
	collector_set_spool(a->col, a->spool);
	spool_stats(a->spool, &st);
	if (st.bytes > 0)
		log_info("spool: %llu bytes from a previous run will be sent first",
		    (unsigned long long)st.bytes);
	if (a->cfg.spool_fsync == SPOOL_FSYNC_INTERVAL) {
		tv.tv_sec = a->cfg.spool_fsync_interval_ms / 1000;
		tv.tv_usec = (a->cfg.spool_fsync_interval_ms % 1000) * 1000;
		a->ev_fsync = event_new(a->base, -1, EV_PERSIST, fsync_cb, a);
		event_add(a->ev_fsync, &tv);
	}
}

/* The canary asks how many kernel messages arrived so far. */
static uint64_t
agent_canary_seen_cb(void *arg)
{
	struct agent *a = arg;
	struct capture_stats st;

	capture_stats(&a->cap, &st);
	return st.seen;
}

/* The canary wants what is queued classified before it judges. */
static void
agent_canary_drain_cb(void *arg)
{
	agent_drain_queue(arg);
}

/* The kernel reported none of the canary: events may be missing. */
static void
agent_canary_silent_cb(void *arg)
{
	agent_emit_meta(arg, EV_LOST, 0, "connector_silent");
}

/*
 * The wall clock was set: events queued so far keep the old offset, those
 * after get the new one at once, not at the next heartbeat.
 */
static void
agent_clock_stepped_cb(void *arg)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(60000, 3);
	struct agent *a = arg;
	int64_t before = a->enc.mono_to_real_ns;

	agent_drain_queue(a);
	agent_sync_clocks(a);
	if (log_ratelimit_allow(&rl))
		log_info("the wall clock was set (by %+.3f s); @timestamp follows it",
		    (double)(a->enc.mono_to_real_ns - before) / 1e9);
}

/* The metrics endpoint asks for the counters at a scrape. */
static const struct agent_stats *
agent_metrics_cb(void *arg)
{
	struct agent *a = arg;

	agent_collect_stats(a);
	return &a->stats;
}

/*
 * Starts the metrics endpoint if configured. One that cannot listen is not
 * fatal: detection matters more than its monitoring, and the scraper sees
 * the endpoint down.
 */
static void
agent_start_metrics(struct agent *a)
{
	char err[512];

	if (a->cfg.metrics_listen == NULL)
		return;
	a->metrics = metrics_new(a->base, a->cfg.metrics_listen, agent_metrics_cb, a,
	    HIDS_VERSION, err, sizeof(err));
	if (a->metrics == NULL)
		log_error("metrics: %s; running without the metrics endpoint", err);
}

/* Sets up the loop's events; fatal on failure (before the loop runs). */
static void
agent_setup_loop(struct agent *a)
{
	if ((a->base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	a->ev_notify = event_new(a->base, capture_notify_fd(&a->cap), EV_READ | EV_PERSIST, notify_cb, a);
	a->ev_batch = evtimer_new(a->base, batch_cb, a);
	a->ev_int = evsignal_new(a->base, SIGINT, stop_cb, a);
	a->ev_term = evsignal_new(a->base, SIGTERM, stop_cb, a);
	a->ev_usr1 = evsignal_new(a->base, SIGUSR1, usr1_cb, a);
	a->ev_hup = evsignal_new(a->base, SIGHUP, hup_cb, a);
	a->ev_heartbeat = event_new(a->base, -1, EV_PERSIST, heartbeat_cb, a);
	a->ev_filter = event_new(a->base, -1, EV_PERSIST, filter_cb, a);
	a->ev_hashwait = evtimer_new(a->base, hash_cb, a);
	if (a->hasher && (a->ev_hash = event_new(a->base, hasher_notify_fd(a->hasher),
	    EV_READ | EV_PERSIST, hash_cb, a)) == NULL)
		fatalx("cannot create loop events");
	if (a->ev_hash)
		event_add(a->ev_hash, NULL);
	if (!a->ev_notify || !a->ev_batch || !a->ev_int || !a->ev_term || !a->ev_usr1 ||
	    !a->ev_hup || !a->ev_heartbeat || !a->ev_filter)
		fatalx("cannot create loop events");
	event_add(a->ev_hup, NULL);
	event_add(a->ev_notify, NULL);
	event_add(a->ev_int, NULL);
	event_add(a->ev_term, NULL);
	event_add(a->ev_usr1, NULL);
	agent_arm_heartbeat(a);
	agent_arm_filter(a);
	a->canary = canary_new(a->base, a->cfg.canary_interval_s, config_kernel_mask(&a->cfg),
	    &(struct canary_hooks){ agent_canary_seen_cb, agent_canary_drain_cb,
	    agent_canary_silent_cb, a });
	a->clockstep = clockstep_new(a->base, agent_clock_stepped_cb, a);
}

/* Frees the loop's events. */
static void
agent_free_loop(struct agent *a)
{
	struct event *evs[] = { a->ev_notify, a->ev_batch, a->ev_int, a->ev_term, a->ev_usr1,
		a->ev_hup, a->ev_heartbeat, a->ev_filter, a->ev_stopcheck, a->ev_hash,
		a->ev_hashwait };
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i])
			event_free(evs[i]);
	if (a->ev_fsync)
		event_free(a->ev_fsync);
	canary_free(a->canary);
	clockstep_free(a->clockstep);
	collector_free(a->col);
	a->col = NULL;
	spool_free(a->spool);
	event_base_free(a->base);
}

/*
 * Subscribes. With the 6.6+ kernel filter, exec events get a socket of
 * their own, so that only they wake the capture thread (capture.c, split
 * mode); otherwise one socket brings every event. Exits on failure.
 */
static void
agent_subscribe(struct agent *a, uint32_t mask)
{
	uint32_t others = mask & ~CN_EV_EXEC;
	bool split = a->cfg.cap.exec_socket && (mask & CN_EV_EXEC) && (others & ~CN_EV_NONZERO_EXIT);
	char err[256];

	nlsource_init(&a->src_other);
	if (nlsource_subscribe(&a->src, split ? CN_EV_EXEC : mask, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (!split)
		return;
	if (nlsource_kernel_filter(&a->src)) {
		if (nlsource_open(&a->src_other, a->cfg.cap.rcvbuf, err, sizeof(err)) == 0 &&
		    nlsource_subscribe(&a->src_other, others, err, sizeof(err)) == 0 &&
		    nlsource_kernel_filter(&a->src_other))
			return;
		if (nlsource_is_open(&a->src_other)) {
			nlsource_unsubscribe(&a->src_other);
			nlsource_close(&a->src_other);
		}
		log_warnx("cannot give exec events a socket of their own; using one");
	}
	/* No filter for the exec socket after all: it must bring every event. */
	if (nlsource_subscribe(&a->src, mask, err, sizeof(err)) == -1)
		fatalx("%s", err);
}

/* Starts capture: socket, subscription, table seed, thread. Exits on failure. */
static void
agent_start_capture(struct agent *a)
{
	struct capture_config cc;
	struct privdrop_user user;
	char err[256];
	uint32_t mask = config_kernel_mask(&a->cfg);

	if ((a->procfd = procfs_open_root()) == -1)
		fatal("cannot open /proc");
	if (nlsource_open(&a->src, a->cfg.cap.rcvbuf, err, sizeof(err)) == -1)
		fatalx("%s", err);
	agent_subscribe(a, mask);
	log_info("subscribed to the process-events connector (%s, receive buffer %zu bytes)",
	    nlsource_is_open(&a->src_other) ? "exec events on their own socket, kernel-side filters" :
	    nlsource_kernel_filter(&a->src) ? "kernel-side event filter" : "all events",
	    nlsource_rcvbuf(&a->src));
	/* Before any other thread starts: capabilities are per thread. */
	if (privdrop_pick_user(a->cfg.user, &user, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (user.set && a->forwarding && a->cfg.spool_dir &&
	    spool_prepare_owner(a->cfg.spool_dir, user.uid, user.gid, err, sizeof(err)) == -1)
		log_warnx("spool: %s", err);
	if (privdrop_apply(&user, err, sizeof(err)) == -1)
		fatalx("cannot drop privileges: %s", err);
	if (user.set)
		log_info("running as user %s (uid %u, gid %u)", user.name, (unsigned)user.uid,
		    (unsigned)user.gid);
	if (!(privdrop_effective() & (1ull << CAP_SYS_PTRACE)))
		log_warnx("no CAP_SYS_PTRACE: other users' processes are reported without "
		    "executable and working directory (under /proc hidepid=, without any "
		    "/proc details)");
	if ((a->names = names_new()) == NULL)
		fatalx("cannot start the name resolver thread");
	cc = a->cfg.cap;
	cc.threads = a->cfg.threads;
	cc.emit_mask = mask;
	cc.nonzero_exit_only = a->cfg.nonzero_exit_only;
	cc.max_args = a->cfg.max_args_bytes;
	procfs_set_cmdline_cap(a->cfg.cap.cmdline_max_bytes);
	if (procfs_env_spec_parse(a->cfg.env_vars ? a->cfg.env_vars : CONFIG_ENV_VARS_DEFAULT,
	    &a->env_spec, err, sizeof(err)) == -1)
		fatalx("[process] env_vars: %s", err);
	a->env_spec.value_max = a->cfg.env_value_max_bytes;
	a->env_spec.read_max = a->cfg.cap.environ_max_bytes;
	procfs_set_env(&a->env_spec);
	a->hasher = hasher_new(&(struct hasher_config){ .algs = a->cfg.hash_algs,
	    .max_file_bytes = a->cfg.hash_max_file_bytes,
	    .bytes_per_second = a->cfg.hash_bytes_per_second,
	    .cache_entries = a->cfg.hash_cache_entries });
	if (a->cfg.hash_algs && a->hasher == NULL)
		fatalx("cannot start the hasher thread");
	cc.hasher = a->hasher;
	/* Start capturing before the scan, so nothing started during it is missed. */
	if (capture_start(&a->cap, &cc, &a->src,
	    nlsource_is_open(&a->src_other) ? &a->src_other : NULL, a->procfd) == -1)
		fatalx("cannot start the capture thread");
	size_t n = proctab_seed(&a->tab, a->procfd);
	log_info("process table seeded with %zu processes", n);
}

/* Whether the text view is coloured, for --color=WHEN on standard output. */
static bool
agent_view_color(const char *when)
{
	const char *term = getenv("TERM"), *nocolor = getenv("NO_COLOR");

	if (strcmp(when, "always") == 0)
		return true;
	if (strcmp(when, "never") == 0)
		return false;
	return isatty(STDOUT_FILENO) && !(nocolor && *nocolor) &&
	    !(term && strcmp(term, "dumb") == 0);
}

/* Checks the text view's options together; exits 2 on a bad combination. */
static void
agent_check_view_args(const struct view_args *v, bool check_only, bool to_stdout)
{
	const char *bad = NULL;

	if (strcmp(v->color, "auto") != 0 && strcmp(v->color, "always") != 0 &&
	    strcmp(v->color, "never") != 0)
		bad = "--color takes auto, always or never";
	else if (v->read_path && (check_only || to_stdout))
		bad = "--read cannot be combined with --stdout or --check-config";
	else if (v->read_path && v->format_set && !v->text)
		bad = "--read shows text only";
	if (bad == NULL)
		return;
	fprintf(stderr, "hids-agent: %s\n", bad);
	usage(stderr);
	exit(2);
}

/* --read: shows a file of JSON lines as text; returns the exit code. */
static int
agent_read_view(const struct view_args *v)
{
	struct textview_read_stats st;
	struct output out;
	struct textview *tv;
	bool in = strcmp(v->read_path, "-") == 0;
	int fd = in ? STDIN_FILENO : open(v->read_path, O_RDONLY | O_CLOEXEC), rc;

	if (fd == -1) {
		fprintf(stderr, "hids-agent: %s: %s\n", v->read_path, strerror(errno));
		return 1;
	}
	tv = textview_new(agent_view_color(v->color));
	output_init(&out, STDOUT_FILENO);
	rc = textview_read(tv, fd, in ? "stdin" : v->read_path, &out, stderr, &st);
	output_release(&out);
	textview_free(tv);
	if (!in)
		close(fd);
	return rc == -1 || st.invalid ? 1 : 0;
}

/* Parses the command line into a and the flags; exits on usage errors. */
static void
agent_parse_args(int argc, char **argv, const char **config_path, bool *check_only,
    bool *verbose, bool *to_stdout, struct view_args *view)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "stdout", no_argument, NULL, 'S' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "format", required_argument, NULL, 'F' },
		{ "read", required_argument, NULL, 'R' },
		{ "color", optional_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': *config_path = optarg; break;
		case 'S': *to_stdout = true; break;
		case 'C': *check_only = true; break;
		case 'v': *verbose = true; break;
		case 'V': printf("hids-agent %s\n", HIDS_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		case 'R': view->read_path = optarg; break;
		case 'K': view->color = optarg ? optarg : "always"; break;
		case 'F':
			view->format_set = true;
			if (optarg && (strcmp(optarg, "text") == 0 || strcmp(optarg, "json") == 0)) {
				view->text = strcmp(optarg, "text") == 0;
				break;
			}
			fprintf(stderr, "hids-agent: --format takes json or text\n");
			usage(stderr);
			exit(2);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hids-agent: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		exit(2);
	}
	agent_check_view_args(view, *check_only, *to_stdout);
}

int
main(int argc, char **argv)
{
	static struct agent agent;
	struct agent *a = &agent;
	const char *config_path = NULL;
	bool check_only = false, verbose = false, to_stdout = false;
	struct view_args view = { .color = "auto" };

	agent_parse_args(argc, argv, &config_path, &check_only, &verbose, &to_stdout, &view);
	/* Before any secret is read: a core would hold the client key. */
	if (privdrop_no_dump() == -1)
		fatal("prctl(PR_SET_DUMPABLE)");
	if (view.read_path)
		return agent_read_view(&view);
	to_stdout = to_stdout || view.text;
	a->to_stdout = to_stdout;
	config_defaults(&a->cfg);
	/*
	 * Only a default config that is not there means built-in defaults; one
	 * the agent may not read (run as a user outside the hids-agent group)
	 * is used, so that config_load says why it cannot open it.
	 */
	if (config_path == NULL &&
	    (faccessat(AT_FDCWD, CONFIG_DEFAULT_PATH, F_OK, AT_EACCESS) == 0 ||
	    (errno != ENOENT && errno != ENOTDIR)))
		config_path = CONFIG_DEFAULT_PATH;
	if (config_path && config_load(&a->cfg, config_path, stderr) == -1)
		return 1;
	a->config_path = config_path;
	if (check_only) {
		/* The switch itself happens only as root; the name must exist anyway. */
		if (a->cfg.user && a->cfg.user[0] && getpwnam(a->cfg.user) == NULL) {
			fprintf(stderr, "%s: [agent] user: no user '%s'\n", config_path, a->cfg.user);
			return 1;
		}
		printf("%s: configuration is valid\n", config_path ? config_path : "built-in defaults");
		return 0;
	}
	log_init("hids-agent", verbose ? LOG_LVL_DEBUG : a->cfg.log_level, a->cfg.log_target);
	a->forwarding = a->cfg.forward && !to_stdout;
	if (to_stdout && !a->cfg.max_line_set)
		a->cfg.max_line_bytes = 0;
	signal(SIGPIPE, SIG_IGN);

	agent_identity(a);
	hostinfo_read(&a->os, NULL);
	proctab_init(&a->tab, a->cfg.table_max_entries, a->cfg.table_args_bytes,
	    a->host_id[0] ? a->host_id : a->hostname);
	proctab_set_budget(&a->tab, a->cfg.table_max_bytes, a->cfg.table_path_bytes);
	filter_init(&a->filt);
	filter_install(&a->filt, &a->cfg.filter, NULL);
	if (filter_rule_count(&a->filt))
		log_info("filter: %zu rules, a summary every %u s", filter_rule_count(&a->filt),
		    filter_interval_s(&a->filt));
	a->enc.hostname = a->hostname;
	a->enc.host_id = a->host_id[0] ? a->host_id : NULL;
	a->enc.os = &a->os;
	a->enc.agent_id = a->agent_id;
	a->enc.agent_version = HIDS_VERSION;
	a->enc.ephemeral_id = a->ephemeral_id;
	a->enc.clk_tck = sysconf(_SC_CLK_TCK);
	a->enc.max_line_bytes = a->cfg.max_line_bytes;
	agent_sync_clocks(a);
	output_init(&a->out, STDOUT_FILENO);
	if (view.text)
		a->tv = textview_new(agent_view_color(view.color));

	agent_start_capture(a);
	a->en = (struct enricher){ .tab = &a->tab, .names = a->names, .procfd = a->procfd,
	    .enc = &a->enc, .stats = &a->stats, .max_args = a->cfg.max_args_bytes,
	    .mono_to_boot_ns = a->en.mono_to_boot_ns };
	agent_setup_loop(a);
	if (a->forwarding) {
		char err[512];
		uint64_t seed;
		if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
			seed = (uint64_t)time(NULL);
		if ((a->col = collector_new(a->base, &a->cfg.col, a->hostname, seed, err,
		    sizeof(err))) == NULL)
			fatalx("collector: %s", err);
		agent_open_spool(a);
		collector_start(a->col);
	}
	agent_start_metrics(a);
	log_info("ready");
	sdnotify_send("READY=1");
	agent_emit_meta(a, EV_HEARTBEAT, 0, "start");
	agent_drain_queue(a);

	event_base_dispatch(a->base);

	sdnotify_send("STOPPING=1");
	nlsource_unsubscribe(&a->src);
	if (nlsource_is_open(&a->src_other))
		nlsource_unsubscribe(&a->src_other);
	capture_stop(&a->cap);
	a->hash_nowait = true;
	agent_drain_queue(a);
	capture_release(&a->cap);
	agent_flush_filter(a);
	procfs_set_env(NULL);
	procfs_env_spec_release(&a->env_spec);
	agent_emit_meta(a, EV_HEARTBEAT, 0, "stop");
	agent_flush_collector(a);
	output_release(&a->out);
	textview_free(a->tv);
	metrics_free(a->metrics);
	agent_free_loop(a);
	hasher_free(a->hasher);
	a->hasher = NULL;
	names_free(a->names);
	a->names = NULL;
	proctab_release(&a->tab);
	filter_release(&a->filt);
	nlsource_close(&a->src);
	if (nlsource_is_open(&a->src_other))
		nlsource_close(&a->src_other);
	close(a->procfd);
	config_release(&a->cfg);
	encode_ctx_release(&a->enc);
	host_os_release(&a->os);
	procfs_release_scratch();
	log_info("stopped");
	return 0;
}
