/*
 * config.c: parses the INI file with libinih. inih gives the handler no
 * line number, so the reader below counts lines and the handler reports
 * file:line: message for each bad key or value, going on to the end, so
 * the operator sees every mistake at once.
 */
#include "config.h"
#include "metrics.h"
#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONFIG_MAX_LINE 4096	/* longest line accepted */

struct parse_state {
	struct config *c;
	const char *name;
	FILE *errout;
	int line;
	int errors;
	FILE *fp;		/* file input */
	const char *text;	/* or string input */
	char *linebuf;
};

/* Sets every value to its built-in default. */
void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->log_level = LOG_LVL_INFO;
	c->log_target = LOG_TO_STDERR;
	c->heartbeat_interval_s = 60;
	c->canary_interval_s = 30;
	c->emit_mask = CN_EV_FORK | CN_EV_EXEC | CN_EV_UID | CN_EV_GID | CN_EV_SID |
	    CN_EV_PTRACE | CN_EV_COMM | CN_EV_COREDUMP | CN_EV_EXIT;
	c->threads = false;
	c->prio = CAPTURE_PRIO_FIFO;
	c->prio_value = 1;
	c->max_rt_cpu_percent = 50;
	c->exec_socket = true;
	c->rcvbuf = 8u << 20;
	c->queue_max_bytes = 4u << 20;
	c->queue_max_records = 65536;
	c->max_args_bytes = 64u << 10;
	c->cmdline_max_bytes = 256u << 10;
	c->table_max_entries = 32768;
	c->table_args_bytes = 2048;
	c->table_max_bytes = 64u << 20;
	c->table_path_bytes = 1024;
	c->env_value_max_bytes = 1024;
	c->hash_algs = HASH_ALG_SHA256;
	c->hash_max_file_bytes = 64u << 20;
	c->hash_bytes_per_second = 32u << 20;
	c->hash_wait_ms = 50;
	c->hash_cache_entries = 4096;
	c->environ_max_bytes = 64u << 10;
	c->max_line_bytes = 0;
	c->col.batch_events = 256;
	c->col.batch_bytes = 256u << 10;
	c->col.flush_interval_ms = 50;
	c->col.queue_max_bytes = 8u << 20;
	c->col.backoff_initial_ms = 250;
	c->col.backoff_max_ms = 30000;
	c->col.healthy_after_s = 30;
	c->col.connect_timeout_s = 10;
	c->col.stall_timeout_s = 15;
	c->col.stop_timeout_s = 5;
	c->col.start_jitter_ms = 1000;
	c->col.protocol = PROTO_NDJSON;
	c->col.relp_window = 128;
	c->spool_max_bytes = 256ull << 20;
	c->spool_fsync = SPOOL_FSYNC_INTERVAL;
	c->spool_fsync_interval_ms = 1000;
	filter_rules_init(&c->filter);
}

/* Frees the strings a config owns. */
void
config_release(struct config *c)
{
	collector_config_release(&c->col);
	free(c->spool_dir);
	c->spool_dir = NULL;
	free(c->user);
	c->user = NULL;
	free(c->metrics_listen);
	c->metrics_listen = NULL;
	filter_rules_release(&c->filter);
	free(c->env_vars);
	c->env_vars = NULL;
}

/* Returns the event types to ask of the kernel. */
uint32_t
config_kernel_mask(const struct config *c)
{
	uint32_t m = c->emit_mask;
	if ((m & CN_EV_EXIT) && c->nonzero_exit_only)
		m = (m & ~CN_EV_EXIT) | CN_EV_NONZERO_EXIT;
	if (m == (CN_EV_ALL & ~CN_EV_NONZERO_EXIT))
		m = CN_EV_ALL;
	return m;
}

static void
perr(struct parse_state *st, const char *fmt, ...) HIDS_PRINTF(2, 3);

/* Reports one error as file:line: message. */
static void
perr(struct parse_state *st, const char *fmt, ...)
{
	va_list ap;
	st->errors++;
	if (st->errout == NULL)
		return;
	if (st->line > 0)
		fprintf(st->errout, "%s:%d: ", st->name, st->line);
	else
		fprintf(st->errout, "%s: ", st->name);
	va_start(ap, fmt);
	vfprintf(st->errout, fmt, ap);
	va_end(ap);
	fputc('\n', st->errout);
}

