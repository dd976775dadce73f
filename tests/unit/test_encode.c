/* Proves that encode_event emits one valid-UTF-8 JSON line per event with the right ECS fields, reversible escaping, and args cut (not the line split) to fit max_line_bytes. */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "encode.h"
#include "escape.h"
#include "unit.h"
#include "../jpath.h"

#define T0_REAL 1700000000ull			/* 2023-11-14T22:13:20Z */
#define BOOT_REAL 1690000000ull
#define NS 1000000000ull

static void
ctx_init(struct encode_ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->hostname = "web-1";
	c->host_id = "0123abcd";
	c->agent_id = "agent-7";
	c->agent_version = "9.9.9";
	c->ephemeral_id = "eph";
	/* A kernel timestamp of 1 s monotonic is T0_REAL on the wall clock. */
	c->mono_to_real_ns = (int64_t)(T0_REAL * NS - NS);
	c->boot_to_real_ns = (int64_t)(BOOT_REAL * NS);
	c->clk_tck = 100;
}

/* Gives p a copy of n bytes of NUL-separated args and their true count. */
static void
set_args(struct process *p, const char *args, size_t n, uint32_t count)
{
	free(p->args);
	p->args = malloc(n + 1);
	assert_non_null(p->args);
	memcpy(p->args, args, n);
	p->args[n] = '\0';
	p->args_len = n;
	p->args_count = count;
	p->known |= PF_ARGS;
}

static const char *
jstr(json_object *root, const char *path)
{
	json_object *o = jget(root, path);
	if (o == NULL || !json_object_is_type(o, json_type_string))
		fail_msg("%s is missing or not a string", path);
	return json_object_get_string(o);
}

static int64_t
jint(json_object *root, const char *path)
{
	json_object *o = jget(root, path);
	if (o == NULL || !json_object_is_type(o, json_type_int))
		fail_msg("%s is missing or not an integer", path);
	return json_object_get_int64(o);
}

static bool
jbool(json_object *root, const char *path)
{
	json_object *o = jget(root, path);
	if (o == NULL || !json_object_is_type(o, json_type_boolean))
		fail_msg("%s is missing or not a boolean", path);
	return json_object_get_boolean(o);
}

/* Says whether the array at path holds the string s. */
static bool
jarray_has(json_object *root, const char *path, const char *s)
{
	json_object *a = jget(root, path);
	if (a == NULL || !json_object_is_type(a, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(a); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(a, i)), s) == 0)
			return true;
	return false;
}

/* Asserts the line is one JSON document, valid UTF-8, ending in one '\n'. */
static void
assert_one_line(const char *line, size_t len)
{
	assert_true(len >= 2);
	assert_int_equal(strlen(line), len);
	assert_int_equal(line[len - 1], '\n');
	assert_null(memchr(line, '\n', len - 1));
	assert_null(memchr(line, '\r', len));
	assert_true(utf8_valid(line, len));
}

/* Encodes ev, checks the line's framing, and returns it parsed. */
static json_object *
encode_parse(struct encode_ctx *ctx, const struct hids_event *ev, size_t *len_out)
{
	size_t len = 0;
	char *line = encode_event(ctx, ev, &len);
	struct json_tokener *tok = json_tokener_new();

	encode_ctx_release(ctx);	/* the shared objects are built again next time */
	json_object *doc;

	assert_non_null(line);
	assert_one_line(line, len);
	doc = json_tokener_parse_ex(tok, line, (int)len - 1);
	if (doc == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    (size_t)json_tokener_get_parse_end(tok) != len - 1)
		fail_msg("not one JSON document: %s", line);
	assert_true(json_object_is_type(doc, json_type_object));
	json_tokener_free(tok);
	free(line);
	if (len_out)
		*len_out = len;
	return doc;
}

/* An exec of "ls -l my file" by pid 4242 under parent 4000. */
static void
exec_event(struct hids_event *ev)
{
	static const char args[] = "/bin/ls\0-l\0my file";

	hids_event_init(ev);
	ev->k.action = EV_EXEC;
	ev->k.what = CN_EV_EXEC;
	ev->k.pid = ev->k.tgid = 4242;
	ev->k.cpu = 2;
	ev->k.seq = 99;
	ev->k.ts_ns = NS + 123;
	ev->proc.pid = 4242;
	ev->proc.ppid = 4000;
	ev->proc.pgid = 4242;
	ev->proc.sid = 3900;
	ev->proc.tty_nr = 34816;		/* pts/0 */
	ev->proc.start_ticks = 12345;		/* 123.45 s after boot */
	ev->proc.known = PF_STAT | PF_PPID | PF_NAME | PF_EXE | PF_CWD | PF_IDS;
	strcpy(ev->proc.name, "ls");
	ev->proc.executable = strdup("/usr/bin/ls");
	ev->proc.cwd = strdup("/home/alice");
	ev->proc.ids = (struct proc_ids){ 1000, 1001, 1002, 1003, 100, 101, 102, 103 };
	strcpy(ev->proc.entity_id, "AAAAAAAAAAAAAAAAAAAAAAAA");
	set_args(&ev->proc, args, sizeof(args) - 1, 3);
	ev->has_parent = true;
	ev->parent.pid = 4000;
	ev->parent.known = PF_NAME | PF_EXE;
	strcpy(ev->parent.name, "bash");
	ev->parent.executable = strdup("/bin/bash");
	ev->user_name = "alice";
	ev->group_name = "users";
}

static void
test_exec_fields(void **state)
{
	struct encode_ctx ctx;
	struct hids_event ev;
	json_object *d;

	ctx_init(&ctx);
	exec_event(&ev);
	d = encode_parse(&ctx, &ev, NULL);

	assert_string_equal(jstr(d, "@timestamp"), "2023-11-14T22:13:20.000000123Z");
	assert_string_equal(jstr(d, "event.action"), "exec");
	assert_string_equal(jstr(d, "event.kind"), "event");
	assert_true(jarray_has(d, "event.type", "start"));
	assert_int_equal(json_object_array_length(jget(d, "event.type")), 1);
	assert_true(jarray_has(d, "event.category", "process"));
	assert_string_equal(jstr(d, "event.id"), "eph-1");
	assert_int_equal(jint(d, "event.sequence"), 1);
	assert_string_equal(jstr(d, "event.module"), "hids");
	assert_int_equal(jint(d, "process.pid"), 4242);
	assert_string_equal(jstr(d, "process.entity_id"), "AAAAAAAAAAAAAAAAAAAAAAAA");
	assert_string_equal(jstr(d, "process.name"), "ls");
	assert_string_equal(jstr(d, "process.executable"), "/usr/bin/ls");
	assert_string_equal(jstr(d, "process.working_directory"), "/home/alice");
	assert_string_equal(jstr(d, "process.command_line"), "/bin/ls -l my file");
	assert_int_equal(jint(d, "process.args_count"), 3);
	json_object *args = jget(d, "process.args");
	assert_non_null(args);
	assert_int_equal(json_object_array_length(args), 3);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(args, 0)), "/bin/ls");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(args, 2)), "my file");
	assert_int_equal(jint(d, "process.parent.pid"), 4000);
	assert_string_equal(jstr(d, "process.parent.name"), "bash");
	assert_string_equal(jstr(d, "process.parent.executable"), "/bin/bash");
	assert_string_equal(jstr(d, "process.start"), "2023-07-22T04:28:43.450000000Z");
	assert_int_equal(jint(d, "process.session_leader.pid"), 3900);
	assert_int_equal(jint(d, "process.group_leader.pid"), 4242);
	assert_int_equal(jint(d, "process.tty.char_device.major"), 136);
	assert_int_equal(jint(d, "process.tty.char_device.minor"), 0);
	assert_string_equal(jstr(d, "process.user.id"), "1001");	/* effective */
	assert_string_equal(jstr(d, "process.user.name"), "alice");
	assert_string_equal(jstr(d, "process.real_user.id"), "1000");
	assert_string_equal(jstr(d, "process.saved_user.id"), "1002");
	assert_string_equal(jstr(d, "process.group.id"), "101");
	assert_string_equal(jstr(d, "process.group.name"), "users");
	assert_string_equal(jstr(d, "process.real_group.id"), "100");
	assert_string_equal(jstr(d, "user.id"), "1001");
	assert_string_equal(jstr(d, "group.id"), "101");
	assert_string_equal(jstr(d, "host.hostname"), "web-1");
	assert_string_equal(jstr(d, "host.id"), "0123abcd");
	assert_string_equal(jstr(d, "agent.id"), "agent-7");
	assert_string_equal(jstr(d, "agent.version"), "9.9.9");
	assert_string_equal(jstr(d, "agent.ephemeral_id"), "eph");
	assert_string_equal(jstr(d, "ecs.version"), ECS_VERSION);
	assert_int_equal(jint(d, "hids.kernel.cpu"), 2);
	assert_int_equal(jint(d, "hids.kernel.seq"), 99);
	/* Nothing was escaped, cut or missed. */
	assert_null(jget(d, "hids.escaped"));
	assert_null(jget(d, "hids.args_truncated"));
	assert_null(jget(d, "hids.proc_gone"));
	assert_null(jget(d, "process.exit_code"));
	json_object_put(d);
	hids_event_release(&ev);
}

