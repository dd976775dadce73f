/*
 * config.c: the table of every key (section, name, type, bounds, default,
 * whether a reload applies it, the field it sets), and the INI parser
 * (libinih) it drives. inih gives the handler no line number, so the
 * reader below counts lines and the handler reports file:line: message
 * for each bad key or value, going on to the end, so the operator sees
 * every mistake at once. [filter NAME] sections, which repeat, are parsed
 * by filter.c through the same error reporting.
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

struct config_parse {
	struct config *c;
	const char *name;
	FILE *errout;
	int line;
	int errors;
	FILE *fp;		/* file input */
	const char *text;	/* or string input */
	char *linebuf;
};

static void
perr(struct config_parse *st, const char *fmt, ...) HIDS_PRINTF(2, 3);

/* Reports one error as file:line: message. */
static void
perr(struct config_parse *st, const char *fmt, ...)
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

/* Returns the field a key sets in the config being parsed. */
static void *
field(struct config_parse *st, const struct config_key *k)
{
	return (char *)st->c + k->off;
}

/* Stores n into a key's unsigned field of 1, 4 or 8 bytes. */
static void
store_uint(void *p, size_t size, uint64_t n)
{
	uint8_t u8 = (uint8_t)n;
	uint32_t u32 = (uint32_t)n;

	switch (size) {
	case 1: memcpy(p, &u8, 1); break;
	case 4: memcpy(p, &u32, 4); break;
	case 8: memcpy(p, &n, 8); break;
	default: fatalx("config: field of %zu bytes", size);
	}
}

/* Parses "fork,exec,..." into the kernel mask of [events] types. */
static void
parse_events(struct config_parse *st, const struct config_key *k, const char *v)
{
	char *copy = xstrdup(v), *save = NULL, *tok;
	uint32_t m = 0;
	int rc = 0;

	(void)k;
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
		st->c->emit_mask = m;
}

/* Parses [events] exit: all or nonzero. */
static void
parse_exit(struct config_parse *st, const struct config_key *k, const char *v)
{
	if (strcmp(v, "all") == 0)
		st->c->nonzero_exit_only = false;
	else if (strcmp(v, "nonzero") == 0)
		st->c->nonzero_exit_only = true;
	else
		perr(st, "bad value '%s' for %s (expected all or nonzero)", v, k->name);
}

/* Parses "fifo:N", "nice:N" or "normal". */
static void
parse_priority(struct config_parse *st, const struct config_key *k, const char *v)
{
	struct config *c = st->c;
	int64_t n;

	(void)k;
	if (strcmp(v, "normal") == 0) {
		c->cap.prio = CAPTURE_PRIO_NORMAL;
		c->cap.prio_value = 0;
		return;
	}
	if (strncmp(v, "fifo:", 5) == 0 && parse_i64(v + 5, 1, 99, &n) == 0) {
		c->cap.prio = CAPTURE_PRIO_FIFO;
		c->cap.prio_value = (int)n;
		return;
	}
	if (strncmp(v, "nice:", 5) == 0 && parse_i64(v + 5, -20, 19, &n) == 0) {
		c->cap.prio = CAPTURE_PRIO_NICE;
		c->cap.prio_value = (int)n;
		return;
	}
	perr(st, "bad priority '%s' (expected fifo:1..99, nice:-20..19 or normal)", v);
}

/* Checks [agent] user: a name, or empty to stay root. */
static void
check_user(struct config_parse *st, const struct config_key *k, const char *v)
{
	if (strchr(v, '/') || strchr(v, ':') || strpbrk(v, " \t"))
		perr(st, "bad %s '%s' (a user name, or empty to stay root)", k->name, v);
}

/* Checks [process] env_vars as the capture thread will use it. */
static void
check_env_vars(struct config_parse *st, const struct config_key *k, const char *v)
{
	struct procfs_env_spec spec;
	char err[160];

	if (procfs_env_spec_parse(v, &spec, err, sizeof(err)) == -1)
		perr(st, "bad %s: %s", k->name, err);
	else
		procfs_env_spec_release(&spec);
}

