/* Proves that the config parser applies every valid setting, reports every bad line as name:LINE: message while keeping the rest, and derives the kernel event mask correctly. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "config.h"
#include "metrics.h"
#include "unit.h"

/* What one load produced: return code and the error text. */
struct loaded {
	int rc;
	char *err;
	size_t errlen;
};

/* Loads text over c (defaults first when fresh) and captures errout. */
static struct loaded
load(struct config *c, const char *text, bool fresh)
{
	struct loaded l = { 0, NULL, 0 };
	FILE *f = open_memstream(&l.err, &l.errlen);

	assert_non_null(f);
	if (fresh)
		config_defaults(c);
	l.rc = config_load_string(c, text, "t.conf", f);
	fclose(f);
	return l;
}

/* Asserts two configs hold the same values: strings by content, the rest byte for byte. */
static void
assert_config_equal(const struct config *a, const struct config *b)
{
	struct config ca = *a, cb = *b;
	size_t n;
	const struct config_key *k = config_keys(&n);

	for (size_t i = 0; i < n; i++) {
		char **sa, **sb;
		if (k[i].type != CONFIG_STRING && k[i].type != CONFIG_FILE)
			continue;
		sa = (char **)((char *)&ca + k[i].off);
		sb = (char **)((char *)&cb + k[i].off);
		if (*sa == NULL || *sb == NULL)
			assert_true(*sa == *sb);
		else
			assert_string_equal(*sa, *sb);
		*sa = *sb = NULL;
	}
	assert_memory_equal(&ca, &cb, sizeof(ca));
}

/* Counts the lines of an error text. */
static size_t
count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (*s == '\n')
			n++;
	return n;
}

/* Asserts err holds exactly the lines in want (in any order), each once. */
static void
assert_errors(const char *err, const char *const *want, size_t nwant)
{
	for (size_t i = 0; i < nwant; i++) {
		char line[512];
		snprintf(line, sizeof(line), "%s\n", want[i]);
		const char *at = strstr(err, line);
		if (at == NULL || (at != err && at[-1] != '\n'))
			fail_msg("missing error line \"%s\" in:\n%s", want[i], err);
		if (strstr(at + 1, line) != NULL)
			fail_msg("error line \"%s\" reported twice", want[i]);
	}
	if (count_lines(err) != nwant)
		fail_msg("%zu error lines, want %zu:\n%s", count_lines(err), nwant, err);
}

static void
test_defaults(void **state)
{
	struct config c;

	memset(&c, 0xa5, sizeof(c));
	config_defaults(&c);
	assert_int_equal(c.log_level, LOG_LVL_INFO);
	assert_int_equal(c.log_target, LOG_TO_STDERR);
	assert_int_equal(c.heartbeat_interval_s, 60);
	assert_int_equal(c.emit_mask, CN_EV_FORK | CN_EV_EXEC | CN_EV_UID | CN_EV_GID |
	    CN_EV_SID | CN_EV_PTRACE | CN_EV_COMM | CN_EV_COREDUMP | CN_EV_EXIT);
	assert_false(c.nonzero_exit_only);
	assert_false(c.threads);
	assert_int_equal(c.cap.prio, CAPTURE_PRIO_FIFO);
	assert_int_equal(c.cap.prio_value, 1);
	assert_int_equal(c.cap.max_rt_cpu_percent, 50);
	assert_int_equal(c.cap.rcvbuf, 8u << 20);
	assert_int_equal(c.cap.queue_max_bytes, 4u << 20);
	assert_int_equal(c.cap.queue_max_records, 65536);
	assert_int_equal(c.max_args_bytes, 64u << 10);
	assert_int_equal(c.cap.cmdline_max_bytes, 256u << 10);
	assert_int_equal(c.table_max_entries, 32768);
	assert_int_equal(c.table_args_bytes, 2048);
	assert_int_equal(c.max_line_bytes, 0);
	assert_false(c.forward);
	assert_int_equal(c.col.naddrs, 0);
	assert_null(c.col.server_name);
	assert_null(c.col.ca_file);
	assert_int_equal(c.col.batch_events, 256);
	assert_int_equal(c.col.batch_bytes, 256u << 10);
	assert_int_equal(c.col.flush_interval_ms, 50);
	assert_int_equal(c.col.queue_max_bytes, 8u << 20);
	assert_int_equal(c.col.backoff_initial_ms, 250);
	assert_int_equal(c.col.backoff_max_ms, 30000);
	assert_int_equal(c.canary_interval_s, 30);
	assert_true(c.cap.exec_socket);
	assert_int_equal(c.table_max_bytes, 64u << 20);
	assert_int_equal(c.table_path_bytes, 1024);
	assert_string_equal(c.env_vars, CONFIG_ENV_VARS_DEFAULT);
	assert_int_equal(c.env_value_max_bytes, 1024);
	assert_int_equal(c.cap.environ_max_bytes, 64u << 10);
	assert_int_equal(c.col.protocol, PROTO_NDJSON);
	assert_int_equal(c.col.relp_window, 128);
	assert_null(c.spool_dir);
	assert_int_equal(c.spool_max_bytes, 256ull << 20);
	assert_int_equal(c.spool_fsync, SPOOL_FSYNC_INTERVAL);
	assert_int_equal(c.spool_fsync_interval_ms, 1000);
	assert_null(c.metrics_listen);
	assert_null(c.user);
	assert_int_equal(c.filter.interval_s, 60);
	config_release(&c);
}