/* Parses "fork,exec,..." into a kernel mask. */
static int
parse_events(struct parse_state *st, const char *v, uint32_t *mask)
{
	char *copy = xstrdup(v), *save = NULL, *tok;
	uint32_t m = 0;
	int rc = 0;

	for (tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		enum ev_action a;
		if (strcmp(tok, "all") == 0) {
			m |= CN_EV_ALL & ~CN_EV_NONZERO_EXIT;
			continue;
		}
		/* The names before Elastic Defend's (exit, uid, ...) still work in old configs. */
		if (ev_action_parse(tok, &a) == -1 && ev_action_parse_old(tok, &a) == -1) {
			perr(st, "unknown event type '%s' (expected fork, exec, end, uid_change, "
			    "gid_change, session_id_change, ptrace, comm, coredump or all)", tok);
			rc = -1;
			continue;
		}
		m |= ev_action_kernel_bit(a);
	}
	free(copy);
	if (rc == 0 && m == 0) {
		perr(st, "no event types given");
		rc = -1;
	}
	if (rc == 0)
		*mask = m;
	return rc;
}

/* Parses "fifo:N", "nice:N" or "normal". */
static int
parse_priority(struct parse_state *st, const char *v, struct config *c)
{
	int64_t n;
	if (strcmp(v, "normal") == 0) {
		c->prio = CAPTURE_PRIO_NORMAL;
		c->prio_value = 0;
		return 0;
	}
	if (strncmp(v, "fifo:", 5) == 0 && parse_i64(v + 5, 1, 99, &n) == 0) {
		c->prio = CAPTURE_PRIO_FIFO;
		c->prio_value = (int)n;
		return 0;
	}
	if (strncmp(v, "nice:", 5) == 0 && parse_i64(v + 5, -20, 19, &n) == 0) {
		c->prio = CAPTURE_PRIO_NICE;
		c->prio_value = (int)n;
		return 0;
	}
	perr(st, "bad priority '%s' (expected fifo:1..99, nice:-20..19 or normal)", v);
	return -1;
}

/* Parses a size into *out, reporting a range error. */
static void
set_size(struct parse_state *st, const char *key, const char *v, uint64_t min,
    uint64_t max, size_t *out)
{
	uint64_t n;
	if (parse_size(v, min, max, &n) == -1) {
		perr(st, "bad value '%s' for %s (a size from %llu to %llu bytes; "
		    "K, M, G suffixes allowed)", v, key, (unsigned long long)min,
		    (unsigned long long)max);
		return;
	}
	*out = (size_t)n;
}

/* Parses a count into *out, reporting a range error. */
static void
set_uint(struct parse_state *st, const char *key, const char *v, uint64_t min,
    uint64_t max, unsigned *out)
{
	uint64_t n;
	if (parse_u64(v, min, max, &n) == -1) {
		perr(st, "bad value '%s' for %s (a number from %llu to %llu)", v, key,
		    (unsigned long long)min, (unsigned long long)max);
		return;
	}
	*out = (unsigned)n;
}

/* Parses a boolean into *out, reporting an error. */
static void
set_bool(struct parse_state *st, const char *key, const char *v, bool *out)
{
	if (parse_bool(v, out) == -1)
		perr(st, "bad value '%s' for %s (expected yes or no)", v, key);
}

static bool
is(const char *section, const char *key, const char *s, const char *k)
{
	return strcmp(section, s) == 0 && strcmp(key, k) == 0;
}

/*
 * Replaces *dst with a copy of a file's path, and reports it if the agent
 * cannot read it. It opens the file rather than asking access(): that
 * answers for the real uid without capabilities, not for the agent as it
 * will read the file (the hids-agent user through its group, or root).
 * The path is kept even then, so that the one error is not followed by
 * others about the key missing (the config is refused anyway).
 */
static void
set_file(struct parse_state *st, const char *key, const char *v, char **dst)
{
	int fd = open(v, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd == -1)
		perr(st, "cannot read %s '%s': %s", key, v, strerror(errno));
	else
		close(fd);
	free(*dst);
	*dst = xstrdup(v);
}