/* The whole parent, the leaders, entry_meta, capabilities, login identity and runtime. */
static void
test_related_processes(void **state)
{
	static const char id[] =
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct encode_ctx ctx;
	struct hids_event ev;
	json_object *d;
	(void)state;

	ctx_init(&ctx);
	exec_event(&ev);
	ev.parent.known |= PF_ARGS | PF_CWD | PF_IDS | PF_STAT;
	set_args(&ev.parent, "bash\0-c\0ls", 10, 3);
	ev.parent.cwd = strdup("/srv");
	ev.parent.ids = (struct proc_ids){ 0, 0, 0, 0, 0, 0, 0, 0 };
	ev.parent.tty_nr = 0;
	ev.parent_user_name = "root";
	ev.parent_group_name = "root";
	/* The session leader is in the table; the group leader is the process itself, not copied here. */
	ev.has_session_leader = true;
	ev.session_leader.pid = 3900;
	ev.session_leader.known = PF_NAME | PF_EXE | PF_STAT | PF_IDS;
	ev.session_leader.executable = strdup("/usr/bin/bash");
	strcpy(ev.session_leader.name, "bash");
	ev.session_leader.tty_nr = 34816;
	ev.session_leader.ids.euid = 1000;
	ev.leader_user_name[0] = "alice";
	/* The entry leader's table entry is gone: pid, entity id and entry_meta stay. */
	ev.proc.entry.pid = 3800;
	ev.proc.entry.type = ENTRY_SSHD;
	strcpy(ev.proc.entry.entity_id, "BBBBBBBBBBBBBBBBBBBBBBBB");
	ev.proc.entry.ip_family = AF_INET;
	memcpy(ev.proc.entry.ip, "\xc0\x00\x02\x07", 4);
	ev.proc.known |= PF_CAPS | PF_AUDIT | PF_CONTAINER;
	ev.proc.cap_eff = (1ull << 12) | (1ull << 21) | (1ull << 50);
	ev.proc.cap_prm = ev.proc.cap_eff | 1;
	ev.proc.audit_uid = 1000;
	ev.proc.audit_sid = 7;
	ev.audit_user_name = "alice";
	memcpy(ev.proc.container_id, id, sizeof(id));
	ev.proc.runtime = RUNTIME_PODMAN;
	d = encode_parse(&ctx, &ev, NULL);

	assert_true(jbool(d, "process.interactive"));
	assert_string_equal(jstr(d, "process.parent.command_line"), "bash -c ls");
	assert_string_equal(jstr(d, "process.parent.working_directory"), "/srv");
	assert_string_equal(jstr(d, "process.parent.user.id"), "0");
	assert_string_equal(jstr(d, "process.parent.user.name"), "root");
	assert_string_equal(jstr(d, "process.parent.group.name"), "root");
	assert_string_equal(jstr(d, "process.parent.real_user.id"), "0");
	assert_false(jbool(d, "process.parent.interactive"));
	assert_int_equal(jint(d, "process.session_leader.pid"), 3900);
	assert_string_equal(jstr(d, "process.session_leader.name"), "bash");
	assert_string_equal(jstr(d, "process.session_leader.user.name"), "alice");
	assert_true(jbool(d, "process.session_leader.interactive"));
	assert_int_equal(jint(d, "process.group_leader.pid"), 4242);
	assert_null(jget(d, "process.group_leader.name"));
	assert_int_equal(jint(d, "process.entry_leader.pid"), 3800);
	assert_string_equal(jstr(d, "process.entry_leader.entity_id"), "BBBBBBBBBBBBBBBBBBBBBBBB");
	assert_string_equal(jstr(d, "process.entry_leader.entry_meta.type"), "sshd");
	assert_string_equal(jstr(d, "process.entry_leader.entry_meta.source.ip"), "192.0.2.7");
	assert_null(jget(d, "process.entry_leader.name"));
	assert_true(jarray_has(d, "process.thread.capabilities.effective", "CAP_NET_ADMIN"));
	assert_true(jarray_has(d, "process.thread.capabilities.effective", "CAP_SYS_ADMIN"));
	assert_true(jarray_has(d, "process.thread.capabilities.effective", "CAP_50"));
	assert_false(jarray_has(d, "process.thread.capabilities.effective", "CAP_CHOWN"));
	assert_true(jarray_has(d, "process.thread.capabilities.permitted", "CAP_CHOWN"));
	assert_null(jget(d, "process.thread.id"));
	assert_string_equal(jstr(d, "user.effective.id"), "1001");
	assert_string_equal(jstr(d, "user.audit.id"), "1000");
	assert_string_equal(jstr(d, "user.audit.name"), "alice");
	assert_string_equal(jstr(d, "auditd.session"), "7");
	assert_string_equal(jstr(d, "container.runtime"), "podman");
	json_object_put(d);
	hids_event_release(&ev);

	/* Never set: no user.audit, no auditd; no entry: no entry_leader; exit: no capabilities. */
	exec_event(&ev);
	ev.k.action = EV_EXIT;
	ev.proc.known |= PF_CAPS | PF_AUDIT;
	ev.proc.audit_uid = AUDIT_UNSET;
	ev.proc.audit_sid = AUDIT_UNSET;
	ev.proc.entry.type = ENTRY_UNKNOWN;
	d = encode_parse(&ctx, &ev, NULL);
	assert_null(jget(d, "user.audit"));
	assert_null(jget(d, "auditd"));
	assert_null(jget(d, "process.entry_leader"));
	assert_null(jget(d, "process.thread"));
	json_object_put(d);
	hids_event_release(&ev);
}

static void
test_sequence_and_ids(void **state)
{
	struct encode_ctx ctx;
	struct hids_event ev;
	const char *prev = NULL;
	char seen[8][32];

	ctx_init(&ctx);
	ctx.sequence = 41;
	exec_event(&ev);
	for (int i = 0; i < 8; i++) {
		json_object *d = encode_parse(&ctx, &ev, NULL);
		assert_int_equal(jint(d, "event.sequence"), 42 + i);
		snprintf(seen[i], sizeof(seen[i]), "%s", jstr(d, "event.id"));
		if (prev)
			assert_string_not_equal(prev, seen[i]);
		prev = seen[i];
		json_object_put(d);
	}
	assert_string_equal(seen[0], "eph-42");
	assert_true(ctx.sequence == 49);
	hids_event_release(&ev);
}

static void
test_action_types(void **state)
{
	static const struct {
		enum ev_action a;
		const char *name, *type;
	} t[] = {
		{ EV_FORK, "fork", "start" }, { EV_EXEC, "exec", "start" },
		{ EV_UID, "uid_change", "change" }, { EV_GID, "gid_change", "change" },
		{ EV_SID, "session_id_change", "change" }, { EV_PTRACE, "ptrace", "access" },
		{ EV_COMM, "comm", "change" }, { EV_COREDUMP, "coredump", "info" },
		{ EV_EXIT, "end", "end" },
	};
	struct encode_ctx ctx;

	ctx_init(&ctx);
	for (size_t i = 0; i < UNIT_COUNT(t); i++) {
		struct hids_event ev;
		hids_event_init(&ev);
		ev.k.action = t[i].a;
		ev.k.ts_ns = 5 * NS;
		ev.proc.pid = 10;
		json_object *d = encode_parse(&ctx, &ev, NULL);
		assert_string_equal(jstr(d, "event.action"), t[i].name);
		assert_true(jarray_has(d, "event.type", t[i].type));
		assert_string_equal(jstr(d, "event.kind"), "event");
		assert_string_equal(jstr(d, "@timestamp"), "2023-11-14T22:13:24.000000000Z");
		assert_int_equal(jint(d, "process.pid"), 10);
		json_object_put(d);
		hids_event_release(&ev);
	}
}