/* Checks the key table: each key once, and each type with what it needs. */
static void
test_table_shape(void **state)
{
	size_t n;
	const struct config_key *k = config_keys(&n);

	(void)state;
	assert_true(n > 40);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(k[i].section, k[j].section) == 0 &&
			    strcmp(k[i].name, k[j].name) == 0)
				fail_msg("[%s] %s is in the table twice", k[i].section, k[i].name);
		assert_true(k[i].size > 0);
		assert_true(k[i].off + k[i].size <= sizeof(struct config));
		if (k[i].type == CONFIG_ENUM)
			assert_non_null(k[i].choices);
		if (k[i].type == CONFIG_CUSTOM)
			assert_non_null(k[i].parse);
		if (k[i].type == CONFIG_COUNT || k[i].type == CONFIG_SIZE)
			assert_true(k[i].min <= k[i].max);
		assert_string_not_equal(config_type_name(k[i].type), "?");
	}
}

/* Records the keys a reload reports as needing a restart. */
static void
restart_cb(const struct config_key *k, void *arg)
{
	char *seen = arg;
	size_t len = strlen(seen);
	snprintf(seen + len, 512 - len, "[%s] %s;", k->section, k->name);
}

/*
 * A reload keeps the running value of every restart-only key and names each
 * one that changed: exec_socket, canary_interval and [spool] were silently
 * ignored once. Keys a reload applies are neither kept nor named.
 */
static void
test_reload_keeps_restart_only(void **state)
{
	struct config old, nc;
	struct loaded l;
	char seen[512] = "";
	size_t changed;

	(void)state;
	l = load(&old, "[spool]\ndir = /var/lib/a\n", true);
	assert_int_equal(l.rc, 0);
	free(l.err);
	l = load(&nc, "[agent]\ncanary_interval = 5\nheartbeat_interval = 7\nuser = nobody\n"
	    "[capture]\nexec_socket = no\npriority = nice:3\n"
	    "[events]\ntypes = exec\n"
	    "[process]\nenv_vars = PATH\n"
	    "[spool]\ndir = /var/lib/b\nmax_bytes = 2M\nfsync = always\nfsync_interval_ms = 20\n"
	    "[metrics]\nlisten = 9464\n[collector]\nbatch_events = 3\n", true);
	assert_int_equal(l.rc, 0);
	free(l.err);
	changed = config_keep_restart_only(&nc, &old, restart_cb, seen);
	assert_string_equal(seen, "[agent] canary_interval;[agent] user;[events] types;"
	    "[capture] priority;[capture] exec_socket;[process] env_vars;[spool] dir;"
	    "[spool] max_bytes;[spool] fsync;[spool] fsync_interval_ms;[metrics] listen;");
	assert_int_equal(changed, 11);
	assert_int_equal(nc.canary_interval_s, 30);
	assert_true(nc.cap.exec_socket);
	assert_int_equal(nc.cap.prio, CAPTURE_PRIO_FIFO);
	assert_int_equal(nc.cap.prio_value, 1);
	assert_int_equal(nc.emit_mask, old.emit_mask);
	assert_null(nc.user);
	assert_string_equal(nc.env_vars, CONFIG_ENV_VARS_DEFAULT);
	assert_string_equal(nc.spool_dir, "/var/lib/a");
	assert_int_equal(nc.spool_max_bytes, 256ull << 20);
	assert_int_equal(nc.spool_fsync, SPOOL_FSYNC_INTERVAL);
	assert_int_equal(nc.spool_fsync_interval_ms, 1000);
	assert_null(nc.metrics_listen);
	/* Applied by the reload: left as the new file says. */
	assert_int_equal(nc.heartbeat_interval_s, 7);
	assert_int_equal(nc.col.batch_events, 3);
	/* Nothing left to report the second time. */
	seen[0] = '\0';
	assert_int_equal(config_keep_restart_only(&nc, &old, restart_cb, seen), 0);
	assert_string_equal(seen, "");
	config_release(&nc);
	config_release(&old);
}

static const char full_config[] =
    "; hids-agent configuration\n"
    "# another comment style\n"
    "[agent]\n"
    "log_level = debug\n"
    "log_target = syslog\n"
    "heartbeat_interval = 30 ; inline comment\n"
    "\n"
    "[events]\n"
    "types = fork, exec exit,ptrace\n"
    "exit = nonzero\n"
    "threads = yes\n"
    "[capture]\n"
    "priority = nice:-5\n"
    "max_rt_cpu_percent = 40\n"
    "rcvbuf = 16M\n"
    "queue_max_bytes = 8192K\n"
    "queue_max_events = 100000\n"
    "[process]\n"
    "max_args_bytes = 128K\n"
    "table_max_entries = 65536\n"
    "table_args_bytes = 0\n"
    "[output]  \n"
    "max_line_bytes=1M\n";

static void
test_full_valid_config(void **state)
{
	struct config c;
	struct loaded l = load(&c, full_config, true);

	assert_string_equal(l.err, "");
	assert_int_equal(l.rc, 0);
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	assert_int_equal(c.log_target, LOG_TO_SYSLOG);
	assert_int_equal(c.heartbeat_interval_s, 30);
	assert_int_equal(c.emit_mask, CN_EV_FORK | CN_EV_EXEC | CN_EV_EXIT | CN_EV_PTRACE);
	assert_true(c.nonzero_exit_only);
	assert_true(c.threads);
	assert_int_equal(c.cap.prio, CAPTURE_PRIO_NICE);
	assert_int_equal(c.cap.prio_value, -5);
	assert_int_equal(c.cap.max_rt_cpu_percent, 40);
	assert_int_equal(c.cap.rcvbuf, 16u << 20);
	assert_int_equal(c.cap.queue_max_bytes, 8u << 20);
	assert_int_equal(c.cap.queue_max_records, 100000);
	assert_int_equal(c.max_args_bytes, 128u << 10);
	assert_int_equal(c.table_max_entries, 65536);
	assert_int_equal(c.table_args_bytes, 0);
	assert_int_equal(c.max_line_bytes, 1u << 20);
	free(l.err);
	config_release(&c);
}