/* Parses comma-separated base64 SHA-256 SPKI pins. */
static void
set_pins(struct parse_state *st, const char *v, struct tls_config *tls)
{
	char *copy = xstrdup(v), *save = NULL, *tok;
	tls->npins = 0;
	for (tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (tls->npins == TLS_MAX_PINS) {
			perr(st, "more than %d pins", TLS_MAX_PINS);
			break;
		}
		if (tls_pin_parse(tok, tls->pins[tls->npins]) == -1) {
			perr(st, "bad pin_sha256 '%s' (expected the base64 of a 32-byte SHA-256)", tok);
			continue;
		}
		tls->npins++;
	}
	free(copy);
}

/* Handles one key of [collector]; false if the key is unknown. */
static bool
collector_key(struct parse_state *st, const char *key, const char *v)
{
	struct collector_config *col = &st->c->col;
	char err[256];

	if (strcmp(key, "address") == 0) {
		if (collector_parse_addresses(v, col, err, sizeof(err)) == -1)
			perr(st, "%s", err);
		else
			st->c->forward = true;
	} else if (strcmp(key, "protocol") == 0) {
		if (strcmp(v, "ndjson") == 0)
			col->protocol = PROTO_NDJSON;
		else if (strcmp(v, "relp") == 0)
			col->protocol = PROTO_RELP;
		else
			perr(st, "bad protocol '%s' (expected ndjson or relp)", v);
	} else if (strcmp(key, "relp_window") == 0) {
		set_uint(st, key, v, 1, 65536, &col->relp_window);
	} else if (strcmp(key, "ca_file") == 0) {
		set_file(st, key, v, &col->ca_file);
	} else if (strcmp(key, "cert_file") == 0) {
		set_file(st, key, v, &col->cert_file);
	} else if (strcmp(key, "key_file") == 0) {
		set_file(st, key, v, &col->key_file);
	} else if (strcmp(key, "server_name") == 0) {
		free(col->server_name);
		col->server_name = xstrdup(v);
	} else if (strcmp(key, "pin_sha256") == 0) {
		set_pins(st, v, &col->tls);
	} else if (strcmp(key, "batch_events") == 0) {
		set_uint(st, key, v, 1, 65536, &col->batch_events);
	} else if (strcmp(key, "batch_bytes") == 0) {
		set_size(st, key, v, 1024, 16u << 20, &col->batch_bytes);
	} else if (strcmp(key, "flush_interval_ms") == 0) {
		set_uint(st, key, v, 1, 10000, &col->flush_interval_ms);
	} else if (strcmp(key, "queue_max_bytes") == 0) {
		set_size(st, key, v, 64u << 10, 4ull << 30, &col->queue_max_bytes);
	} else if (strcmp(key, "backoff_initial_ms") == 0) {
		set_uint(st, key, v, 10, 600000, &col->backoff_initial_ms);
	} else if (strcmp(key, "backoff_max_ms") == 0) {
		set_uint(st, key, v, 10, 3600000, &col->backoff_max_ms);
	} else if (strcmp(key, "healthy_after_s") == 0) {
		set_uint(st, key, v, 1, 86400, &col->healthy_after_s);
	} else if (strcmp(key, "connect_timeout_s") == 0) {
		set_uint(st, key, v, 1, 600, &col->connect_timeout_s);
	} else if (strcmp(key, "stall_timeout_s") == 0) {
		set_uint(st, key, v, 0, 3600, &col->stall_timeout_s);
	} else if (strcmp(key, "stop_timeout_s") == 0) {
		set_uint(st, key, v, 0, 600, &col->stop_timeout_s);
	} else if (strcmp(key, "start_jitter_ms") == 0) {
		set_uint(st, key, v, 0, 600000, &col->start_jitter_ms);
	} else if (strcmp(key, "sndbuf") == 0) {
		set_size(st, key, v, 0, 64u << 20, &col->sndbuf);
	} else {
		return false;
	}
	return true;
}