/* Empty arguments survive: argv ["x", ""] and argv [""] keep their count. */
static void
test_empty_args_kept(void **state)
{
	struct encode_ctx ctx;
	struct hids_event ev;
	json_object *d, *a;

	(void)state;
	ctx_init(&ctx);
	exec_event(&ev);
	set_args(&ev.proc, "x\0", 2, 2);
	d = encode_parse(&ctx, &ev, NULL);
	a = jget(d, "process.args");
	assert_int_equal(json_object_array_length(a), 2);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 0)), "x");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 1)), "");
	assert_string_equal(json_object_get_string(jget(d, "process.command_line")), "x ");
	json_object_put(d);

	set_args(&ev.proc, "", 0, 1);
	d = encode_parse(&ctx, &ev, NULL);
	a = jget(d, "process.args");
	assert_int_equal(json_object_array_length(a), 1);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 0)), "");
	assert_int_equal(json_object_get_int(jget(d, "process.args_count")), 1);
	json_object_put(d);
	hids_event_release(&ev);
	encode_ctx_release(&ctx);
}

static void
test_invalid_utf8_args_escaped(void **state)
{
	static const char args[] = "cat\0caf\xc3\xa9\0bad\xff\xfe\0back\\slash";
	struct encode_ctx ctx;
	struct hids_event ev;
	json_object *d;

	ctx_init(&ctx);
	exec_event(&ev);
	set_args(&ev.proc, args, sizeof(args) - 1, 4);
	d = encode_parse(&ctx, &ev, NULL);
	assert_true(jarray_has(d, "hids.escaped", "process.args"));
	assert_true(jarray_has(d, "hids.escaped", "process.command_line"));
	assert_false(jarray_has(d, "hids.escaped", "process.executable"));

	/* Every argument is escaped, and each one reverses to its bytes. */
	json_object *a = jget(d, "process.args");
	assert_int_equal(json_object_array_length(a), 4);
	size_t off = 0;
	for (size_t i = 0; i < 4; i++) {
		const char *e = json_object_get_string(json_object_array_get_idx(a, i));
		char out[64];
		size_t olen;
		assert_int_equal(bytes_unescape(e, strlen(e), out, &olen), 0);
		size_t want = strlen(args + off);
		assert_int_equal(olen, want);
		assert_memory_equal(out, args + off, want);
		off += want + 1;
	}
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 3)),
	    "back\\\\slash");
	assert_string_equal(jstr(d, "process.command_line"),
	    "cat caf\xc3\xa9 bad\\xff\\xfe back\\\\slash");
	json_object_put(d);
	hids_event_release(&ev);
}

static void
test_invalid_utf8_paths_escaped(void **state)
{
	struct encode_ctx ctx;
	struct hids_event ev;
	json_object *d;
	char out[64];
	size_t olen;

	ctx_init(&ctx);
	exec_event(&ev);
	free(ev.proc.executable);
	ev.proc.executable = strdup("/tmp/\xff\xfe" "evil");
	free(ev.parent.executable);
	ev.parent.executable = strdup("/tmp/p\x80");
	strcpy(ev.proc.name, "n\xc3");
	d = encode_parse(&ctx, &ev, NULL);
	assert_true(jarray_has(d, "hids.escaped", "process.executable"));
	assert_true(jarray_has(d, "hids.escaped", "process.name"));
	assert_true(jarray_has(d, "hids.escaped", "process.parent.executable"));
	assert_false(jarray_has(d, "hids.escaped", "process.args"));
	assert_false(jarray_has(d, "hids.escaped", "process.working_directory"));
	const char *e = jstr(d, "process.executable");
	assert_string_equal(e, "/tmp/\\xff\\xfeevil");
	assert_int_equal(bytes_unescape(e, strlen(e), out, &olen), 0);
	assert_int_equal(olen, 11);
	assert_memory_equal(out, "/tmp/\xff\xfe" "evil", 11);
	json_object_put(d);
	hids_event_release(&ev);
}

static void
test_control_chars_stay_on_one_line(void **state)
{
	static const char args[] = "sh\0-c\0echo a\nb\r\n\x01\x1f\"q\" '/'";
	struct encode_ctx ctx;
	struct hids_event ev;
	json_object *d;

	ctx_init(&ctx);
	exec_event(&ev);
	set_args(&ev.proc, args, sizeof(args) - 1, 3);
	free(ev.proc.cwd);
	ev.proc.cwd = strdup("/tmp/new\nline");
	d = encode_parse(&ctx, &ev, NULL);
	assert_null(jget(d, "hids.escaped"));		/* valid UTF-8: JSON escapes it */
	json_object *a = jget(d, "process.args");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 2)),
	    "echo a\nb\r\n\x01\x1f\"q\" '/'");
	assert_string_equal(jstr(d, "process.working_directory"), "/tmp/new\nline");
	json_object_put(d);
	hids_event_release(&ev);
}

/* Encodes an exit with a wait status and returns the document. */
static json_object *
exit_doc(struct encode_ctx *ctx, uint32_t status)
{
	struct hids_event ev;
	json_object *d;

	hids_event_init(&ev);
	ev.k.action = EV_EXIT;
	ev.k.ts_ns = 6 * NS;
	ev.k.exit_status = status;
	ev.proc.pid = 77;
	ev.proc.ppid = 1;
	ev.duration_ns = 2500000000ull;
	d = encode_parse(ctx, &ev, NULL);
	hids_event_release(&ev);
	return d;
}

static void
test_exit_codes_and_signals(void **state)
{
	struct encode_ctx ctx;
	json_object *d;

	ctx_init(&ctx);
	d = exit_doc(&ctx, 0);
	assert_int_equal(jint(d, "process.exit_code"), 0);
	assert_null(jget(d, "hids.signal"));
	assert_int_equal(jint(d, "hids.exit_status"), 0);
	assert_string_equal(jstr(d, "process.end"), "2023-11-14T22:13:25.000000000Z");
	assert_int_equal(jint(d, "event.duration"), 2500000000);
	assert_true(jarray_has(d, "event.type", "end"));
	assert_int_equal(jint(d, "process.parent.pid"), 1);
	json_object_put(d);

	d = exit_doc(&ctx, 3 << 8);
	assert_int_equal(jint(d, "process.exit_code"), 3);
	json_object_put(d);

	d = exit_doc(&ctx, 255 << 8);
	assert_int_equal(jint(d, "process.exit_code"), 255);
	json_object_put(d);

	d = exit_doc(&ctx, 9);				/* killed by SIGKILL */
	assert_null(jget(d, "process.exit_code"));
	assert_int_equal(jint(d, "hids.signal.number"), 9);
	assert_string_equal(jstr(d, "hids.signal.name"), "SIGKILL");
	assert_false(jbool(d, "hids.core_dumped"));
	assert_int_equal(jint(d, "hids.exit_status"), 9);
	json_object_put(d);

	d = exit_doc(&ctx, 0x80 | 11);			/* SIGSEGV, core dumped */
	assert_int_equal(jint(d, "hids.signal.number"), 11);
	assert_string_equal(jstr(d, "hids.signal.name"), "SIGSEGV");
	assert_true(jbool(d, "hids.core_dumped"));
	json_object_put(d);

	d = exit_doc(&ctx, 15);
	assert_string_equal(jstr(d, "hids.signal.name"), "SIGTERM");
	json_object_put(d);

	/* Real-time signals have no abbreviation: named from SIGRTMIN. */
	d = exit_doc(&ctx, (uint32_t)SIGRTMIN + 3);
	assert_int_equal(jint(d, "hids.signal.number"), SIGRTMIN + 3);
	assert_string_equal(jstr(d, "hids.signal.name"), "SIGRTMIN+3");
	json_object_put(d);
	d = exit_doc(&ctx, (uint32_t)SIGRTMAX);
	char want[32];
	snprintf(want, sizeof(want), "SIGRTMIN+%d", SIGRTMAX - SIGRTMIN);
	assert_string_equal(jstr(d, "hids.signal.name"), want);
	json_object_put(d);
	/* Below SIGRTMIN, glibc keeps 32 and 33 for itself: a number only. */
	d = exit_doc(&ctx, 32);
	assert_string_equal(jstr(d, "hids.signal.name"), "SIG32");
	json_object_put(d);

	/* 0x7f is "stopped", not a death by signal. */
	d = exit_doc(&ctx, (19 << 8) | 0x7f);
	assert_null(jget(d, "hids.signal"));
	assert_null(jget(d, "process.exit_code"));
	json_object_put(d);
}