static void
test_empty_and_comments_only(void **state)
{
	struct config c, d;
	struct loaded l = load(&c, "", true);

	config_defaults(&d);
	assert_int_equal(l.rc, 0);
	assert_string_equal(l.err, "");
	assert_config_equal(&c, &d);
	free(l.err);
	config_release(&c);
	l = load(&c, "; nothing\n\n# here\n[agent]\n", true);
	assert_int_equal(l.rc, 0);
	assert_string_equal(l.err, "");
	assert_config_equal(&c, &d);
	free(l.err);
	config_release(&c);
	config_release(&d);
}

/* One bad line at a time: the exact message, and the value left alone. */
static void
test_each_error_message(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} t[] = {
		{ "[bogus]\nkey = 1\n", "t.conf:2: unknown section [bogus]" },
		{ "key = 1\n", "t.conf:1: unknown section []" },
		{ "[agent]\nbogus = 1\n", "t.conf:2: unknown key 'bogus' in [agent]" },
		{ "[output]\n\nmax_args_bytes = 1\n",
		  "t.conf:3: unknown key 'max_args_bytes' in [output]" },
		{ "[agent]\nlog_level = loud\n",
		  "t.conf:2: bad log_level 'loud' (expected error, warning, info or debug)" },
		{ "[agent]\nlog_target = file\n",
		  "t.conf:2: bad log_target 'file' (expected stderr or syslog)" },
		{ "[agent]\nheartbeat_interval = 86401\n",
		  "t.conf:2: bad value '86401' for heartbeat_interval (a number from 0 to 86400)" },
		{ "[agent]\nheartbeat_interval = -1\n",
		  "t.conf:2: bad value '-1' for heartbeat_interval (a number from 0 to 86400)" },
		{ "[capture]\nrcvbuf = 12Q\n",
		  "t.conf:2: bad value '12Q' for rcvbuf (a size from 65536 to 1073741824 "
		  "bytes; K, M, G suffixes allowed)" },
		{ "[capture]\nrcvbuf = 63K\n",
		  "t.conf:2: bad value '63K' for rcvbuf (a size from 65536 to 1073741824 "
		  "bytes; K, M, G suffixes allowed)" },
		{ "[capture]\nqueue_max_bytes = 2G\n",
		  "t.conf:2: bad value '2G' for queue_max_bytes (a size from 65536 to "
		  "1073741824 bytes; K, M, G suffixes allowed)" },
		{ "[capture]\ncmdline_max_bytes = 65M\n",
		  "t.conf:2: bad value '65M' for cmdline_max_bytes (a size from 4096 to "
		  "67108864 bytes; K, M, G suffixes allowed)" },
		{ "[process]\nmax_args_bytes = 255\n",
		  "t.conf:2: bad value '255' for max_args_bytes (a size from 256 to "
		  "4194304 bytes; K, M, G suffixes allowed)" },
		{ "[process]\ntable_args_bytes = 1.5K\n",
		  "t.conf:2: bad value '1.5K' for table_args_bytes (a size from 0 to "
		  "1048576 bytes; K, M, G suffixes allowed)" },
		{ "[capture]\npriority = rt:5\n",
		  "t.conf:2: bad priority 'rt:5' (expected fifo:1..99, nice:-20..19 or normal)" },
		{ "[capture]\npriority = fifo:0\n",
		  "t.conf:2: bad priority 'fifo:0' (expected fifo:1..99, nice:-20..19 or normal)" },
		{ "[capture]\npriority = fifo:100\n",
		  "t.conf:2: bad priority 'fifo:100' (expected fifo:1..99, nice:-20..19 or normal)" },
		{ "[capture]\npriority = nice:20\n",
		  "t.conf:2: bad priority 'nice:20' (expected fifo:1..99, nice:-20..19 or normal)" },
		{ "[capture]\npriority = fifo:\n",
		  "t.conf:2: bad priority 'fifo:' (expected fifo:1..99, nice:-20..19 or normal)" },
		{ "[capture]\nmax_rt_cpu_percent = 0\n",
		  "t.conf:2: bad value '0' for max_rt_cpu_percent (a number from 1 to 100)" },
		{ "[capture]\nqueue_max_events = 15\n",
		  "t.conf:2: bad value '15' for queue_max_events (a number from 16 to 16777216)" },
		{ "[process]\ntable_max_entries = 63\n",
		  "t.conf:2: bad value '63' for table_max_entries (a number from 64 to 4194304)" },
		{ "[events]\nthreads = maybe\n",
		  "t.conf:2: bad value 'maybe' for threads (expected yes or no)" },
		{ "[events]\nexit = sometimes\n",
		  "t.conf:2: bad value 'sometimes' for exit (expected all or nonzero)" },
		{ "[events]\ntypes = fork, teleport\n",
		  "t.conf:2: unknown event type 'teleport' (expected fork, exec, end, uid_change, "
		  "gid_change, session_id_change, ptrace, comm, coredump or all)" },
		{ "[events]\ntypes = ,\n", "t.conf:2: no event types given" },
		{ "[output]\nmax_line_bytes = 1023\n",
		  "t.conf:2: max_line_bytes must be 0 (no limit) or at least 1024" },
		{ "[agent]\nthis line has no equals sign\n",
		  "t.conf:2: syntax error (expected [section] or key = value)" },
		{ "[agent]\n[events\n",
		  "t.conf:2: syntax error (expected [section] or key = value)" },
	};
	struct config def;

	config_defaults(&def);
	for (size_t i = 0; i < UNIT_COUNT(t); i++) {
		struct config c;
		struct loaded l = load(&c, t[i].text, true);
		const char *want[] = { t[i].msg };
		if (l.rc != -1)
			fail_msg("case %zu accepted: %s", i, t[i].text);
		assert_errors(l.err, want, 1);
		/* A refused value leaves the default (max_line_bytes is clamped). */
		if (strstr(t[i].text, "max_line_bytes") == NULL)
			assert_config_equal(&c, &def);
		free(l.err);
		config_release(&c);
	}
	config_release(&def);
}