/* Handles one key of [spool]; false if the key is unknown. */
static bool
spool_key(struct parse_state *st, const char *key, const char *v)
{
	struct config *c = st->c;
	uint64_t n;

	if (strcmp(key, "dir") == 0) {
		free(c->spool_dir);
		c->spool_dir = v[0] ? xstrdup(v) : NULL;
		if (v[0] && v[0] != '/')
			perr(st, "spool dir must be an absolute path");
	} else if (strcmp(key, "max_bytes") == 0) {
		if (parse_size(v, 1u << 20, 1ull << 40, &n) == -1)
			perr(st, "bad value '%s' for max_bytes (a size from 1M to 1024G)", v);
		else
			c->spool_max_bytes = n;
	} else if (strcmp(key, "fsync") == 0) {
		if (strcmp(v, "always") == 0)
			c->spool_fsync = SPOOL_FSYNC_ALWAYS;
		else if (strcmp(v, "interval") == 0)
			c->spool_fsync = SPOOL_FSYNC_INTERVAL;
		else if (strcmp(v, "never") == 0)
			c->spool_fsync = SPOOL_FSYNC_NEVER;
		else
			perr(st, "bad fsync '%s' (expected always, interval or never)", v);
	} else if (strcmp(key, "fsync_interval_ms") == 0) {
		set_uint(st, key, v, 10, 60000, &c->spool_fsync_interval_ms);
	} else {
		return false;
	}
	return true;
}

/* Handles [metrics] listen: an empty value turns the endpoint off. */
static void
set_metrics_listen(struct parse_state *st, const char *v)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	char err[256];

	free(st->c->metrics_listen);
	st->c->metrics_listen = NULL;
	if (v[0] == '\0')
		return;
	if (metrics_parse_listen(v, &ss, &sslen, err, sizeof(err)) == -1)
		perr(st, "%s", err);
	else
		st->c->metrics_listen = xstrdup(v);
}

/*
 * Returns the rule name of a "filter NAME" section (copied into buf), or
 * NULL for any other section.
 */
static const char *
filter_section(const char *section, char *buf, size_t size)
{
	size_t n;

	if (strncmp(section, "filter", 6) != 0 || (section[6] != ' ' && section[6] != '\t'))
		return NULL;
	section += 6;
	section += strspn(section, " \t");
	n = strlen(section);
	while (n > 0 && (section[n - 1] == ' ' || section[n - 1] == '\t'))
		n--;
	if (n >= size)
		n = size - 1;
	memcpy(buf, section, n);
	buf[n] = '\0';
	return buf;
}

/* Handles one key of [filter] or [filter NAME]; false if the section is neither. */
static bool
filter_key(struct parse_state *st, const char *section, const char *key, const char *v)
{
	char name[128], err[256];
	struct filter_rule *r;
	int rc;

	if (strcmp(section, "filter") == 0) {
		rc = filter_global_key(&st->c->filter, key, v, err, sizeof(err));
	} else if (filter_section(section, name, sizeof(name)) != NULL) {
		if ((r = filter_rules_find(&st->c->filter, name)) == NULL)
			return true;	/* its [filter NAME] line was refused */
		rc = filter_rule_key(r, key, v, err, sizeof(err));
	} else {
		return false;
	}
	if (rc == 1)
		perr(st, "unknown key '%s' in [%s]", key, section);
	else if (rc == -1)
		perr(st, "%s", err);
	return true;
}

/* Handles [process] env_vars: a list of names, checked as the capture thread will use it. */
static void
set_env_vars(struct parse_state *st, const char *v)
{
	struct procfs_env_spec spec;
	char err[160];

	if (procfs_env_spec_parse(v, &spec, err, sizeof(err)) == -1)
		perr(st, "bad env_vars: %s", err);
	else
		procfs_env_spec_release(&spec);
	free(st->c->env_vars);
	st->c->env_vars = xstrdup(v);
}

/* Parses [hash] algorithms: "sha256,sha1,md5" in any order, or empty for none. */
static void
set_hash_algs(struct parse_state *st, const char *v)
{
	char *copy = xstrdup(v), *save = NULL, *tok;
	unsigned algs = 0;

	for (tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (strcmp(tok, "sha256") == 0)
			algs |= HASH_ALG_SHA256;
		else if (strcmp(tok, "sha1") == 0)
			algs |= HASH_ALG_SHA1;
		else if (strcmp(tok, "md5") == 0)
			algs |= HASH_ALG_MD5;
		else
			perr(st, "bad hash algorithm '%s' (expected sha256, sha1 or md5)", tok);
	}
	free(copy);
	st->c->hash_algs = algs;
}