/* Handles [output] max_line_bytes: 0 (no limit) or at least 1024. */
static void
parse_max_line(struct config_parse *st, const struct config_key *k, const char *v)
{
	struct config *c = st->c;
	uint64_t n;

	if (parse_size(v, k->min, k->max, &n) == -1) {
		perr(st, "bad value '%s' for %s (a size from %llu to %llu bytes; "
		    "K, M, G suffixes allowed)", v, k->name, (unsigned long long)k->min,
		    (unsigned long long)k->max);
		n = 0;
	}
	c->max_line_bytes = (size_t)n;
	c->max_line_set = true;
	if (c->max_line_bytes != 0 && c->max_line_bytes < 1024) {
		perr(st, "max_line_bytes must be 0 (no limit) or at least 1024");
		c->max_line_bytes = 1024;
	}
}

/* Handles [collector] address: one or more host:port. */
static void
parse_address(struct config_parse *st, const struct config_key *k, const char *v)
{
	char err[256];

	(void)k;
	if (addr_parse_list(v, st->c->col.addrs, COLLECTOR_MAX_ADDRS, &st->c->col.naddrs,
	    err, sizeof(err)) == -1)
		perr(st, "%s", err);
	else
		st->c->forward = true;
}

/* Parses comma-separated base64 SHA-256 SPKI pins. */
static void
parse_pins(struct config_parse *st, const struct config_key *k, const char *v)
{
	struct tls_config *tls = &st->c->col.tls;
	char *copy = xstrdup(v), *save = NULL, *tok;

	(void)k;
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

/* Parses [hash] algorithms: "sha256,sha1,md5" in any order, or empty for none. */
static void
parse_hash_algs(struct config_parse *st, const struct config_key *k, const char *v)
{
	char *copy = xstrdup(v), *save = NULL, *tok;
	unsigned algs = 0;

	(void)k;
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

/* Checks [spool] dir: an absolute path, or empty for no spool. */
static void
check_spool_dir(struct config_parse *st, const struct config_key *k, const char *v)
{
	(void)k;
	if (v[0] && v[0] != '/')
		perr(st, "spool dir must be an absolute path");
}

/* Checks [metrics] listen; an empty value turns the endpoint off. */
static void
check_metrics_listen(struct config_parse *st, const struct config_key *k, const char *v)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	char err[256];

	(void)k;
	if (v[0] != '\0' && metrics_parse_listen(v, &ss, &sslen, err, sizeof(err)) == -1)
		perr(st, "%s", err);
}

/* Hands a key of [filter] to filter.c. */
static void
parse_filter_global(struct config_parse *st, const struct config_key *k, const char *v)
{
	char err[256];

	if (filter_global_key(&st->c->filter, k->name, v, err, sizeof(err)) != 0)
		perr(st, "%s", err);
}

static const struct config_choice log_level_choices[] = {
	{ "error", LOG_LVL_ERROR }, { "warning", LOG_LVL_WARN }, { "info", LOG_LVL_INFO },
	{ "debug", LOG_LVL_DEBUG }, { NULL, 0 }
};
static const struct config_choice log_target_choices[] = {
	{ "stderr", LOG_TO_STDERR }, { "syslog", LOG_TO_SYSLOG }, { NULL, 0 }
};
static const struct config_choice protocol_choices[] = {
	{ "ndjson", PROTO_NDJSON }, { "relp", PROTO_RELP }, { NULL, 0 }
};
static const struct config_choice fsync_choices[] = {
	{ "always", SPOOL_FSYNC_ALWAYS }, { "interval", SPOOL_FSYNC_INTERVAL },
	{ "never", SPOOL_FSYNC_NEVER }, { NULL, 0 }
};

/* The field a key sets, and the fields from a to b that one custom key sets. */
#define F(f)		offsetof(struct config, f), sizeof(((struct config *)0)->f)
#define SPAN(a, b)	offsetof(struct config, a), \
	offsetof(struct config, b) + sizeof(((struct config *)0)->b) - offsetof(struct config, a)
#define KB		(1ull << 10)
#define MB		(1ull << 20)
#define GB		(1ull << 30)
#define RELOAD		true
#define RESTART		false

/* One row of the table for each type of key; f names the field it sets. */
#define K_BOOL(s, n, def, rl, f) \
	{ s, n, CONFIG_BOOL, 0, 0, def, rl, F(f), NULL, 0, NULL }
#define K_COUNT(s, n, lo, hi, def, rl, f) \
	{ s, n, CONFIG_COUNT, lo, hi, def, rl, F(f), NULL, 0, NULL }
#define K_SIZE(s, n, lo, hi, def, rl, f) \
	{ s, n, CONFIG_SIZE, lo, hi, def, rl, F(f), NULL, 0, NULL }
#define K_ENUM(s, n, def, rl, f, choices) \
	{ s, n, CONFIG_ENUM, 0, 0, def, rl, F(f), choices, 0, NULL }
#define K_STRING(s, n, def, rl, f, flags, check) \
	{ s, n, CONFIG_STRING, 0, 0, def, rl, F(f), NULL, flags, check }
#define K_FILE(s, n, rl, f) \
	{ s, n, CONFIG_FILE, 0, 0, NULL, rl, F(f), NULL, 0, NULL }
#define K_CUSTOM(s, n, lo, hi, def, rl, fields, parse) \
	{ s, n, CONFIG_CUSTOM, lo, hi, def, rl, fields, NULL, 0, parse }

_Static_assert(offsetof(struct config, cap.prio_value) ==
    offsetof(struct config, cap.prio) + sizeof(enum capture_prio),
    "[capture] priority sets prio and prio_value, which must be adjacent");

/*
 * Every key, in the order of the example config. A key whose reload is
 * RESTART keeps its running value on SIGHUP, and a change to it is logged.
 * A default of NULL is none, or one config_finish derives.
 */
static const struct config_key config_table[] = {
	K_ENUM("agent", "log_level", "info", RELOAD, log_level, log_level_choices),
	K_ENUM("agent", "log_target", "stderr", RESTART, log_target, log_target_choices),
	K_COUNT("agent", "heartbeat_interval", 0, 86400, "60", RELOAD, heartbeat_interval_s),
	K_COUNT("agent", "canary_interval", 0, 86400, "30", RESTART, canary_interval_s),
	K_STRING("agent", "user", NULL, RESTART, user, 0, check_user),

	K_CUSTOM("events", "types", 0, 0,
	    "fork,exec,end,uid_change,gid_change,session_id_change,ptrace,comm,coredump",
	    RESTART, F(emit_mask), parse_events),
	K_CUSTOM("events", "exit", 0, 0, "all", RESTART, F(nonzero_exit_only), parse_exit),
	K_BOOL("events", "threads", "no", RESTART, threads),

	K_CUSTOM("capture", "priority", 0, 0, "fifo:1", RESTART, SPAN(cap.prio, cap.prio_value),
	    parse_priority),
	K_COUNT("capture", "max_rt_cpu_percent", 1, 100, "50", RESTART, cap.max_rt_cpu_percent),
	K_BOOL("capture", "exec_socket", "yes", RESTART, cap.exec_socket),
	K_SIZE("capture", "cmdline_max_bytes", 4 * KB, 64 * MB, "256K", RESTART,
	    cap.cmdline_max_bytes),
	K_SIZE("capture", "environ_max_bytes", 4 * KB, 64 * MB, "64K", RESTART,
	    cap.environ_max_bytes),
	K_SIZE("capture", "rcvbuf", 64 * KB, 1 * GB, "8M", RESTART, cap.rcvbuf),
	K_SIZE("capture", "queue_max_bytes", 64 * KB, 1 * GB, "4M", RESTART, cap.queue_max_bytes),
	K_COUNT("capture", "queue_max_events", 16, 1u << 24, "65536", RESTART,
	    cap.queue_max_records),

	K_SIZE("process", "max_args_bytes", 256, 4 * MB, "64K", RESTART, max_args_bytes),
	K_COUNT("process", "table_max_entries", 64, 1u << 22, "32768", RESTART,
	    table_max_entries),
	K_SIZE("process", "table_args_bytes", 0, 1 * MB, "2048", RESTART, table_args_bytes),
	K_SIZE("process", "table_max_bytes", 1 * MB, 4 * GB, "64M", RESTART, table_max_bytes),
	K_SIZE("process", "table_path_bytes", 64, 4096, "1024", RESTART, table_path_bytes),
	K_STRING("process", "env_vars", CONFIG_ENV_VARS_DEFAULT, RESTART, env_vars, 0,
	    check_env_vars),
	K_SIZE("process", "env_value_max_bytes", 16, 64 * KB, "1K", RESTART,
	    env_value_max_bytes),

	/* Derived: 0 with --stdout, 8192 when forwarding (config_finish). */
	K_CUSTOM("output", "max_line_bytes", 0, 64 * MB, NULL, RELOAD,
	    SPAN(max_line_bytes, max_line_set), parse_max_line),

	K_CUSTOM("collector", "address", 0, 0, NULL, RELOAD, F(col.addrs), parse_address),
	K_ENUM("collector", "protocol", "ndjson", RELOAD, col.protocol, protocol_choices),
	K_COUNT("collector", "relp_window", 1, 65536, "128", RELOAD, col.relp_window),
	K_FILE("collector", "ca_file", RELOAD, col.ca_file),
	K_FILE("collector", "cert_file", RELOAD, col.cert_file),
	K_FILE("collector", "key_file", RELOAD, col.key_file),
	K_STRING("collector", "server_name", NULL, RELOAD, col.server_name, 0, NULL),
	K_CUSTOM("collector", "pin_sha256", 0, 0, NULL, RELOAD, F(col.tls.npins), parse_pins),
	K_COUNT("collector", "batch_events", 1, 65536, "256", RELOAD, col.batch_events),
	K_SIZE("collector", "batch_bytes", 1 * KB, 16 * MB, "256K", RELOAD, col.batch_bytes),
	K_COUNT("collector", "flush_interval_ms", 1, 10000, "50", RELOAD, col.flush_interval_ms),
	K_SIZE("collector", "queue_max_bytes", 64 * KB, 4 * GB, "8M", RELOAD,
	    col.queue_max_bytes),
	K_COUNT("collector", "backoff_initial_ms", 10, 600000, "250", RELOAD,
	    col.backoff_initial_ms),
	K_COUNT("collector", "backoff_max_ms", 10, 3600000, "30000", RELOAD,
	    col.backoff_max_ms),
	K_COUNT("collector", "healthy_after_s", 1, 86400, "30", RELOAD, col.healthy_after_s),
	K_COUNT("collector", "connect_timeout_s", 1, 600, "10", RELOAD, col.connect_timeout_s),
	K_COUNT("collector", "stall_timeout_s", 0, 3600, "15", RELOAD, col.stall_timeout_s),
	K_COUNT("collector", "start_jitter_ms", 0, 600000, "1000", RELOAD, col.start_jitter_ms),
	K_COUNT("collector", "stop_timeout_s", 0, 600, "5", RELOAD, col.stop_timeout_s),
	K_SIZE("collector", "sndbuf", 0, 64 * MB, "0", RELOAD, col.sndbuf),

	K_STRING("spool", "dir", NULL, RESTART, spool_dir, CONFIG_EMPTY_NULL, check_spool_dir),
	K_SIZE("spool", "max_bytes", 1 * MB, 1024 * GB, "256M", RESTART, spool_max_bytes),
	K_ENUM("spool", "fsync", "interval", RESTART, spool_fsync, fsync_choices),
	K_COUNT("spool", "fsync_interval_ms", 10, 60000, "1000", RESTART,
	    spool_fsync_interval_ms),

	K_CUSTOM("hash", "algorithms", 0, 0, "sha256", RESTART, F(hash_algs), parse_hash_algs),
	K_SIZE("hash", "max_file_bytes", 0, 1024 * GB, "64M", RESTART, hash_max_file_bytes),
	K_SIZE("hash", "bytes_per_second", 1 * MB, 1024 * GB, "32M", RESTART,
	    hash_bytes_per_second),
	K_COUNT("hash", "wait_ms", 0, 1000, "50", RESTART, hash_wait_ms),
	K_COUNT("hash", "cache_entries", 16, 1u << 20, "4096", RESTART, hash_cache_entries),

	K_STRING("metrics", "listen", NULL, RESTART, metrics_listen, CONFIG_EMPTY_NULL,
	    check_metrics_listen),

	K_CUSTOM("filter", "summary_interval", 0, 0, "60", RELOAD, F(filter.interval_s),
	    parse_filter_global),
	K_CUSTOM("filter", "never_suppress_exe", 0, 0, NULL, RELOAD, F(filter.never_exe),
	    parse_filter_global),
};

#undef K_BOOL
#undef K_COUNT
#undef K_SIZE
#undef K_ENUM
#undef K_STRING
#undef K_FILE
#undef K_CUSTOM
#undef F
#undef SPAN

/* Returns the table of keys and its length. */
const struct config_key *
config_keys(size_t *n)
{
	*n = sizeof(config_table) / sizeof(config_table[0]);
	return config_table;
}

/* Returns the name of a key type, for the table dump. */
const char *
config_type_name(enum config_type t)
{
	static const char *const names[] = {
		"bool", "count", "size", "enum", "string", "file", "custom"
	};
	return (size_t)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

/* Returns the key called name in section, or NULL. */
static const struct config_key *
config_key_find(const char *section, const char *name)
{
	for (size_t i = 0; i < sizeof(config_table) / sizeof(config_table[0]); i++)
		if (strcmp(config_table[i].section, section) == 0 &&
		    strcmp(config_table[i].name, name) == 0)
			return &config_table[i];
	return NULL;
}

/* Says whether any key of the table is in section. */
static bool
config_section_known(const char *section)
{
	for (size_t i = 0; i < sizeof(config_table) / sizeof(config_table[0]); i++)
		if (strcmp(config_table[i].section, section) == 0)
			return true;
	return false;
}

/* Writes "a, b or c" of an enum key's words into buf. */
static void
choice_list(const struct config_choice *ch, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; ch[i].name && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
		    i == 0 ? "" : ch[i + 1].name ? ", " : " or ", ch[i].name);
}

/*
 * Replaces a string field with a copy of a file's path, and reports it if
 * the agent cannot read it. It opens the file rather than asking access():
 * that answers for the real uid without capabilities, not for the agent as
 * it will read the file (the hids-agent user through its group, or root).
 * The path is kept even then, so that the one error is not followed by
 * others about the key missing (the config is refused anyway).
 */
static void
set_file(struct config_parse *st, const struct config_key *k, const char *v)
{
	int fd = open(v, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	char **dst = field(st, k);

	if (fd == -1)
		perr(st, "cannot read %s '%s': %s", k->name, v, strerror(errno));
	else
		close(fd);
	free(*dst);
	*dst = xstrdup(v);
}

/* Parses one value into the field its key names, reporting any error. */
static void
config_set(struct config_parse *st, const struct config_key *k, const char *v)
{
	char list[256], **s;
	uint64_t n;
	bool b;
	size_t i;

	switch (k->type) {
	case CONFIG_BOOL:
		if (parse_bool(v, &b) == -1)
			perr(st, "bad value '%s' for %s (expected yes or no)", v, k->name);
		else
			store_uint(field(st, k), k->size, b);
		break;
	case CONFIG_COUNT:
		if (parse_u64(v, k->min, k->max, &n) == -1)
			perr(st, "bad value '%s' for %s (a number from %llu to %llu)", v, k->name,
			    (unsigned long long)k->min, (unsigned long long)k->max);
		else
			store_uint(field(st, k), k->size, n);
		break;
	case CONFIG_SIZE:
		if (parse_size(v, k->min, k->max, &n) == -1)
			perr(st, "bad value '%s' for %s (a size from %llu to %llu bytes; "
			    "K, M, G suffixes allowed)", v, k->name, (unsigned long long)k->min,
			    (unsigned long long)k->max);
		else
			store_uint(field(st, k), k->size, n);
		break;
	case CONFIG_ENUM:
		for (i = 0; k->choices[i].name; i++)
			if (strcmp(v, k->choices[i].name) == 0)
				break;
		if (k->choices[i].name == NULL) {
			choice_list(k->choices, list, sizeof(list));
			perr(st, "bad %s '%s' (expected %s)", k->name, v, list);
		} else {
			store_uint(field(st, k), k->size, (uint64_t)k->choices[i].value);
		}
		break;
	case CONFIG_STRING:
		s = field(st, k);
		free(*s);
		*s = (v[0] == '\0' && (k->flags & CONFIG_EMPTY_NULL)) ? NULL : xstrdup(v);
		if (k->parse)
			k->parse(st, k, v);
		break;
	case CONFIG_FILE:
		set_file(st, k, v);
		break;
	case CONFIG_CUSTOM:
		k->parse(st, k, v);
		break;
	}
}

/* Sets every value to its built-in default: the table's, parsed as a file's would be. */
void
config_defaults(struct config *c)
{
	struct config_parse st = { .c = c, .name = "built-in defaults", .errout = stderr };

	memset(c, 0, sizeof(*c));
	filter_rules_init(&c->filter);
	for (size_t i = 0; i < sizeof(config_table) / sizeof(config_table[0]); i++)
		if (config_table[i].def)
			config_set(&st, &config_table[i], config_table[i].def);
	if (st.errors)
		fatalx("config: a built-in default does not parse");
}

/* Frees the strings a config owns. */
void
config_release(struct config *c)
{
	for (size_t i = 0; i < sizeof(config_table) / sizeof(config_table[0]); i++) {
		const struct config_key *k = &config_table[i];
		if (k->type == CONFIG_STRING || k->type == CONFIG_FILE) {
			char **s = (char **)((char *)c + k->off);
			free(*s);
			*s = NULL;
		}
	}
	collector_config_release(&c->col);
	filter_rules_release(&c->filter);
}

/* Says whether a key's value differs between two configs. */
static bool
config_key_differs(const struct config_key *k, const struct config *a, const struct config *b)
{
	const void *pa = (const char *)a + k->off, *pb = (const char *)b + k->off;

	if (k->type == CONFIG_STRING || k->type == CONFIG_FILE) {
		const char *sa = *(char *const *)pa, *sb = *(char *const *)pb;
		if (sa == NULL || sb == NULL)
			return sa != sb;
		return strcmp(sa, sb) != 0;
	}
	return memcmp(pa, pb, k->size) != 0;
}

/*
 * Keeps in nc the running value of every key a reload cannot apply, and
 * calls cb for each one that differed; returns how many did.
 */
size_t
config_keep_restart_only(struct config *nc, const struct config *old, config_restart_cb *cb,
    void *arg)
{
	size_t changed = 0;

	for (size_t i = 0; i < sizeof(config_table) / sizeof(config_table[0]); i++) {
		const struct config_key *k = &config_table[i];
		void *pn = (char *)nc + k->off;
		const void *po = (const char *)old + k->off;

		if (k->reload || !config_key_differs(k, nc, old))
			continue;
		changed++;
		if (cb)
			cb(k, arg);
		if (k->type == CONFIG_STRING || k->type == CONFIG_FILE) {
			const char *so = *(char *const *)po;
			free(*(char **)pn);
			*(char **)pn = so ? xstrdup(so) : NULL;
		} else {
			memcpy(pn, po, k->size);
		}
	}
	return changed;
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

/* Handles one key of a [filter NAME] rule; false if the section is not one. */
static bool
filter_rule_section_key(struct config_parse *st, const char *section, const char *key,
    const char *v)
{
	char name[128], err[256];
	struct filter_rule *r;
	int rc;

	if (filter_section(section, name, sizeof(name)) == NULL)
		return false;
	if ((r = filter_rules_find(&st->c->filter, name)) == NULL)
		return true;	/* its [filter NAME] line was refused */
	rc = filter_rule_key(r, key, v, err, sizeof(err));
	if (rc == 1)
		perr(st, "unknown key '%s' in [%s]", key, section);
	else if (rc == -1)
		perr(st, "%s", err);
	return true;
}

/* inih's callback: one key = value in one section. */
static int
config_handler(void *user, const char *section, const char *key, const char *v)
{
	struct config_parse *st = user;
	const struct config_key *k;

	if (filter_rule_section_key(st, section, key, v))
		;	/* a rule: filter.c's */
	else if ((k = config_key_find(section, key)) != NULL)
		config_set(st, k, v);
	else if (!config_section_known(section))
		perr(st, "unknown section [%s]", section);
	else
		perr(st, "unknown key '%s' in [%s]", key, section);
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
next_string_line(struct config_parse *st, bool *too_long)
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
filter_section_line(struct config_parse *st)
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
	struct config_parse *st = stream;
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
config_finish(struct config_parse *st)
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
config_parse(struct config_parse *st)
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
	struct config_parse st = { .c = c, .name = path, .errout = errout };

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
	struct config_parse st = { .c = c, .name = name, .errout = errout, .text = text };
	return config_parse(&st);
}