static void
test_max_line_bytes(void **state)
{
	struct config c;
	struct loaded l;

	l = load(&c, "[output]\nmax_line_bytes = 512\n", true);
	assert_int_equal(l.rc, -1);
	assert_int_equal(c.max_line_bytes, 1024);	/* clamped, and reported */
	free(l.err);
	config_release(&c);
	l = load(&c, "[output]\nmax_line_bytes = 0\n", true);
	assert_int_equal(l.rc, 0);
	assert_int_equal(c.max_line_bytes, 0);
	free(l.err);
	config_release(&c);
	l = load(&c, "[output]\nmax_line_bytes = 1024\n", true);
	assert_int_equal(l.rc, 0);
	assert_int_equal(c.max_line_bytes, 1024);
	free(l.err);
	config_release(&c);
	l = load(&c, "[output]\nmax_line_bytes = 64M\n", true);
	assert_int_equal(l.rc, 0);
	assert_int_equal(c.max_line_bytes, 64u << 20);
	free(l.err);
	config_release(&c);
	l = load(&c, "[output]\nmax_line_bytes = 65M\n", true);
	assert_int_equal(l.rc, -1);
	assert_int_equal(c.max_line_bytes, 0);
	free(l.err);
	config_release(&c);
}

static void
test_priority_forms(void **state)
{
	struct config c;
	struct loaded l;

	l = load(&c, "[capture]\npriority = normal\n", true);
	assert_int_equal(l.rc, 0);
	assert_int_equal(c.cap.prio, CAPTURE_PRIO_NORMAL);
	assert_int_equal(c.cap.prio_value, 0);
	free(l.err);
	config_release(&c);
	l = load(&c, "[capture]\npriority = fifo:99\n", true);
	assert_int_equal(l.rc, 0);
	assert_int_equal(c.cap.prio, CAPTURE_PRIO_FIFO);
	assert_int_equal(c.cap.prio_value, 99);
	free(l.err);
	config_release(&c);
	l = load(&c, "[capture]\npriority = nice:-20\n", true);
	assert_int_equal(l.rc, 0);
	assert_int_equal(c.cap.prio, CAPTURE_PRIO_NICE);
	assert_int_equal(c.cap.prio_value, -20);
	free(l.err);
	config_release(&c);
	l = load(&c, "[capture]\npriority = nice:19\n", true);
	assert_int_equal(c.cap.prio_value, 19);
	free(l.err);
	config_release(&c);
}

/* Many mistakes in one file: each is reported at its line, the rest applies. */
static void
test_every_error_reported(void **state)
{
	static const char text[] =
	    "[agent]\n"				/* 1 */
	    "log_level = loud\n"		/* 2 bad */
	    "log_target = syslog\n"		/* 3 ok */
	    "bogus = 1\n"			/* 4 bad */
	    "[capture]\n"			/* 5 */
	    "priority = rt:5\n"			/* 6 bad */
	    "rcvbuf = 12Q\n"			/* 7 bad */
	    "queue_max_bytes = 1M\n"		/* 8 ok */
	    "[nowhere]\n"			/* 9 */
	    "key = value\n"			/* 10 bad */
	    "[events]\n"			/* 11 */
	    "types = exec, teleport\n"		/* 12 bad */
	    "threads = on\n"			/* 13 ok */
	    "[process]\n"			/* 14 */
	    "max_args_bytes = 4G\n"		/* 15 bad */
	    "table_args_bytes = 4K\n";		/* 16 ok */
	static const char *const want[] = {
		"t.conf:2: bad log_level 'loud' (expected error, warning, info or debug)",
		"t.conf:4: unknown key 'bogus' in [agent]",
		"t.conf:6: bad priority 'rt:5' (expected fifo:1..99, nice:-20..19 or normal)",
		"t.conf:7: bad value '12Q' for rcvbuf (a size from 65536 to 1073741824 "
		"bytes; K, M, G suffixes allowed)",
		"t.conf:10: unknown section [nowhere]",
		"t.conf:12: unknown event type 'teleport' (expected fork, exec, end, uid_change, "
		"gid_change, session_id_change, ptrace, comm, coredump or all)",
		"t.conf:15: bad value '4G' for max_args_bytes (a size from 256 to 4194304 "
		"bytes; K, M, G suffixes allowed)",
	};
	struct config c, def;
	struct loaded l = load(&c, text, true);

	config_defaults(&def);
	assert_int_equal(l.rc, -1);
	assert_errors(l.err, want, UNIT_COUNT(want));
	/* Reported in line order. */
	const char *prev = l.err;
	for (size_t i = 0; i < UNIT_COUNT(want); i++) {
		const char *at = strstr(l.err, want[i]);
		assert_true(at >= prev);
		prev = at;
	}
	assert_int_equal(c.log_target, LOG_TO_SYSLOG);
	assert_int_equal(c.cap.queue_max_bytes, 1u << 20);
	assert_true(c.threads);
	assert_int_equal(c.table_args_bytes, 4096);
	assert_int_equal(c.log_level, def.log_level);
	assert_int_equal(c.cap.prio, def.cap.prio);
	assert_int_equal(c.cap.rcvbuf, def.cap.rcvbuf);
	assert_int_equal(c.emit_mask, def.emit_mask);	/* a bad list changes nothing */
	assert_int_equal(c.max_args_bytes, def.max_args_bytes);
	free(l.err);
	config_release(&c);
	config_release(&def);
}