/* Handles one key of [hash]; false if the key is unknown. */
static bool
hash_key(struct parse_state *st, const char *key, const char *v)
{
	struct config *c = st->c;
	uint64_t n;

	if (strcmp(key, "algorithms") == 0) {
		set_hash_algs(st, v);
	} else if (strcmp(key, "max_file_bytes") == 0) {
		if (parse_size(v, 0, 1ull << 40, &n) == -1)
			perr(st, "bad value '%s' for max_file_bytes (a size up to 1024G)", v);
		else
			c->hash_max_file_bytes = n;
	} else if (strcmp(key, "bytes_per_second") == 0) {
		if (parse_size(v, 1u << 20, 1ull << 40, &n) == -1)
			perr(st, "bad value '%s' for bytes_per_second (a size from 1M to 1024G)", v);
		else
			c->hash_bytes_per_second = n;
	} else if (strcmp(key, "wait_ms") == 0) {
		set_uint(st, key, v, 0, 1000, &c->hash_wait_ms);
	} else if (strcmp(key, "cache_entries") == 0) {
		set_uint(st, key, v, 16, 1u << 20, &c->hash_cache_entries);
	} else {
		return false;
	}
	return true;
}

/* inih's callback: one key = value in one section. */
static int
config_handler(void *user, const char *section, const char *key, const char *v)
{
	struct parse_state *st = user;
	struct config *c = st->c;
	unsigned u;

	if (is(section, key, "agent", "log_level")) {
		if (log_level_parse(v, &c->log_level) == -1)
			perr(st, "bad log_level '%s' (expected error, warning, info or debug)", v);
	} else if (is(section, key, "agent", "log_target")) {
		if (strcmp(v, "stderr") == 0)
			c->log_target = LOG_TO_STDERR;
		else if (strcmp(v, "syslog") == 0)
			c->log_target = LOG_TO_SYSLOG;
		else
			perr(st, "bad log_target '%s' (expected stderr or syslog)", v);
	} else if (is(section, key, "agent", "heartbeat_interval")) {
		set_uint(st, key, v, 0, 86400, &c->heartbeat_interval_s);
	} else if (is(section, key, "agent", "canary_interval")) {
		set_uint(st, key, v, 0, 86400, &c->canary_interval_s);
	} else if (is(section, key, "agent", "user")) {
		free(c->user);
		c->user = xstrdup(v);
		if (strchr(v, '/') || strchr(v, ':') || strpbrk(v, " \t"))
			perr(st, "bad user '%s' (a user name, or empty to stay root)", v);
	} else if (is(section, key, "events", "types")) {
		parse_events(st, v, &c->emit_mask);
	} else if (is(section, key, "events", "exit")) {
		if (strcmp(v, "all") == 0)
			c->nonzero_exit_only = false;
		else if (strcmp(v, "nonzero") == 0)
			c->nonzero_exit_only = true;
		else
			perr(st, "bad value '%s' for exit (expected all or nonzero)", v);
	} else if (is(section, key, "events", "threads")) {
		set_bool(st, key, v, &c->threads);
	} else if (is(section, key, "capture", "priority")) {
		parse_priority(st, v, c);
	} else if (is(section, key, "capture", "max_rt_cpu_percent")) {
		set_uint(st, key, v, 1, 100, &c->max_rt_cpu_percent);
	} else if (is(section, key, "capture", "exec_socket")) {
		set_bool(st, key, v, &c->exec_socket);
	} else if (is(section, key, "capture", "rcvbuf")) {
		set_size(st, key, v, 64u << 10, 1u << 30, &c->rcvbuf);
	} else if (is(section, key, "capture", "cmdline_max_bytes")) {
		set_size(st, key, v, 4u << 10, 64u << 20, &c->cmdline_max_bytes);
	} else if (is(section, key, "capture", "environ_max_bytes")) {
		set_size(st, key, v, 4u << 10, 64u << 20, &c->environ_max_bytes);
	} else if (is(section, key, "capture", "queue_max_bytes")) {
		set_size(st, key, v, 64u << 10, 1u << 30, &c->queue_max_bytes);
	} else if (is(section, key, "capture", "queue_max_events")) {
		u = 0;
		set_uint(st, key, v, 16, 1u << 24, &u);
		if (u)
			c->queue_max_records = u;
	} else if (is(section, key, "process", "max_args_bytes")) {
		set_size(st, key, v, 256, 4u << 20, &c->max_args_bytes);
	} else if (is(section, key, "process", "table_max_entries")) {
		u = 0;
		set_uint(st, key, v, 64, 1u << 22, &u);
		if (u)
			c->table_max_entries = u;
	} else if (is(section, key, "process", "table_args_bytes")) {
		set_size(st, key, v, 0, 1u << 20, &c->table_args_bytes);
	} else if (is(section, key, "process", "table_max_bytes")) {
		set_size(st, key, v, 1u << 20, 4ull << 30, &c->table_max_bytes);
	} else if (is(section, key, "process", "table_path_bytes")) {
		set_size(st, key, v, 64, 4096, &c->table_path_bytes);
	} else if (is(section, key, "process", "env_vars")) {
		set_env_vars(st, v);
	} else if (is(section, key, "process", "env_value_max_bytes")) {
		set_size(st, key, v, 16, 64u << 10, &c->env_value_max_bytes);
	} else if ((strcmp(section, "collector") == 0 && collector_key(st, key, v)) ||
	    (strcmp(section, "spool") == 0 && spool_key(st, key, v)) ||
	    (strcmp(section, "hash") == 0 && hash_key(st, key, v)) ||
	    filter_key(st, section, key, v)) {
		/* handled */
	} else if (is(section, key, "metrics", "listen")) {
		set_metrics_listen(st, v);
	} else if (is(section, key, "output", "max_line_bytes")) {
		set_size(st, key, v, 0, 64u << 20, &c->max_line_bytes);
		c->max_line_set = true;
		if (c->max_line_bytes != 0 && c->max_line_bytes < 1024) {
			perr(st, "max_line_bytes must be 0 (no limit) or at least 1024");
			c->max_line_bytes = 1024;
		}
	} else if (strcmp(section, "agent") && strcmp(section, "events") &&
	    strcmp(section, "capture") && strcmp(section, "process") &&
	    strcmp(section, "output") && strcmp(section, "collector") &&
	    strcmp(section, "spool") && strcmp(section, "metrics") &&
	    strcmp(section, "hash")) {
		perr(st, "unknown section [%s]", section);
	} else {
		perr(st, "unknown key '%s' in [%s]", key, section);
	}
	return 1;	/* keep going: report every error */
}