static void
test_proc_gone_thread_container(void **state)
{
	struct encode_ctx ctx;
	struct hids_event ev;
	json_object *d;
	const char *cid = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

	ctx_init(&ctx);
	hids_event_init(&ev);
	ev.k.action = EV_EXEC;
	ev.k.pid = 501;
	ev.k.tgid = 500;
	ev.proc.pid = 500;
	ev.proc_gone = true;
	ev.is_thread = true;
	ev.proc.known = PF_CONTAINER | PF_NSPID;
	strcpy(ev.proc.container_id, cid);
	ev.proc.ns_pid = 7;
	ev.proc.exe_deleted = true;
	d = encode_parse(&ctx, &ev, NULL);
	assert_true(jbool(d, "hids.proc_gone"));
	assert_int_equal(jint(d, "process.thread.id"), 501);
	assert_string_equal(jstr(d, "container.id"), cid);
	assert_null(jget(d, "hids.cgroup"));
	assert_int_equal(jint(d, "hids.ns_pid"), 7);
	assert_true(jbool(d, "hids.exe_deleted"));
	assert_null(jget(d, "process.args"));
	assert_null(jget(d, "process.parent"));
	assert_null(jget(d, "user"));
	assert_null(jget(d, "hids.exe_error"));
	assert_null(jget(d, "hids.exe"));
	json_object_put(d);

	/* The raw cgroup path comes along, escaped like paths. */
	ev.proc.cgroup = strdup("/system.slice/docker-x.scope/\xff\xe2\x80\xae");
	d = encode_parse(&ctx, &ev, NULL);
	assert_string_equal(jstr(d, "hids.cgroup"), "/system.slice/docker-x.scope/\\xff\\xe2\\x80\\xae");
	assert_true(jarray_has(d, "hids.escaped", "hids.cgroup"));
	json_object_put(d);

	/* Links that could not be read say why; the executable keeps its identity. */
	ev.proc.exe_errno = ENAMETOOLONG;
	ev.proc.cwd_errno = EACCES;
	ev.proc.exe_id.dev = makedev(259, 3);
	ev.proc.exe_id.ino = 18446744073709551557ull;
	ev.proc.known |= PF_EXE_ID;
	d = encode_parse(&ctx, &ev, NULL);
	assert_string_equal(jstr(d, "hids.exe_error"), "ENAMETOOLONG");
	assert_string_equal(jstr(d, "hids.cwd_error"), "EACCES");
	assert_string_equal(jstr(d, "hids.exe.device"), "259:3");
	assert_string_equal(jstr(d, "hids.exe.inode"), "18446744073709551557");
	assert_null(jget(d, "process.executable"));
	json_object_put(d);
	ev.proc.exe_errno = 4095;	/* no name */
	d = encode_parse(&ctx, &ev, NULL);
	assert_string_equal(jstr(d, "hids.exe_error"), "errno 4095");
	json_object_put(d);
	ev.proc.exe_errno = ev.proc.cwd_errno = 0;
	ev.proc.known &= ~PF_EXE_ID;

	/* The same pid inside and outside: no ns_pid. */
	ev.proc.ns_pid = 500;
	ev.proc_gone = false;
	d = encode_parse(&ctx, &ev, NULL);
	assert_null(jget(d, "hids.ns_pid"));
	assert_null(jget(d, "hids.proc_gone"));
	json_object_put(d);
	hids_event_release(&ev);
}

static void
test_uid_ptrace_details(void **state)
{
	struct encode_ctx ctx;
	struct hids_event ev;
	json_object *d;

	ctx_init(&ctx);
	hids_event_init(&ev);
	ev.k.action = EV_UID;
	ev.k.rid = 1000;
	ev.k.eid = 0;
	ev.proc.pid = 9;
	d = encode_parse(&ctx, &ev, NULL);
	assert_int_equal(jint(d, "hids.uid.real"), 1000);
	assert_int_equal(jint(d, "hids.uid.effective"), 0);
	assert_null(jget(d, "hids.gid"));
	json_object_put(d);

	ev.k.action = EV_GID;
	ev.k.rid = 4294967295u;
	d = encode_parse(&ctx, &ev, NULL);
	assert_int_equal(jint(d, "hids.gid.real"), 4294967295ll);
	json_object_put(d);

	ev.k.action = EV_PTRACE;
	ev.k.tracer_pid = 600;
	ev.k.tracer_tgid = 601;
	ev.has_tracer = true;
	d = encode_parse(&ctx, &ev, NULL);
	assert_string_equal(jstr(d, "hids.ptrace.op"), "attach");
	assert_int_equal(jint(d, "hids.tracer.pid"), 601);	/* tgid when unknown */
	json_object_put(d);

	ev.tracer.pid = 600;
	ev.tracer.known = PF_NAME;
	strcpy(ev.tracer.name, "gdb");
	d = encode_parse(&ctx, &ev, NULL);
	assert_int_equal(jint(d, "hids.tracer.pid"), 600);
	assert_string_equal(jstr(d, "hids.tracer.name"), "gdb");
	json_object_put(d);

	ev.k.tracer_pid = 0;
	ev.has_tracer = false;
	d = encode_parse(&ctx, &ev, NULL);
	assert_string_equal(jstr(d, "hids.ptrace.op"), "detach");
	assert_null(jget(d, "hids.tracer"));
	json_object_put(d);
	hids_event_release(&ev);
}

static void
test_previous_image(void **state)
{
	struct encode_ctx ctx;
	struct hids_event ev;
	json_object *d;

	ctx_init(&ctx);
	exec_event(&ev);
	ev.has_previous = true;
	ev.previous.pid = 4242;
	ev.previous.known = PF_NAME | PF_EXE;
	strcpy(ev.previous.name, "bash");
	ev.previous.executable = strdup("/bin/bash");
	strcpy(ev.previous.entity_id, "BBBB");
	set_args(&ev.previous, "bash\0-i", 7, 2);
	d = encode_parse(&ctx, &ev, NULL);
	assert_string_equal(jstr(d, "process.previous.executable"), "/bin/bash");
	assert_true(jarray_has(d, "process.previous.args", "-i"));
	assert_null(jget(d, "process.previous.pid"));
	assert_null(jget(d, "process.previous.entity_id"));
	assert_null(jget(d, "process.previous.args_count"));
	assert_null(jget(d, "process.previous.command_line"));
	json_object_put(d);
	hids_event_release(&ev);
}