/* A syntax error does not stop the parse: later lines are still applied and checked. */
static void
test_syntax_error_keeps_going(void **state)
{
	static const char text[] =
	    "[agent]\n"
	    "no equals here\n"			/* 2 syntax */
	    "log_level = debug\n"		/* 3 ok */
	    "heartbeat_interval = x\n";		/* 4 bad */
	static const char *const want[] = {
		"t.conf:2: syntax error (expected [section] or key = value)",
		"t.conf:4: bad value 'x' for heartbeat_interval (a number from 0 to 86400)",
	};
	struct config c;
	struct loaded l = load(&c, text, true);

	assert_int_equal(l.rc, -1);
	assert_errors(l.err, want, UNIT_COUNT(want));
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	free(l.err);
	config_release(&c);
}

/* An indented line continues the previous value (inih); it is checked as one. */
static void
test_indented_line_is_a_continuation(void **state)
{
	static const char *const want[] = {
		"t.conf:3: bad value '[output]' for table_args_bytes (a size from 0 to "
		"1048576 bytes; K, M, G suffixes allowed)",
		"t.conf:4: unknown key 'max_line_bytes' in [process]",
	};
	struct config c;
	struct loaded l = load(&c, "[process]\ntable_args_bytes = 4K\n  [output]\n"
	    "max_line_bytes = 2K\n", true);

	assert_int_equal(l.rc, -1);
	assert_errors(l.err, want, UNIT_COUNT(want));
	assert_int_equal(c.table_args_bytes, 4096);
	assert_int_equal(c.max_line_bytes, 0);
	free(l.err);
	config_release(&c);
}

static void
test_too_long_line(void **state)
{
	char text[1024];
	struct config c;
	struct loaded l;
	int n;

	/* 198 characters of key = value fit; 199 do not. */
	n = snprintf(text, sizeof(text), "[agent]\nlog_target = syslog%*s\n", 198 - 19, "");
	assert_true(n > 0);
	assert_int_equal(strlen(strchr(text, '\n') + 1), 199);
	l = load(&c, text, true);
	assert_int_equal(l.rc, 0);
	assert_int_equal(c.log_target, LOG_TO_SYSLOG);
	free(l.err);

	n = snprintf(text, sizeof(text), "[agent]\nlog_target = syslog%*s\n"
	    "log_level = warning\nbad = 1\n", 199 - 19, "");
	assert_true(n > 0);
	const char *want[] = {
		"t.conf:2: line too long (at most 198 characters)",
		"t.conf:4: unknown key 'bad' in [agent]",
	};
	config_release(&c);
	l = load(&c, text, true);
	assert_int_equal(l.rc, -1);
	assert_errors(l.err, want, UNIT_COUNT(want));
	assert_int_equal(c.log_target, LOG_TO_STDERR);	/* the long line is ignored */
	assert_int_equal(c.log_level, LOG_LVL_WARN);	/* the next one is not */
	free(l.err);
	config_release(&c);
}

/* Builds "[agent]\n<comment of len bytes>\nbad = 1\n" in a new buffer. */
static char *
text_with_long_line(size_t len)
{
	char *t = malloc(len + 64);
	assert_non_null(t);
	strcpy(t, "[agent]\n;");
	memset(t + 9, 'c', len - 1);
	strcpy(t + 8 + len, "\nbad = 1\n");
	return t;
}

/* The file reader skips the whole of a physical line longer than its buffer. */
static void
test_file_long_line(void **state)
{
	char path[] = "/tmp/hids-test-config-XXXXXX";
	int fd = mkstemp(path);
	char *text = text_with_long_line(5000);
	struct config c;
	char *err = NULL;
	size_t errlen = 0;
	FILE *f;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	f = open_memstream(&err, &errlen);
	config_defaults(&c);
	assert_int_equal(config_load(&c, path, f), -1);
	fclose(f);
	char want0[128], want1[128];
	snprintf(want0, sizeof(want0), "%s:2: line too long (at most 198 characters)", path);
	snprintf(want1, sizeof(want1), "%s:3: unknown key 'bad' in [agent]", path);
	const char *want[] = { want0, want1 };
	assert_errors(err, want, 2);
	free(err);
	free(text);
	unlink(path);

	/* A missing file is one error naming it. */
	f = open_memstream(&err, &errlen);
	assert_int_equal(config_load(&c, "/nonexistent/hids.conf", f), -1);
	fclose(f);
	assert_string_equal(err, "/nonexistent/hids.conf: cannot open: No such file or directory\n");
	free(err);
	config_release(&c);
}

static void
test_null_errout(void **state)
{
	struct config c;

	config_defaults(&c);
	assert_int_equal(config_load_string(&c, "[agent]\nlog_level = loud\nx\n",
	    "t.conf", NULL), -1);
	assert_int_equal(config_load_string(&c, "[agent]\nlog_level = error\n",
	    "t.conf", NULL), 0);
	assert_int_equal(c.log_level, LOG_LVL_ERROR);
	assert_int_equal(config_load(&c, "/nonexistent/hids.conf", NULL), -1);
	config_release(&c);
}

static void
test_loads_layer(void **state)
{
	struct config c;
	struct loaded l;

	/* A second load changes only what it names. */
	l = load(&c, "[agent]\nheartbeat_interval = 5\n", true);
	free(l.err);
	l = load(&c, "[capture]\nrcvbuf = 1M\n", false);
	assert_int_equal(l.rc, 0);
	assert_int_equal(c.heartbeat_interval_s, 5);
	assert_int_equal(c.cap.rcvbuf, 1u << 20);
	free(l.err);
	config_release(&c);
}