/*
 * Says whether a line is one inih would call a syntax error: not blank, not
 * a comment, not an indented continuation, not [section], not key = value.
 * inih reports only the first such line; checking here reports them all.
 */
static bool
line_is_malformed(const char *line)
{
	const char *p = line;
	size_t len;

	if ((unsigned char)p[0] == 0xef && (unsigned char)p[1] == 0xbb && (unsigned char)p[2] == 0xbf)
		p += 3;	/* a UTF-8 byte order mark, which inih skips on the first line */

	if (*p == ' ' || *p == '\t')
		return false;	/* a continuation (INI_ALLOW_MULTILINE) or blank */
	len = strcspn(p, "\r\n");
	if (len == 0 || *p == ';' || *p == '#')
		return false;
	if (*p == '[')
		return memchr(p, ']', len) == NULL;
	return memchr(p, '=', len) == NULL && memchr(p, ':', len) == NULL;
}

/* Copies the next physical line of string input into buf; false at the end. */
static bool
next_string_line(struct parse_state *st, bool *too_long)
{
	const char *nl;
	size_t l, keep;

	if (*st->text == '\0')
		return false;
	nl = strchr(st->text, '\n');
	l = nl ? (size_t)(nl - st->text + 1) : strlen(st->text);
	keep = l < CONFIG_MAX_LINE ? l : CONFIG_MAX_LINE - 1;
	memcpy(st->linebuf, st->text, keep);
	st->linebuf[keep] = '\0';
	st->text += l;	/* the whole physical line, however long */
	*too_long = l >= CONFIG_MAX_LINE;
	return true;
}