static void
test_lost_and_heartbeat(void **state)
{
	struct encode_ctx ctx;
	struct agent_stats st;
	struct hids_event ev;
	json_object *d;

	ctx_init(&ctx);
	ctx.host_id = NULL;
	hids_event_init(&ev);
	ev.k.action = EV_LOST;
	ev.k.ts_ns = 2 * NS;
	ev.lost = 42;
	ev.reason = "sequence_gap";
	d = encode_parse(&ctx, &ev, NULL);
	assert_string_equal(jstr(d, "event.action"), "lost");
	assert_string_equal(jstr(d, "event.kind"), "metric");
	assert_true(jarray_has(d, "event.type", "info"));
	assert_int_equal(jint(d, "hids.lost"), 42);
	assert_string_equal(jstr(d, "hids.reason"), "sequence_gap");
	assert_null(jget(d, "process"));
	assert_null(jget(d, "host.id"));
	assert_string_equal(jstr(d, "@timestamp"), "2023-11-14T22:13:21.000000000Z");
	json_object_put(d);

	memset(&st, 0, sizeof(st));
	st.events_seen = 1000;
	st.events_lost = 3;
	st.overruns = 1;
	st.rss_bytes = 12345678;
	ev.k.action = EV_HEARTBEAT;
	ev.k.ts_ns = 0;				/* the wall clock is used */
	ev.reason = NULL;
	ev.stats = &st;
	d = encode_parse(&ctx, &ev, NULL);
	assert_string_equal(jstr(d, "event.action"), "heartbeat");
	assert_string_equal(jstr(d, "event.kind"), "metric");
	assert_int_equal(jint(d, "hids.stats.events_seen"), 1000);
	assert_int_equal(jint(d, "hids.stats.events_lost"), 3);
	assert_int_equal(jint(d, "hids.stats.overruns"), 1);
	assert_int_equal(jint(d, "hids.stats.rss_bytes"), 12345678);
	assert_null(jget(d, "hids.lost"));
	assert_null(jget(d, "process"));
	assert_null(jget(d, "hids.stats.connected"));	/* not forwarding */
	/* Written after 2020 and before 2100. */
	const char *ts = jstr(d, "@timestamp");
	assert_true(strcmp(ts, "2020") > 0 && strcmp(ts, "2100") < 0);
	json_object_put(d);

	/* Forwarding adds the collector's counters. */
	st.forwarding = true;
	st.connected = true;
	st.collector = "siem:6514";
	st.events_sent = 990;
	st.reconnects = 2;
	d = encode_parse(&ctx, &ev, NULL);
	assert_true(jbool(d, "hids.stats.connected"));
	assert_string_equal(jstr(d, "hids.stats.collector"), "siem:6514");
	assert_int_equal(jint(d, "hids.stats.events_sent"), 990);
	assert_int_equal(jint(d, "hids.stats.reconnects"), 2);
	json_object_put(d);
	hids_event_release(&ev);
}

/* Every counter of AGENT_STATS_LIST reaches the heartbeat with its own value, in its group only. */
static void
test_heartbeat_carries_every_listed_counter(void **state)
{
	struct encode_ctx ctx;
	struct agent_stats st;
	struct hids_event ev;
	json_object *d;
	size_t n;
	const struct agent_stat_desc *desc = agent_stats_list(&n);
	char path[128];

	ctx_init(&ctx);
	hids_event_init(&ev);
	memset(&st, 0, sizeof(st));
	for (size_t i = 0; i < n; i++) {
		uint64_t v = 1000 + i;
		memcpy((char *)&st + desc[i].offset, &v, sizeof(v));
	}
	ev.k.action = EV_HEARTBEAT;
	ev.stats = &st;
	for (int mode = 0; mode < 2; mode++) {
		st.forwarding = st.spooling = mode == 1;
		d = encode_parse(&ctx, &ev, NULL);
		for (size_t i = 0; i < n; i++) {
			snprintf(path, sizeof(path), "hids.stats.%s", desc[i].name);
			assert_int_equal(agent_stats_value(&st, &desc[i]), 1000 + i);
			if (desc[i].group == STAT_ALWAYS || mode == 1)
				assert_int_equal(jint(d, path), 1000 + i);
			else
				assert_null(jget(d, path));
		}
		json_object_put(d);
	}
	hids_event_release(&ev);
}

static void
test_format_time(void **state)
{
	char buf[48];

	encode_format_time(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000000000Z");
	encode_format_time(T0_REAL * NS + 999999999ull, buf, sizeof(buf));
	assert_string_equal(buf, "2023-11-14T22:13:20.999999999Z");
	encode_format_time(4102444800ull * NS + 1, buf, sizeof(buf));
	assert_string_equal(buf, "2100-01-01T00:00:00.000000001Z");
	encode_format_time(951782400ull * NS, buf, sizeof(buf));
	assert_string_equal(buf, "2000-02-29T00:00:00.000000000Z");
	encode_format_time(UINT64_MAX, buf, sizeof(buf));
	assert_string_equal(buf, "2554-07-21T23:34:33.709551615Z");
	encode_format_time(T0_REAL * NS, buf, 11);	/* cut to the buffer */
	assert_string_equal(buf, "2023-11-14");
}

/* The civil-date arithmetic agrees with gmtime_r and strftime over the whole range. */
static void
test_format_time_matches_gmtime(void **state)
{
	(void)state;
	uint64_t x = 0x2545f4914f6cdd1dull;
	char got[48], want[48], date[32];

	for (int i = 0; i < 200000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		/* Half anywhere in the range, half around midnights and leap days. */
		uint64_t ns = i % 2 ? x : (x % 20000ull * 86400ull + 86399ull + x % 3) * NS + x % NS;
		time_t secs = (time_t)(ns / NS);
		struct tm tm;
		assert_non_null(gmtime_r(&secs, &tm));
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(want, sizeof(want), "%s.%09lluZ", date, (unsigned long long)(ns % NS));
		encode_format_time(ns, got, sizeof(got));
		if (strcmp(got, want) != 0)
			fail_msg("%llu ns: got %s, gmtime says %s", (unsigned long long)ns, got, want);
	}
}

static void
test_start_ns(void **state)
{
	struct encode_ctx ctx;
	struct process p;

	ctx_init(&ctx);
	process_init(&p);
	assert_true(encode_start_ns(&ctx, &p) == 0);
	p.start_ticks = 250;
	assert_true(encode_start_ns(&ctx, &p) == 0);		/* not known yet */
	p.known |= PF_STAT;
	assert_true(encode_start_ns(&ctx, &p) == BOOT_REAL * NS + 2500000000ull);
	ctx.clk_tck = 0;
	assert_true(encode_start_ns(&ctx, &p) == 0);
	p.start_ns = 77;
	assert_true(encode_start_ns(&ctx, &p) == 77);
}

static void
test_tty_numbers(void **state)
{
	static const struct {
		int32_t tty_nr;
		int major, minor;
	} t[] = {
		{ (4 << 8) | 1, 4, 1 },				/* tty1 */
		{ 136 << 8, 136, 0 },				/* pts/0 */
		{ (136 << 8) | (300 & 0xff) | ((300 & ~0xff) << 12), 136, 300 },
	};
	struct encode_ctx ctx;

	ctx_init(&ctx);
	for (size_t i = 0; i < UNIT_COUNT(t); i++) {
		struct hids_event ev;
		hids_event_init(&ev);
		ev.k.action = EV_FORK;
		ev.proc.pid = 2;
		ev.proc.known = PF_STAT;
		ev.proc.tty_nr = t[i].tty_nr;
		json_object *d = encode_parse(&ctx, &ev, NULL);
		assert_int_equal(jint(d, "process.tty.char_device.major"), t[i].major);
		assert_int_equal(jint(d, "process.tty.char_device.minor"), t[i].minor);
		json_object_put(d);
		hids_event_release(&ev);
	}
}

static void
test_args_truncated_by_reader(void **state)
{
	struct encode_ctx ctx;
	struct hids_event ev;
	json_object *d;

	ctx_init(&ctx);
	exec_event(&ev);
	ev.proc.args_truncated = true;
	ev.proc.args_count = 1000;
	d = encode_parse(&ctx, &ev, NULL);
	assert_true(jbool(d, "hids.args_truncated"));
	assert_int_equal(jint(d, "process.args_count"), 1000);
	assert_int_equal(json_object_array_length(jget(d, "process.args")), 3);
	json_object_put(d);
	hids_event_release(&ev);
}

/* Makes count arguments of arglen bytes each from the pattern byte(s) in unit. */
static char *
make_args(size_t count, size_t arglen, const char *unit, size_t ulen, size_t *len)
{
	size_t n = count * (arglen + 1) - 1;
	char *a = malloc(n + 1);

	assert_non_null(a);
	for (size_t i = 0, o = 0; i < count; i++) {
		for (size_t j = 0; j < arglen; j++)
			a[o++] = unit[(i + j) % ulen];
		a[o++] = '\0';
	}
	*len = n;
	return a;
}

/* Asserts every emitted arg is a prefix of the original arg at its index. */
static void
assert_args_prefix(json_object *d, const char *orig, size_t olen, bool escaped)
{
	json_object *a = jget(d, "process.args");
	size_t off = 0, n = json_object_array_length(a);

	for (size_t i = 0; i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(a, i));
		char buf[8192];
		size_t blen = strlen(s);
		assert_true(off < olen);
		if (escaped) {
			assert_true(blen <= sizeof(buf));
			assert_int_equal(bytes_unescape(s, blen, buf, &blen), 0);
			s = buf;
		}
		size_t want = strnlen(orig + off, olen - off);
		assert_true(blen <= want);
		assert_memory_equal(s, orig + off, blen);
		/* Only the last kept argument may be cut short. */
		if (i + 1 < n)
			assert_int_equal(blen, want);
		off += want + 1;
	}
}