static void
test_kernel_mask(void **state)
{
	struct config c;
	struct loaded l;

	/* Every type and all exits: ask for everything, the kernel's fast path. */
	config_defaults(&c);
	assert_int_equal(config_kernel_mask(&c), CN_EV_ALL);
	config_release(&c);

	l = load(&c, "[events]\ntypes = all\n", true);
	assert_int_equal(l.rc, 0);
	assert_int_equal(c.emit_mask, CN_EV_ALL & ~CN_EV_NONZERO_EXIT);
	assert_int_equal(config_kernel_mask(&c), CN_EV_ALL);
	free(l.err);

	/* Non-zero exits only: the NONZERO_EXIT filter instead of EXIT. */
	config_release(&c);
	l = load(&c, "[events]\nexit = nonzero\n", true);
	assert_int_equal(config_kernel_mask(&c),
	    (CN_EV_ALL & ~CN_EV_NONZERO_EXIT & ~CN_EV_EXIT) | CN_EV_NONZERO_EXIT);
	assert_int_equal(config_kernel_mask(&c) & CN_EV_EXIT, 0);
	free(l.err);

	config_release(&c);
	l = load(&c, "[events]\ntypes = exec\n", true);
	assert_int_equal(config_kernel_mask(&c), CN_EV_EXEC);
	free(l.err);

	config_release(&c);
	l = load(&c, "[events]\ntypes = exec end\nexit = nonzero\n", true);
	assert_int_equal(config_kernel_mask(&c), CN_EV_EXEC | CN_EV_NONZERO_EXIT);
	free(l.err);

	/* The names of earlier versions still parse: exit, uid, gid, sid. */
	config_release(&c);
	l = load(&c, "[events]\ntypes = exec exit\nexit = nonzero\n", true);
	assert_int_equal(l.rc, 0);
	assert_int_equal(config_kernel_mask(&c), CN_EV_EXEC | CN_EV_NONZERO_EXIT);
	free(l.err);

	/* nonzero without exit in the list adds nothing. */
	config_release(&c);
	l = load(&c, "[events]\ntypes = fork\nexit = nonzero\n", true);
	assert_int_equal(config_kernel_mask(&c), CN_EV_FORK);
	free(l.err);

	config_release(&c);
	l = load(&c, "[events]\ntypes = uid,gid,sid,comm,coredump,ptrace\n", true);
	assert_int_equal(config_kernel_mask(&c), CN_EV_UID | CN_EV_GID | CN_EV_SID |
	    CN_EV_COMM | CN_EV_COREDUMP | CN_EV_PTRACE);
	free(l.err);

	config_release(&c);
	l = load(&c, "[events]\ntypes = uid_change,gid_change,session_id_change,comm\n", true);
	assert_int_equal(l.rc, 0);
	assert_int_equal(config_kernel_mask(&c), CN_EV_UID | CN_EV_GID | CN_EV_SID | CN_EV_COMM);
	free(l.err);
	config_release(&c);
}

/* A readable file for the *_file keys. */
#define READABLE HIDS_UNIT_FIXTURES "/cgroup/not-root"
#define PIN_A "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define PIN_B "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA="

static void
test_collector_valid(void **state)
{
	struct config c;
	struct loaded l = load(&c,
	    "[collector]\n"
	    "address = siem.example:6514, [2001:db8::1]:6515 10.0.0.1:1\n"
	    "protocol = ndjson\n"
	    "server_name = siem.example\n"
	    "ca_file = " READABLE "\n"
	    "cert_file = " READABLE "\n"
	    "key_file = " READABLE "\n"
	    "pin_sha256 = " PIN_A ", " PIN_B "\n"
	    "batch_events = 100\n"
	    "batch_bytes = 1M\n"
	    "flush_interval_ms = 20\n"
	    "backoff_initial_ms = 100\n"
	    "backoff_max_ms = 60000\n"
	    "healthy_after_s = 10\n"
	    "connect_timeout_s = 3\n"
	    "stop_timeout_s = 0\n"
	    "start_jitter_ms = 0\n", true);

	assert_string_equal(l.err, "");
	assert_int_equal(l.rc, 0);
	assert_true(c.forward);
	assert_int_equal(c.col.naddrs, 3);
	assert_string_equal(c.col.addrs[0].host, "siem.example");
	assert_string_equal(c.col.addrs[0].port, "6514");
	assert_string_equal(c.col.addrs[1].host, "2001:db8::1");
	assert_string_equal(c.col.addrs[1].label, "[2001:db8::1]:6515");
	assert_string_equal(c.col.addrs[2].label, "10.0.0.1:1");
	assert_string_equal(c.col.server_name, "siem.example");
	assert_string_equal(c.col.tls.ca_file, READABLE);
	assert_string_equal(c.col.tls.key_file, READABLE);
	assert_int_equal(c.col.tls.npins, 2);
	for (int i = 0; i < 32; i++)
		assert_int_equal(c.col.tls.pins[0][i], 0);
	assert_int_equal(c.col.tls.pins[1][0], 0xab);
	assert_int_equal(c.col.tls.pins[1][1], 0xcd);
	assert_int_equal(c.col.batch_events, 100);
	assert_int_equal(c.col.batch_bytes, 1u << 20);
	assert_int_equal(c.col.backoff_max_ms, 60000);
	assert_int_equal(c.col.stop_timeout_s, 0);
	/* Forwarding bounds lines at 8 KiB unless the operator chose. */
	assert_int_equal(c.max_line_bytes, 8192);
	config_release(&c);
	free(l.err);

	l = load(&c, "[output]\nmax_line_bytes = 0\n[collector]\naddress = a:1\n", true);
	assert_int_equal(l.rc, 0);
	assert_int_equal(c.max_line_bytes, 0);
	config_release(&c);
	free(l.err);
	l = load(&c, "[collector]\naddress = a:1\n[output]\nmax_line_bytes = 64K\n", true);
	assert_int_equal(c.max_line_bytes, 64u << 10);
	config_release(&c);
	free(l.err);
}