/* Adds the rule a [filter NAME] line opens, so that an empty one is seen and its line known. */
static void
filter_section_line(struct parse_state *st)
{
	char sect[CONFIG_MAX_LINE], name[128], err[256];
	const char *p = st->linebuf, *end;

	if ((unsigned char)p[0] == 0xef && (unsigned char)p[1] == 0xbb && (unsigned char)p[2] == 0xbf)
		p += 3;
	if (*p != '[' || (end = strchr(p, ']')) == NULL)
		return;
	memcpy(sect, p + 1, (size_t)(end - p - 1));
	sect[end - p - 1] = '\0';
	if (filter_section(sect, name, sizeof(name)) == NULL)
		return;
	if (filter_rules_add(&st->c->filter, name, st->line, err, sizeof(err)) == -1)
		perr(st, "%s", err);
}

/* inih's line reader: counts lines, refuses over-long and malformed ones. */
static char *
config_reader(char *str, int num, void *stream)
{
	struct parse_state *st = stream;
	bool too_long = false;
	size_t len;

	if (st->fp) {
		if (fgets(st->linebuf, CONFIG_MAX_LINE, st->fp) == NULL)
			return NULL;
		len = strlen(st->linebuf);
		if (len > 0 && st->linebuf[len - 1] != '\n' && !feof(st->fp)) {
			/* Skip the rest of a physical line longer than our buffer. */
			int ch;
			while ((ch = fgetc(st->fp)) != EOF && ch != '\n')
				;
			too_long = true;
		}
	} else if (!next_string_line(st, &too_long)) {
		return NULL;
	}
	st->line++;
	len = strlen(st->linebuf);
	if (too_long || len >= (size_t)num) {
		perr(st, "line too long (at most %d characters)", num - 2);
		str[0] = '\0';	/* an empty line to inih */
		return str;
	}
	if (line_is_malformed(st->linebuf)) {
		perr(st, "syntax error (expected [section] or key = value)");
		str[0] = '\0';
		return str;
	}
	filter_section_line(st);
	memcpy(str, st->linebuf, len + 1);
	return str;
}

/* Checks what only the whole file can tell, and fills derived defaults. */
static void
config_finish(struct parse_state *st)
{
	struct config *c = st->c;
	struct collector_config *col = &c->col;

	st->line = 0;
	if ((col->cert_file == NULL) != (col->key_file == NULL))
		perr(st, "[collector] cert_file and key_file go together");
	if (col->backoff_max_ms < col->backoff_initial_ms)
		perr(st, "[collector] backoff_max_ms is below backoff_initial_ms");
	for (size_t i = 0; i < c->filter.n; i++) {
		char err[256];
		if (filter_rule_check(&c->filter.v[i], err, sizeof(err)) == -1) {
			st->line = c->filter.v[i].line;
			perr(st, "%s", err);
		}
	}
	st->line = 0;
	col->tls.ca_file = col->ca_file;
	col->tls.cert_file = col->cert_file;
	col->tls.key_file = col->key_file;
	/* Collectors cut or refuse long lines; 8 KiB is the smallest default among them. */
	if (c->forward && !c->max_line_set)
		c->max_line_bytes = 8192;
}

/* Runs inih over the state's input; returns 0 or -1 after reporting errors. */
static int
config_parse(struct parse_state *st)
{
	int r;

	st->linebuf = xmalloc(CONFIG_MAX_LINE);
	r = ini_parse_stream(config_reader, st, config_handler, st);
	free(st->linebuf);
	if (r > 0) {
		/* inih stops calling the handler for a malformed line only. */
		int saved = st->line;
		st->line = r;
		perr(st, "syntax error (expected [section] or key = value)");
		st->line = saved;
	} else if (r < 0) {
		perr(st, "cannot parse");
	}
	config_finish(st);
	return st->errors ? -1 : 0;
}

/* Loads path over the values already in c; -1 after reporting every error. */
int
config_load(struct config *c, const char *path, FILE *errout)
{
	struct parse_state st = { .c = c, .name = path, .errout = errout };

	if ((st.fp = fopen(path, "r")) == NULL) {
		if (errout)
			fprintf(errout, "%s: cannot open: %s\n", path, strerror(errno));
		return -1;
	}
	int r = config_parse(&st);
	fclose(st.fp);
	return r;
}

/* Loads INI text over the values already in c; name labels error lines. */
int
config_load_string(struct config *c, const char *text, const char *name, FILE *errout)
{
	struct parse_state st = { .c = c, .name = name, .errout = errout, .text = text };
	return config_parse(&st);
}