/* Encodes with a line limit and checks the shrink contract. */
static void
check_shrink(const char *unit, size_t ulen, bool escaped, size_t limit)
{
	struct encode_ctx ctx;
	struct hids_event ev;
	json_object *d;
	size_t alen, len;
	char *args = make_args(60, 200, unit, ulen, &alen);

	ctx_init(&ctx);
	exec_event(&ev);
	set_args(&ev.proc, args, alen, 60);
	ctx.max_line_bytes = limit;
	d = encode_parse(&ctx, &ev, &len);
	if (len > limit)
		fail_msg("line of %zu bytes over the %zu limit", len, limit);
	assert_true(jbool(d, "hids.args_truncated"));
	assert_int_equal(jint(d, "process.args_count"), 60);	/* the true count */
	assert_true(json_object_array_length(jget(d, "process.args")) < 60);
	assert_args_prefix(d, args, alen, escaped);
	assert_int_equal(jint(d, "event.sequence"), 1);	/* one id per event */
	/* Everything else survived the cut. */
	assert_string_equal(jstr(d, "process.executable"), "/usr/bin/ls");
	assert_int_equal(jint(d, "process.parent.pid"), 4000);
	json_object_put(d);

	/* The same event without a limit is over it and complete. */
	ctx.max_line_bytes = 0;
	d = encode_parse(&ctx, &ev, &len);
	assert_true(len > limit);
	assert_null(jget(d, "hids.args_truncated"));
	assert_int_equal(json_object_array_length(jget(d, "process.args")), 60);
	json_object_put(d);
	free(args);
	hids_event_release(&ev);
}

static void
test_max_line_shrinks_ascii(void **state)
{
	check_shrink("abcdefgh", 8, false, 2048);
	check_shrink("abcdefgh", 8, false, 8192);
}

static void
test_max_line_shrinks_escaped(void **state)
{
	/* Each invalid byte takes five bytes of JSON ("\\xff"). */
	check_shrink("\xff\x80\xfe", 3, true, 2048);
	check_shrink("a\xff", 2, true, 30000);
}

static void
test_max_line_shrinks_control_chars(void **state)
{
	/* Each control byte takes six bytes of JSON ("\u0001"). */
	check_shrink("\x01\x02\x1f", 3, false, 2048);
}

static void
test_max_line_fits_untouched(void **state)
{
	struct encode_ctx ctx;
	struct hids_event ev;
	size_t len0, len1;
	char *l0, *l1;

	ctx_init(&ctx);
	exec_event(&ev);
	l0 = encode_event(&ctx, &ev, &len0);
	ctx.sequence = 0;
	ctx.max_line_bytes = len0;		/* exactly fits, newline included */
	l1 = encode_event(&ctx, &ev, &len1);
	assert_int_equal(len1, len0);
	assert_string_equal(l0, l1);
	free(l1);
	ctx.sequence = 0;
	ctx.max_line_bytes = len0 - 1;		/* one byte over */
	l1 = encode_event(&ctx, &ev, &len1);
	assert_true(len1 <= len0 - 1);
	assert_non_null(strstr(l1, "\"args_truncated\":true"));
	free(l1);
	free(l0);
	encode_ctx_release(&ctx);
	hids_event_release(&ev);
}

/* Gives the exec event a path of n bytes made of the (multi-byte) unit. */
static char *
long_path(const char *unit, size_t n)
{
	size_t ul = strlen(unit);
	char *p = malloc(n + 1);

	assert_non_null(p);
	p[0] = '/';
	for (size_t i = 1; i + ul <= n; i += ul)
		memcpy(p + i, unit, ul);
	p[1 + (n - 1) / ul * ul] = '\0';
	return p;
}

/* Past the args, paths and names are cut to 256 bytes and previous goes. */
static void
test_max_line_caps_strings(void **state)
{
	struct encode_ctx ctx;
	struct hids_event ev;
	json_object *d;
	size_t len;
	char *path = long_path("p", 3000);

	ctx_init(&ctx);
	exec_event(&ev);
	free(ev.proc.executable);
	ev.proc.executable = path;
	ev.has_previous = true;
	ev.previous.known = PF_EXE;
	ev.previous.executable = strdup("/bin/bash");
	ctx.max_line_bytes = 2048;
	d = encode_parse(&ctx, &ev, &len);
	assert_true(len <= 2048);
	assert_true(jbool(d, "hids.truncated"));
	assert_true(jbool(d, "hids.args_truncated"));
	assert_int_equal(json_object_array_length(jget(d, "process.args")), 0);
	assert_int_equal(jint(d, "process.args_count"), 3);
	const char *exe = jstr(d, "process.executable");
	assert_true(strlen(exe) <= 256 && strlen(exe) >= 250);
	assert_memory_equal(exe, path, strlen(exe));
	assert_null(jget(d, "process.previous"));
	/* Short strings and every number stay. */
	assert_string_equal(jstr(d, "process.working_directory"), "/home/alice");
	assert_int_equal(jint(d, "process.pid"), 4242);
	assert_int_equal(jint(d, "process.parent.pid"), 4000);
	assert_int_equal(jint(d, "event.sequence"), 1);
	json_object_put(d);

	/* Without a limit the same event is whole. */
	ctx.max_line_bytes = 0;
	d = encode_parse(&ctx, &ev, &len);
	assert_string_equal(jstr(d, "process.executable"), path);
	assert_non_null(jget(d, "process.previous"));
	assert_null(jget(d, "hids.truncated"));
	json_object_put(d);
	hids_event_release(&ev);
}