static void
test_collector_errors(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} t[] = {
		{ "[collector]\naddress = nohost\n",
		  "t.conf:2: bad address 'nohost' (expected host:port)" },
		{ "[collector]\naddress = [::1]6514\n",
		  "t.conf:2: bad address '[::1]6514' (expected [ipv6]:port)" },
		{ "[collector]\naddress = host:0\n",
		  "t.conf:2: bad address 'host:0' (expected host:port, port 1-65535)" },
		{ "[collector]\naddress = ,\n", "t.conf:2: no collector address given" },
		{ "[collector]\nca_file = /nonexistent/ca.pem\n",
		  "t.conf:2: cannot read ca_file '/nonexistent/ca.pem': No such file or directory" },
		{ "[collector]\npin_sha256 = abc\n",
		  "t.conf:2: bad pin_sha256 'abc' (expected the base64 of a 32-byte SHA-256)" },
		{ "[collector]\nbatch_events = 0\n",
		  "t.conf:2: bad value '0' for batch_events (a number from 1 to 65536)" },
		{ "[collector]\nbogus = 1\n", "t.conf:2: unknown key 'bogus' in [collector]" },
		/* What only the whole file shows has no line number. */
		{ "[collector]\ncert_file = " READABLE "\n",
		  "t.conf: [collector] cert_file and key_file go together" },
		{ "[collector]\nkey_file = " READABLE "\n",
		  "t.conf: [collector] cert_file and key_file go together" },
		{ "[collector]\nbackoff_initial_ms = 5000\nbackoff_max_ms = 1000\n",
		  "t.conf: [collector] backoff_max_ms is below backoff_initial_ms" },
	};
	for (size_t i = 0; i < UNIT_COUNT(t); i++) {
		struct config c;
		struct loaded l = load(&c, t[i].text, true);
		const char *want[] = { t[i].msg };
		if (l.rc != -1)
			fail_msg("case %zu accepted: %s", i, t[i].text);
		assert_errors(l.err, want, 1);
		assert_false(c.forward);
		config_release(&c);
		free(l.err);
	}

	/* The protocol list grows; the message starts the same. */
	struct config c;
	struct loaded l = load(&c, "[collector]\nprotocol = carrier-pigeon\n", true);
	assert_int_equal(l.rc, -1);
	assert_int_equal(count_lines(l.err), 1);
	assert_true(strncmp(l.err, "t.conf:2: bad protocol 'carrier-pigeon' (expected ndjson",
	    strlen("t.conf:2: bad protocol 'carrier-pigeon' (expected ndjson")) == 0);
	config_release(&c);
	free(l.err);
}

/* Runs one fuzz input as the harness does (text up to the first NUL, no errout). */
static void
replay_one(const char *name, const char *buf, size_t len, void *arg)
{
	struct config c;
	print_message("replay %s (%zu bytes)\n", name, len);
	config_defaults(&c);
	int rc = config_load_string(&c, buf, "fuzz", NULL);
	assert_true(rc == 0 || rc == -1);
	assert_true(c.max_line_bytes == 0 || c.max_line_bytes >= 1024);
	config_release(&c);
}

static void
test_replay_fuzz_inputs(void **state)
{
	assert_true(unit_for_each_file(HIDS_FUZZ_DIR "/corpus/config", replay_one, NULL) > 0);
	unit_for_each_file(HIDS_FUZZ_DIR "/regressions/config", replay_one, NULL);
}

/*
 * Regression (fixed in ed24c0d): inih returns only the first malformed
 * line, so a second syntax error went unreported. Every one is reported,
 * in line order among the other errors.
 */
static void
test_every_syntax_error_reported(void **state)
{
	static const char text[] =
	    "[agent]\n"				/* 1 */
	    "first bad\n"			/* 2 syntax */
	    "log_level = debug\n"		/* 3 ok */
	    "[second\n"				/* 4 syntax */
	    "log_target = nowhere\n"		/* 5 bad value */
	    "third bad line\n"			/* 6 syntax */
	    "  indented continues log_target\n"	/* 7 bad value */
	    "[events]\n"			/* 8 */
	    "threads = yes\n";			/* 9 ok */
	static const char *const want[] = {
		"t.conf:2: syntax error (expected [section] or key = value)",
		"t.conf:4: syntax error (expected [section] or key = value)",
		"t.conf:5: bad log_target 'nowhere' (expected stderr or syslog)",
		"t.conf:6: syntax error (expected [section] or key = value)",
		"t.conf:7: bad log_target 'indented continues log_target' (expected stderr or syslog)",
	};
	struct config c;
	struct loaded l = load(&c, text, true);

	assert_int_equal(l.rc, -1);
	assert_errors(l.err, want, UNIT_COUNT(want));
	const char *prev = l.err;
	for (size_t i = 0; i < UNIT_COUNT(want); i++) {
		const char *at = strstr(l.err, want[i]);
		assert_true(at >= prev);
		prev = at;
	}
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	assert_true(c.threads);
	config_release(&c);
	free(l.err);
}

/*
 * Regression (fixed in ed24c0d): string input cut a line of 4096 bytes or
 * more at 4095 and read the rest as another line, so one long line gave
 * two errors and every later line number was one too high.
 */
static void
test_string_long_line_skipped(void **state)
{
	static const size_t lens[] = { 4094, 4095, 4096, 4200, 5000, 20000 };

	for (size_t i = 0; i < UNIT_COUNT(lens); i++) {
		char *text = text_with_long_line(lens[i]);
		static const char *const want[] = {
			"t.conf:2: line too long (at most 198 characters)",
			"t.conf:3: unknown key 'bad' in [agent]",
		};
		struct config c;
		struct loaded l = load(&c, text, true);

		assert_int_equal(l.rc, -1);
		assert_errors(l.err, want, UNIT_COUNT(want));
		config_release(&c);
		free(l.err);
		free(text);
	}
}

/*
 * Regression (fixed in ed24c0d): the upper bound of [collector]
 * queue_max_bytes was 4u << 30, which wraps to 0 in 32-bit arithmetic, so
 * every value was refused ("a size from 65536 to 0 bytes").
 */