/* A string cut to 256 bytes is cut between characters, so it needs no escaping. */
static void
test_max_line_caps_strings_utf8(void **state)
{
	static const char *units[] = { "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "a\xc3\xa9" };
	struct encode_ctx ctx;

	ctx_init(&ctx);
	for (size_t i = 0; i < UNIT_COUNT(units); i++) {
		struct hids_event ev;
		json_object *d;
		char *path = long_path(units[i], 3000);

		exec_event(&ev);
		free(ev.proc.cwd);
		ev.proc.cwd = path;
		ctx.max_line_bytes = 2048;
		d = encode_parse(&ctx, &ev, NULL);
		assert_true(jbool(d, "hids.truncated"));
		assert_null(jget(d, "hids.escaped"));
		const char *cwd = jstr(d, "process.working_directory");
		assert_true(strlen(cwd) <= 256 && strlen(cwd) > 250);
		assert_true(utf8_valid(cwd, strlen(cwd)));
		assert_memory_equal(cwd, path, strlen(cwd));
		json_object_put(d);
		hids_event_release(&ev);
	}
}

/* The last resort keeps ids and numbers only; a line is never split. */
static void
test_max_line_last_resort(void **state)
{
	struct encode_ctx ctx;
	struct hids_event ev;
	json_object *d;
	size_t len;

	ctx_init(&ctx);
	exec_event(&ev);
	free(ev.proc.executable);
	ev.proc.executable = long_path("p", 3000);
	free(ev.parent.executable);
	ev.parent.executable = long_path("q", 3000);
	free(ev.proc.cwd);
	ev.proc.cwd = long_path("c", 3000);
	ctx.max_line_bytes = 1024;
	d = encode_parse(&ctx, &ev, &len);
	assert_true(len <= 1024);
	assert_true(jbool(d, "hids.truncated"));
	assert_null(jget(d, "process.executable"));
	assert_null(jget(d, "process.working_directory"));
	assert_null(jget(d, "process.parent.executable"));
	assert_int_equal(jint(d, "process.pid"), 4242);
	assert_int_equal(jint(d, "process.parent.pid"), 4000);
	assert_string_equal(jstr(d, "event.action"), "exec");
	assert_string_equal(jstr(d, "process.user.id"), "1001");
	json_object_put(d);

	/* A limit nothing can meet: the smallest line still goes out, whole. */
	ctx.max_line_bytes = 1;
	d = encode_parse(&ctx, &ev, &len);
	assert_true(len > 1);
	assert_int_equal(jint(d, "process.pid"), 4242);
	json_object_put(d);
	hids_event_release(&ev);
}

/* With no args at all the strings are what gives. */
static void
test_max_line_no_args(void **state)
{
	struct encode_ctx ctx;
	struct hids_event ev;
	json_object *d;
	size_t len;

	ctx_init(&ctx);
	exec_event(&ev);
	free(ev.proc.args);
	ev.proc.args = NULL;
	ev.proc.args_len = 0;
	ev.proc.known &= ~PF_ARGS;
	free(ev.proc.cwd);
	ev.proc.cwd = long_path("c", 5000);
	ctx.max_line_bytes = 2048;
	d = encode_parse(&ctx, &ev, &len);
	assert_true(len <= 2048);
	assert_true(jbool(d, "hids.truncated"));
	assert_null(jget(d, "hids.args_truncated"));
	assert_null(jget(d, "process.args"));
	assert_true(strlen(jstr(d, "process.working_directory")) <= 256);
	json_object_put(d);
	hids_event_release(&ev);
}

/*
 * Regression (fixed in ed24c0d): the cut took the whole excess off args,
 * but each byte of args is in the line twice (args and command_line), so
 * a 12 KB argv under an 8 KB limit lost every argument. The line must use
 * the room it has.
 */
static void
test_max_line_keeps_args_that_fit(void **state)
{
	struct encode_ctx ctx;
	struct hids_event ev;
	json_object *d;
	size_t alen, len;
	char *args = make_args(60, 200, "abcdefgh", 8, &alen);

	ctx_init(&ctx);
	exec_event(&ev);
	set_args(&ev.proc, args, alen, 60);
	ctx.max_line_bytes = 8192;
	d = encode_parse(&ctx, &ev, &len);
	print_message("line %zu bytes, %zu of 60 args kept, limit 8192\n", len,
	    json_object_array_length(jget(d, "process.args")));
	assert_true(len <= 8192);
	assert_true(json_object_array_length(jget(d, "process.args")) >= 10);
	assert_true(len >= 8192 / 2);
	json_object_put(d);
	free(args);
	hids_event_release(&ev);
}

/*
 * Regression (fixed in ed24c0d): the args cut could land inside a UTF-8
 * character, so valid argv came out escaped and listed in hids.escaped.
 * Cuts at 40 different offsets must all keep it unescaped.
 */
static void
test_max_line_cuts_args_between_characters(void **state)
{
	struct encode_ctx ctx;
	struct hids_event ev;
	json_object *d;
	char args[4 * 201];
	size_t alen = sizeof(args) - 1, len0;
	int escaped = 0;

	/* Four arguments of 100 "é" each (200 bytes). */
	for (size_t i = 0; i < 4; i++) {
		for (size_t j = 0; j < 100; j++)
			memcpy(args + i * 201 + 2 * j, "\xc3\xa9", 2);
		args[i * 201 + 200] = '\0';
	}
	ctx_init(&ctx);
	exec_event(&ev);
	set_args(&ev.proc, args, alen, 4);
	assert_true(utf8_plain_args(ev.proc.args, ev.proc.args_len));
	free(encode_event(&ctx, &ev, &len0));
	/* Lines 1 to 40 bytes over: one cut, at 40 different offsets. */
	for (size_t limit = len0 - 40; limit < len0; limit++) {
		ctx.max_line_bytes = limit;
		d = encode_parse(&ctx, &ev, NULL);
		assert_true(jbool(d, "hids.args_truncated"));
		if (jget(d, "hids.escaped") != NULL) {
			print_message("limit %zu: valid UTF-8 args came out escaped\n", limit);
			escaped++;
		}
		json_object_put(d);
	}
	hids_event_release(&ev);
	assert_int_equal(escaped, 0);
}

/*
 * Valid UTF-8 that misleads a reader (a right-to-left override in argv, a
 * C1 control in a path, a line separator in the host name) is escaped
 * reversibly and listed in hids.escaped, the host name too.
 */
static void
test_misleading_utf8_escaped(void **state)
{
	/* "evil\u202Etxt.sh": shown as "evilhs.txt". */
	static const char args[] = "/bin/cat\0evil\xe2\x80\xaetxt.sh";
	struct encode_ctx ctx;
	struct hids_event ev;
	json_object *d;
	char out[64];
	size_t olen;

	ctx_init(&ctx);
	ctx.hostname = "web\xe2\x80\xa8" "1";
	exec_event(&ev);
	set_args(&ev.proc, args, sizeof(args) - 1, 2);
	free(ev.proc.cwd);
	ev.proc.cwd = strdup("/tmp/\xc2\x9b" "31m");
	d = encode_parse(&ctx, &ev, NULL);
	assert_true(jarray_has(d, "hids.escaped", "process.args"));
	assert_true(jarray_has(d, "hids.escaped", "process.command_line"));
	assert_true(jarray_has(d, "hids.escaped", "process.working_directory"));
	assert_true(jarray_has(d, "hids.escaped", "host.hostname"));
	assert_true(jarray_has(d, "hids.escaped", "host.name"));
	assert_false(jarray_has(d, "hids.escaped", "process.executable"));
	const char *e = json_object_get_string(json_object_array_get_idx(jget(d, "process.args"), 1));
	assert_string_equal(e, "evil\\xe2\\x80\\xaetxt.sh");
	assert_int_equal(bytes_unescape(e, strlen(e), out, &olen), 0);
	assert_int_equal(olen, 13);
	assert_memory_equal(out, "evil\xe2\x80\xaetxt.sh", 13);
	assert_string_equal(jstr(d, "process.working_directory"), "/tmp/\\xc2\\x9b31m");
	assert_string_equal(jstr(d, "host.hostname"), "web\\xe2\\x80\\xa81");
	json_object_put(d);

	/* A plain host name is not listed; other lines keep theirs. */
	ctx.hostname = "web-1";
	d = encode_parse(&ctx, &ev, NULL);
	assert_true(jarray_has(d, "hids.escaped", "process.args"));
	assert_false(jarray_has(d, "hids.escaped", "host.hostname"));
	json_object_put(d);
	hids_event_release(&ev);
	encode_ctx_release(&ctx);
}

/* Paths the process table cut are named in hids.path_truncated, wherever they appear. */
static void
test_path_truncated_listed(void **state)
{
	struct encode_ctx ctx;
	struct hids_event ev;
	json_object *d;

	ctx_init(&ctx);
	exec_event(&ev);
	d = encode_parse(&ctx, &ev, NULL);
	assert_null(jget(d, "hids.path_truncated"));
	json_object_put(d);
	ev.proc.paths_cut = PATH_CUT_CWD | PATH_CUT_CGROUP;
	ev.proc.cgroup = strdup("/user.slice");
	ev.proc.known |= PF_CONTAINER;
	ev.parent.paths_cut = PATH_CUT_EXE;
	d = encode_parse(&ctx, &ev, NULL);
	assert_true(jarray_has(d, "hids.path_truncated", "process.working_directory"));
	assert_true(jarray_has(d, "hids.path_truncated", "hids.cgroup"));
	assert_true(jarray_has(d, "hids.path_truncated", "process.parent.executable"));
	assert_false(jarray_has(d, "hids.path_truncated", "process.executable"));
	assert_int_equal(json_object_array_length(jget(d, "hids.path_truncated")), 3);
	json_object_put(d);
	hids_event_release(&ev);
	encode_ctx_release(&ctx);
}

/* env_vars, the hash, the executable's properties and hash_status come out as the schema says. */
static void
test_exe_hash_env(void **state)
{
	static const char env[] = "LD_PRELOAD=/tmp/x\xff.so\0SUDO_USER=alice";
	struct encode_ctx ctx;
	struct hids_event ev;
	json_object *d;

	(void)state;
	ctx_init(&ctx);
	exec_event(&ev);
	ev.proc.env = malloc(sizeof(env));
	assert_non_null(ev.proc.env);
	memcpy(ev.proc.env, env, sizeof(env));
	ev.proc.env_len = sizeof(env) - 1;
	ev.proc.env_partial = true;
	ev.proc.known |= PF_EXE_ID;
	ev.proc.exe_id.mode = 0104755;
	ev.proc.exe_id.uid = 1000;
	ev.proc.exe_id.fcaps = true;
	ev.proc.exe_id.fcaps_effective = true;
	ev.proc.exe_id.fcaps_permitted = (1ull << 13) | (1ull << 10) | (1ull << 63);
	ev.proc.hash_status = HASH_STATUS_DONE;
	ev.proc.hash_algs = HASH_ALG_SHA256 | HASH_ALG_MD5;
	for (int i = 0; i < 32; i++)
		ev.proc.sha256[i] = (uint8_t)i;
	memset(ev.proc.md5, 0xab, sizeof(ev.proc.md5));
	d = encode_parse(&ctx, &ev, NULL);
	json_object *a = jget(d, "process.env_vars");
	assert_int_equal(json_object_array_length(a), 2);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 0)),
	    "LD_PRELOAD=/tmp/x\\xff.so");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 1)),
	    "SUDO_USER=alice");
	assert_true(jarray_has(d, "hids.escaped", "process.env_vars"));
	assert_true(jbool(d, "hids.env_vars_partial"));
	assert_string_equal(jstr(d, "process.hash.sha256"),
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
	assert_string_equal(jstr(d, "process.hash.md5"), "abababababababababababababababab");
	assert_null(jget(d, "process.hash.sha1"));
	assert_null(jget(d, "hids.hash_status"));
	assert_string_equal(jstr(d, "hids.exe.mode"), "4755");
	assert_string_equal(jstr(d, "hids.exe.uid"), "1000");
	assert_true(jbool(d, "hids.exe.setuid"));
	assert_null(jget(d, "hids.exe.setgid"));
	assert_true(jbool(d, "hids.exe.writable_by_non_root"));
	assert_true(jarray_has(d, "hids.exe.capabilities.permitted", "CAP_NET_RAW"));
	assert_true(jarray_has(d, "hids.exe.capabilities.permitted", "CAP_NET_BIND_SERVICE"));
	assert_true(jarray_has(d, "hids.exe.capabilities.permitted", "CAP_63"));
	assert_true(jbool(d, "hids.exe.capabilities.effective"));
	json_object_put(d);

	/* Not hashed: no process.hash, and the reason; root's 0755 file is not writable by others. */
	ev.proc.hash_status = HASH_STATUS_PENDING;
	ev.proc.exe_id.mode = 0100755;
	ev.proc.exe_id.uid = 0;
	d = encode_parse(&ctx, &ev, NULL);
	assert_null(jget(d, "process.hash"));
	assert_string_equal(jstr(d, "hids.hash_status"), "pending");
	assert_null(jget(d, "hids.exe.writable_by_non_root"));
	assert_null(jget(d, "hids.exe.setuid"));
	json_object_put(d);
	hids_event_release(&ev);
}

/* host.os and host.architecture on every record, from ctx->os: type alone without it, host bytes escaped and listed, rendered again after encode_ctx_host_changed. */
static void
test_host_os(void **state)
{
	struct encode_ctx ctx;
	struct hids_event ev;
	struct host_os os;
	json_object *d;
	size_t len;
	char *line;

	(void)state;
	ctx_init(&ctx);
	hids_event_init(&ev);
	exec_event(&ev);
	d = encode_parse(&ctx, &ev, NULL);
	assert_string_equal(jstr(d, "host.os.type"), "linux");
	assert_null(jget(d, "host.os.name"));
	assert_null(jget(d, "host.architecture"));
	json_object_put(d);

	host_os_init(&os);
	static const char debian[] = "ID=debian\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=12\n"
	    "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n";
	static const char hostile[] = "NAME=\"\x1b[2J\xff\"\nID=x\n";
	assert_int_equal(osrelease_parse(debian, sizeof(debian) - 1, &os, &(int){ 0 }), 5);
	host_os_set_uname(&os, "6.1.0-27-amd64", "#1 SMP", "x86_64");
	ctx.os = &os;
	d = encode_parse(&ctx, &ev, NULL);
	assert_string_equal(jstr(d, "host.os.type"), "linux");
	assert_string_equal(jstr(d, "host.os.family"), "debian");
	assert_string_equal(jstr(d, "host.os.platform"), "debian");
	assert_string_equal(jstr(d, "host.os.name"), "Debian GNU/Linux");
	assert_string_equal(jstr(d, "host.os.version"), "12");
	assert_string_equal(jstr(d, "host.os.full"), "Debian GNU/Linux 12 (bookworm)");
	assert_string_equal(jstr(d, "host.os.kernel"), "6.1.0-27-amd64 #1 SMP");
	assert_string_equal(jstr(d, "host.architecture"), "x86_64");
	assert_null(jget(d, "hids.escaped"));
	json_object_put(d);

	/* Agent records carry it too. */
	hids_event_release(&ev);
	hids_event_init(&ev);
	ev.k.action = EV_LOST;
	ev.lost = 3;
	ev.reason = "overrun";
	d = encode_parse(&ctx, &ev, NULL);
	assert_string_equal(jstr(d, "host.os.platform"), "debian");
	json_object_put(d);

	/* A hostile os-release: escaped, listed, and the line stays one line of UTF-8. */
	free(encode_event(&ctx, &ev, &len));	/* renders host with the Debian values */
	assert_int_equal(osrelease_parse(hostile, sizeof(hostile) - 1, &os, &(int){ 0 }), 3);
	line = encode_event(&ctx, &ev, &len);
	/* Without encode_ctx_host_changed the rendered host part is kept. */
	assert_non_null(strstr(line, "\"platform\":\"debian\""));
	free(line);
	encode_ctx_host_changed(&ctx);
	d = encode_parse(&ctx, &ev, NULL);
	assert_string_equal(jstr(d, "host.os.platform"), "x");
	assert_string_equal(jstr(d, "host.os.name"), "\x1b[2J\\xff");	/* ESC is UTF-8; 0xff is not */
	assert_true(jarray_has(d, "hids.escaped", "host.os.name"));
	assert_false(jarray_has(d, "hids.escaped", "host.os.platform"));
	json_object_put(d);
	host_os_release(&os);
	hids_event_release(&ev);
	encode_ctx_release(&ctx);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_fields),
		cmocka_unit_test(test_related_processes),
		cmocka_unit_test(test_sequence_and_ids),
		cmocka_unit_test(test_action_types),
		cmocka_unit_test(test_host_os),
		cmocka_unit_test(test_invalid_utf8_args_escaped),
		cmocka_unit_test(test_empty_args_kept),
		cmocka_unit_test(test_invalid_utf8_paths_escaped),
		cmocka_unit_test(test_control_chars_stay_on_one_line),
		cmocka_unit_test(test_misleading_utf8_escaped),
		cmocka_unit_test(test_path_truncated_listed),
		cmocka_unit_test(test_exit_codes_and_signals),
		cmocka_unit_test(test_proc_gone_thread_container),
		cmocka_unit_test(test_uid_ptrace_details),
		cmocka_unit_test(test_previous_image),
		cmocka_unit_test(test_exe_hash_env),
		cmocka_unit_test(test_lost_and_heartbeat),
		cmocka_unit_test(test_heartbeat_carries_every_listed_counter),
		cmocka_unit_test(test_format_time),
		cmocka_unit_test(test_format_time_matches_gmtime),
		cmocka_unit_test(test_start_ns),
		cmocka_unit_test(test_tty_numbers),
		cmocka_unit_test(test_args_truncated_by_reader),
		cmocka_unit_test(test_max_line_shrinks_ascii),
		cmocka_unit_test(test_max_line_shrinks_escaped),
		cmocka_unit_test(test_max_line_shrinks_control_chars),
		cmocka_unit_test(test_max_line_fits_untouched),
		cmocka_unit_test(test_max_line_caps_strings),
		cmocka_unit_test(test_max_line_caps_strings_utf8),
		cmocka_unit_test(test_max_line_last_resort),
		cmocka_unit_test(test_max_line_no_args),
		cmocka_unit_test(test_max_line_keeps_args_that_fit),
		cmocka_unit_test(test_max_line_cuts_args_between_characters),
	};
	return unit_main(argc, argv, "encode", tests, UNIT_COUNT(tests), NULL, 0);
}