static void
test_collector_queue_max_bytes(void **state)
{
	struct config c;
	struct loaded l = load(&c, "[collector]\nqueue_max_bytes = 16M\n", true);

	assert_string_equal(l.err, "");
	assert_int_equal(l.rc, 0);
	assert_int_equal(c.col.queue_max_bytes, 16u << 20);
	config_release(&c);
	free(l.err);
	l = load(&c, "[collector]\nqueue_max_bytes = 4G\n", true);
	assert_int_equal(l.rc, 0);
	assert_true(c.col.queue_max_bytes == (4ull << 30));
	config_release(&c);
	free(l.err);
	l = load(&c, "[collector]\nqueue_max_bytes = 4097M\n", true);
	assert_int_equal(l.rc, -1);
	assert_int_equal(c.col.queue_max_bytes, 8u << 20);
	config_release(&c);
	free(l.err);
}

/* Windows line ends are read like Unix ones. */
static void
test_crlf_lines(void **state)
{
	struct config c;
	struct loaded l = load(&c, "; c\r\n[agent]\r\nlog_level = debug\r\n\r\n"
	    "[events]\r\nthreads = yes\r\n", true);

	assert_string_equal(l.err, "");
	assert_int_equal(l.rc, 0);
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	assert_true(c.threads);
	config_release(&c);
	free(l.err);
}

/*
 * Regression (agent/config.c, line_is_malformed, added in ed24c0d): the new
 * syntax check runs on every raw line, including a first line that starts
 * with a UTF-8 byte order mark (EF BB BF), which inih itself skips
 * (INI_ALLOW_BOM). A file saved "with BOM" by a Windows editor now gets a
 * "syntax error" on line 1, loses its first [section] header (so the keys
 * under it are "unknown section []"), and fails to load; before ed24c0d it
 * loaded. Both config_load and config_load_string are affected.
 */
static void
test_bom_first_line(void **state)
{
	struct config c;
	struct loaded l = load(&c, "\xef\xbb\xbf[agent]\nlog_level = debug\n", true);

	print_message("%s", l.err);
	assert_string_equal(l.err, "");
	assert_int_equal(l.rc, 0);
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	config_release(&c);
	free(l.err);
	l = load(&c, "\xef\xbb\xbf; generated by an editor\n[agent]\n", true);
	print_message("%s", l.err);
	assert_string_equal(l.err, "");
	assert_int_equal(l.rc, 0);
	config_release(&c);
	free(l.err);
}

/* [metrics] listen: off by default, loopback for a bare port, file:line for a bad value. */
static void
test_metrics_listen(void **state)
{
	struct config c;
	struct loaded l;
	const char *const want[] = {
		"t.conf:2: bad port '0' in listen (expected 1 to 65535)",
		"t.conf:3: bad listen address 'example.org' (expected a numeric IPv4 or IPv6 address)",
		"t.conf:4: bad listen '::1:9464' (put an IPv6 address in brackets: [ADDRESS]:PORT)",
		"t.conf:5: bad listen '[::1' (expected [ADDRESS]:PORT)",
		"t.conf:6: bad port 'x' in listen (expected 1 to 65535)",
	};
	struct sockaddr_storage ss;
	socklen_t len;
	char err[256];

	config_defaults(&c);
	assert_null(c.metrics_listen);
	config_release(&c);
	l = load(&c, "[metrics]\nlisten = 9464\n", true);
	assert_int_equal(l.rc, 0);
	assert_string_equal(c.metrics_listen, "9464");
	assert_int_equal(metrics_parse_listen(c.metrics_listen, &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(((struct sockaddr_in *)&ss)->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 9464);
	free(l.err);
	l = load(&c, "[metrics]\nlisten = [::1]:9000\n", false);
	assert_int_equal(l.rc, 0);
	assert_int_equal(metrics_parse_listen(c.metrics_listen, &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	free(l.err);
	l = load(&c, "[metrics]\nlisten =\n", false);
	assert_int_equal(l.rc, 0);
	assert_null(c.metrics_listen);
	free(l.err);
	config_release(&c);

	l = load(&c, "[metrics]\nlisten = 127.0.0.1:0\nlisten = example.org:1\n"
	    "listen = ::1:9464\nlisten = [::1\nlisten = 0.0.0.0:x\n", true);
	assert_int_equal(l.rc, -1);
	assert_errors(l.err, want, UNIT_COUNT(want));
	free(l.err);
	config_release(&c);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_table_shape),
		cmocka_unit_test(test_reload_keeps_restart_only),
		cmocka_unit_test(test_full_valid_config),
		cmocka_unit_test(test_empty_and_comments_only),
		cmocka_unit_test(test_each_error_message),
		cmocka_unit_test(test_max_line_bytes),
		cmocka_unit_test(test_priority_forms),
		cmocka_unit_test(test_every_error_reported),
		cmocka_unit_test(test_syntax_error_keeps_going),
		cmocka_unit_test(test_indented_line_is_a_continuation),
		cmocka_unit_test(test_too_long_line),
		cmocka_unit_test(test_file_long_line),
		cmocka_unit_test(test_null_errout),
		cmocka_unit_test(test_loads_layer),
		cmocka_unit_test(test_kernel_mask),
		cmocka_unit_test(test_collector_valid),
		cmocka_unit_test(test_collector_errors),
		cmocka_unit_test(test_every_syntax_error_reported),
		cmocka_unit_test(test_string_long_line_skipped),
		cmocka_unit_test(test_collector_queue_max_bytes),
		cmocka_unit_test(test_crlf_lines),
		cmocka_unit_test(test_replay_fuzz_inputs),
		cmocka_unit_test(test_bom_first_line),
		cmocka_unit_test(test_metrics_listen),
	};
	return unit_main(argc, argv, "config", tests, UNIT_COUNT(tests), NULL, 0);
}
