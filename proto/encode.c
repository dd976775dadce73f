/*
 * encode.c: builds the ECS document of one event with json-c and returns it
 * as a single line ending in '\n'. Strings from processes go through
 * escape.c first, so the line is valid UTF-8 whatever argv held. When
 * max_line_bytes is set and the line is longer, args are cut (marked in
 * hids.args_truncated) until it fits; a line is never split.
 */
#include "encode.h"

#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "escape.h"

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define COMPACT_STR_BYTES 256	/* strings kept when a line must shrink past its args */

/* How much a line must give up to fit max_line_bytes. */
struct shrink {
	size_t args_keep;	/* bytes of args per process */
	size_t str_cap;		/* 0 = none; else bytes per path or name */
	bool drop_previous;
	bool cut;		/* a string was cut */
};

/* Formats wall-clock ns as RFC 3339 UTC with nanoseconds. */
void
encode_format_time(uint64_t real_ns, char *buf, size_t buflen)
{
	time_t secs = (time_t)(real_ns / 1000000000ull);
	struct tm tm;
	char date[32];

	gmtime_r(&secs, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, buflen, "%s.%09lluZ", date,
	    (unsigned long long)(real_ns % 1000000000ull));
}

/* Formats a timestamp, reusing the date part while the second is the same. */
static json_object *
jtime(struct encode_ctx *ctx, uint64_t real_ns)
{
	int64_t sec = (int64_t)(real_ns / 1000000000ull);
	uint32_t ns = (uint32_t)(real_ns % 1000000000ull);
	char buf[48];
	int n;

	if (sec != ctx->date_sec || ctx->date_prefix[0] == '\0') {
		time_t t = (time_t)sec;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(ctx->date_prefix, sizeof(ctx->date_prefix), "%Y-%m-%dT%H:%M:%S", &tm);
		ctx->date_sec = sec;
	}
	n = snprintf(buf, sizeof(buf), "%s.%09uZ", ctx->date_prefix, ns);
	return json_object_new_string_len(buf, n);
}

/* Returns a process's start as wall-clock ns, or 0 when unknown. */
uint64_t
encode_start_ns(const struct encode_ctx *ctx, const struct process *p)
{
	if (p->start_ns)
		return p->start_ns;
	if ((p->known & PF_STAT) && p->start_ticks && ctx->clk_tck > 0)
		return p->start_ticks * (1000000000ull / (uint64_t)ctx->clk_tck) +
		    (uint64_t)ctx->boot_to_real_ns;
	return 0;
}

/* Gets or creates the object at key inside o. */
static json_object *
jobj(json_object *o, const char *key)
{
	json_object *c;
	if (json_object_object_get_ex(o, key, &c))
		return c;
	c = json_object_new_object();
	json_object_object_add(o, key, c);
	return c;
}

/* Adds attacker-controlled bytes as a string, escaping reversibly if needed. */
static void
add_bytes(json_object *o, const char *key, const char *s, size_t n,
    json_object *escaped, const char *field, struct shrink *sh)
{
	if (sh->str_cap && n > sh->str_cap) {
		sh->cut = true;
		if (sh->str_cap == 1)
			return;	/* the last resort leaves strings out */
		n = utf8_truncate(s, n, sh->str_cap);
	}
	if (utf8_valid(s, n)) {
		json_object_object_add(o, key, json_object_new_string_len(s, (int)n));
		return;
	}
	size_t elen;
	char *e = bytes_escape(s, n, &elen);
	json_object_object_add(o, key, json_object_new_string_len(e, (int)elen));
	free(e);
	json_object_array_add(escaped, json_object_new_string(field));
}

static void
add_id(json_object *o, const char *key, uint32_t id, const char *name)
{
	char buf[16];
	json_object *u = jobj(o, key);
	snprintf(buf, sizeof(buf), "%u", id);
	json_object_object_add(u, "id", json_object_new_string(buf));
	if (name)
		json_object_object_add(u, "name", json_object_new_string(name));
}

/*
 * Adds args, args_count and command_line from the NUL-separated buffer.
 * If any argument is not valid UTF-8, every argument is escaped, so that
 * "process.args" in hids.escaped applies to the whole array.
 */
static void
add_args(json_object *po, const struct process *p, size_t keep,
    json_object *escaped, const char *prefix, bool with_cmdline)
{
	json_object *arr = json_object_new_array();
	bool esc = !utf8_valid_args(p->args, keep);
	char *cl = xmalloc(keep * 4 + 1);
	size_t off = 0, cl_len = 0;
	char field[64];

	while (off < keep) {
		const char *a = p->args + off;
		size_t alen = strnlen(a, keep - off);
		if (esc) {
			size_t elen;
			char *e = bytes_escape(a, alen, &elen);
			json_object_array_add(arr, json_object_new_string_len(e, (int)elen));
			memcpy(cl + cl_len, e, elen);
			cl_len += elen;
			free(e);
		} else {
			json_object_array_add(arr, json_object_new_string_len(a, (int)alen));
			memcpy(cl + cl_len, a, alen);
			cl_len += alen;
		}
		off += alen + 1;
		if (off < keep)
			cl[cl_len++] = ' ';
	}
	json_object_object_add(po, "args", arr);
	json_object_object_add(po, "args_count", json_object_new_int64(p->args_count));
	if (with_cmdline)
		json_object_object_add(po, "command_line",
		    json_object_new_string_len(cl, (int)cl_len));
	if (esc) {
		snprintf(field, sizeof(field), "%s.args", prefix);
		json_object_array_add(escaped, json_object_new_string(field));
		if (with_cmdline) {
			snprintf(field, sizeof(field), "%s.command_line", prefix);
			json_object_array_add(escaped, json_object_new_string(field));
		}
	}
	free(cl);
}

/* Adds the ECS fields of one process under o; prefix names it for hids.escaped. */
static void
add_process(struct encode_ctx *ctx, json_object *po, const struct process *p,
    json_object *escaped, const char *prefix, struct shrink *sh, bool full)
{
	size_t args_keep = sh->args_keep;
	char field[64];

	if (p->pid > 0)
		json_object_object_add(po, "pid", json_object_new_int(p->pid));
	if (p->entity_id[0])
		json_object_object_add(po, "entity_id",
		    json_object_new_string(p->entity_id));
	if ((p->known & PF_NAME) && p->name[0]) {
		snprintf(field, sizeof(field), "%s.name", prefix);
		add_bytes(po, "name", p->name, strlen(p->name), escaped, field, sh);
	}
	if ((p->known & PF_EXE) && p->executable) {
		snprintf(field, sizeof(field), "%s.executable", prefix);
		add_bytes(po, "executable", p->executable, strlen(p->executable),
		    escaped, field, sh);
	}
	if ((p->known & PF_ARGS) && p->args) {
		/* A cut lands on a character boundary: valid argv stays unescaped. */
		size_t keep = args_keep < p->args_len ?
		    utf8_truncate(p->args, p->args_len, args_keep) : p->args_len;
		add_args(po, p, keep, escaped, prefix, full);
	}
	if (!full)
		return;
	if ((p->known & PF_CWD) && p->cwd) {
		snprintf(field, sizeof(field), "%s.working_directory", prefix);
		add_bytes(po, "working_directory", p->cwd, strlen(p->cwd), escaped,
		    field, sh);
	}
	uint64_t start = encode_start_ns(ctx, p);
	if (start)
		json_object_object_add(po, "start", jtime(ctx, start));
	if (p->known & PF_STAT) {
		if (p->sid > 0)
			json_object_object_add(jobj(po, "session_leader"), "pid",
			    json_object_new_int(p->sid));
		if (p->pgid > 0)
			json_object_object_add(jobj(po, "group_leader"), "pid",
			    json_object_new_int(p->pgid));
		if (p->tty_nr != 0) {
			json_object *cd = jobj(jobj(po, "tty"), "char_device");
			unsigned maj = ((unsigned)p->tty_nr >> 8) & 0xfff;
			unsigned min = ((unsigned)p->tty_nr & 0xff) |
			    (((unsigned)p->tty_nr >> 12) & 0xfff00);
			json_object_object_add(cd, "major", json_object_new_int((int)maj));
			json_object_object_add(cd, "minor", json_object_new_int((int)min));
		}
	}
}

/* Adds the credentials of a process the ECS way. */
static void
add_ids(json_object *root, json_object *po, const struct event *ev)
{
	const struct proc_ids *id = &ev->proc.ids;

	add_id(po, "user", id->euid, ev->user_name);
	add_id(po, "real_user", id->ruid, NULL);
	add_id(po, "saved_user", id->suid, NULL);
	add_id(po, "group", id->egid, ev->group_name);
	add_id(po, "real_group", id->rgid, NULL);
	add_id(po, "saved_group", id->sgid, NULL);
	add_id(root, "user", id->euid, ev->user_name);
	add_id(root, "group", id->egid, ev->group_name);
}

/* Adds the kernel-specific details that ECS has no field for. */
static void
add_action_details(json_object *hids, json_object *po, const struct event *ev)
{
	const struct kevent *k = &ev->k;

	switch (k->action) {
	case EV_EXIT: {
		uint32_t st = k->exit_status;
		if ((st & 0x7f) == 0) {
			json_object_object_add(po, "exit_code",
			    json_object_new_int((int)((st >> 8) & 0xff)));
		} else if ((st & 0x7f) != 0x7f) {
			int sig = (int)(st & 0x7f);
			json_object *so = jobj(hids, "signal");
			json_object_object_add(so, "number", json_object_new_int(sig));
			const char *name = sigabbrev_np(sig);
			char buf[24];
			if (name)
				snprintf(buf, sizeof(buf), "SIG%s", name);
			else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
				snprintf(buf, sizeof(buf), "SIGRTMIN+%d", sig - SIGRTMIN);
			else
				snprintf(buf, sizeof(buf), "SIG%d", sig);
			json_object_object_add(so, "name", json_object_new_string(buf));
			json_object_object_add(hids, "core_dumped",
			    json_object_new_boolean((st & 0x80) != 0));
		}
		json_object_object_add(hids, "exit_status", json_object_new_int64(st));
		break;
	}
	case EV_UID:
	case EV_GID: {
		json_object *c = jobj(hids, k->action == EV_UID ? "uid" : "gid");
		json_object_object_add(c, "real", json_object_new_int64(k->rid));
		json_object_object_add(c, "effective", json_object_new_int64(k->eid));
		break;
	}
	case EV_PTRACE: {
		json_object *t = jobj(hids, "ptrace");
		json_object_object_add(t, "op", json_object_new_string(
		    k->tracer_pid ? "attach" : "detach"));
		break;
	}
	default:
		break;
	}
}

/* Builds host, agent and ecs once (again when the host name changes). */
static void
encode_shared_objects(struct encode_ctx *ctx)
{
	json_object *ao;

	if (ctx->host_obj && strcmp(ctx->host_obj_name, ctx->hostname) == 0)
		return;
	encode_ctx_release(ctx);
	ctx->host_obj = json_object_new_object();
	json_object_object_add(ctx->host_obj, "hostname", json_object_new_string(ctx->hostname));
	json_object_object_add(ctx->host_obj, "name", json_object_new_string(ctx->hostname));
	if (ctx->host_id)
		json_object_object_add(ctx->host_obj, "id", json_object_new_string(ctx->host_id));
	snprintf(ctx->host_obj_name, sizeof(ctx->host_obj_name), "%s", ctx->hostname);
	ao = ctx->agent_obj = json_object_new_object();
	json_object_object_add(ao, "type", json_object_new_string("hids-agent"));
	json_object_object_add(ao, "version", json_object_new_string(ctx->agent_version));
	json_object_object_add(ao, "id", json_object_new_string(ctx->agent_id));
	json_object_object_add(ao, "ephemeral_id", json_object_new_string(ctx->ephemeral_id));
	ctx->ecs_obj = json_object_new_object();
	json_object_object_add(ctx->ecs_obj, "version", json_object_new_string(ECS_VERSION));
}

/* Frees the objects an encoder context built. */
void
encode_ctx_release(struct encode_ctx *ctx)
{
	json_object_put(ctx->host_obj);
	json_object_put(ctx->agent_obj);
	json_object_put(ctx->ecs_obj);
	ctx->host_obj = ctx->agent_obj = ctx->ecs_obj = NULL;
}

/* Adds @timestamp, event.*, host.*, agent.*, ecs.*. */
static void
add_envelope(struct encode_ctx *ctx, json_object *root, const struct event *ev)
{
	json_object *eo, *cat, *type;
	char idbuf[64];
	uint64_t ts = ev->k.ts_ns ? ev->k.ts_ns + (uint64_t)ctx->mono_to_real_ns
				  : clock_ns(CLOCK_REALTIME);

	json_object_object_add(root, "@timestamp", jtime(ctx, ts));
	eo = jobj(root, "event");
	cat = json_object_new_array();
	type = json_object_new_array();
	ctx->sequence++;
	snprintf(idbuf, sizeof(idbuf), "%s-%llu", ctx->ephemeral_id,
	    (unsigned long long)ctx->sequence);
	json_object_object_add(eo, "kind", json_object_new_string(
	    ev->k.action == EV_LOST || ev->k.action == EV_HEARTBEAT ? "metric" : "event"));
	json_object_array_add(cat, json_object_new_string("process"));
	json_object_object_add(eo, "category", cat);
	json_object_array_add(type, json_object_new_string(ev_action_type(ev->k.action)));
	json_object_object_add(eo, "type", type);
	json_object_object_add(eo, "action", json_object_new_string(ev_action_name(ev->k.action)));
	json_object_object_add(eo, "id", json_object_new_string(idbuf));
	json_object_object_add(eo, "sequence", json_object_new_int64((int64_t)ctx->sequence));
	json_object_object_add(eo, "module", json_object_new_string("hids"));
	if (ev->duration_ns)
		json_object_object_add(eo, "duration",
		    json_object_new_int64((int64_t)ev->duration_ns));

	encode_shared_objects(ctx);
	json_object_object_add(root, "host", json_object_get(ctx->host_obj));
	json_object_object_add(root, "agent", json_object_get(ctx->agent_obj));
	json_object_object_add(root, "ecs", json_object_get(ctx->ecs_obj));
}

/* Adds the agent's counters to a heartbeat or lost record. */
static void
add_stats(json_object *hids, const struct agent_stats *s)
{
	json_object *so = jobj(hids, "stats");
#define STAT(f) json_object_object_add(so, #f, json_object_new_int64((int64_t)s->f))
	STAT(events_seen);
	STAT(events_emitted);
	STAT(events_lost);
	STAT(overruns);
	STAT(decode_errors);
	STAT(threads_skipped);
	STAT(proc_gone);
	STAT(argv_captured);
	STAT(queue_drops);
	STAT(queue_depth);
	STAT(proctab_size);
	STAT(proctab_evictions);
	STAT(rss_bytes);
	if (s->forwarding) {
		STAT(events_sent);
		STAT(events_dropped);
		STAT(queue_bytes);
		STAT(reconnects);
		json_object_object_add(so, "connected", json_object_new_boolean(s->connected));
		json_object_object_add(so, "collector",
		    json_object_new_string(s->collector ? s->collector : ""));
		STAT(relp_errors);
	}
	if (s->spooling) {
		STAT(spool_bytes);
		STAT(spooled);
		STAT(replayed);
		STAT(spool_dropped);
		STAT(spool_corrupt);
		STAT(spool_write_errors);
	}
#undef STAT
}

/* Builds the document within the limits of sh. */
static json_object *
build_doc(struct encode_ctx *ctx, const struct event *ev, struct shrink *sh)
{
	size_t args_keep = sh->args_keep;
	json_object *root = json_object_new_object();
	json_object *hids = json_object_new_object();
	json_object *escaped = json_object_new_array();
	const struct process *p = &ev->proc;

	add_envelope(ctx, root, ev);
	if (ev->k.action == EV_LOST) {
		json_object_object_add(hids, "lost", json_object_new_int64((int64_t)ev->lost));
	}
	if (ev->reason)
		json_object_object_add(hids, "reason", json_object_new_string(ev->reason));
	if (ev->stats)
		add_stats(hids, ev->stats);
	if (ev->k.action != EV_LOST && ev->k.action != EV_HEARTBEAT) {
		json_object *po = jobj(root, "process");
		add_process(ctx, po, p, escaped, "process", sh, true);
		if (ev->has_parent || p->ppid > 0) {
			json_object *pp = jobj(po, "parent");
			if (ev->has_parent)
				add_process(ctx, pp, &ev->parent, escaped,
				    "process.parent", sh, false);
			if (!json_object_object_get_ex(pp, "pid", NULL) && p->ppid > 0)
				json_object_object_add(pp, "pid", json_object_new_int(p->ppid));
		}
		if (ev->has_previous && !sh->drop_previous) {
			json_object *pv = jobj(po, "previous");
			add_process(ctx, pv, &ev->previous, escaped, "process.previous",
			    sh, false);
			json_object_object_del(pv, "pid");
			json_object_object_del(pv, "entity_id");
			json_object_object_del(pv, "args_count");
		}
		if (p->known & PF_IDS)
			add_ids(root, po, ev);
		if (ev->k.action == EV_EXIT && ev->k.ts_ns)
			json_object_object_add(po, "end",
			    jtime(ctx, ev->k.ts_ns + (uint64_t)ctx->mono_to_real_ns));
		if (ev->is_thread)
			json_object_object_add(jobj(po, "thread"), "id",
			    json_object_new_int(ev->k.pid));
		if ((p->known & PF_CONTAINER) && p->container_id[0])
			json_object_object_add(jobj(root, "container"), "id",
			    json_object_new_string(p->container_id));
		if ((p->known & PF_NSPID) && p->ns_pid > 0 && p->ns_pid != p->pid)
			json_object_object_add(hids, "ns_pid", json_object_new_int(p->ns_pid));
		if (p->exe_deleted)
			json_object_object_add(hids, "exe_deleted", json_object_new_boolean(1));
		if (ev->has_tracer) {
			json_object *t = jobj(hids, "tracer");
			add_process(ctx, t, &ev->tracer, escaped, "hids.tracer", sh, false);
			if (!json_object_object_get_ex(t, "pid", NULL))
				json_object_object_add(t, "pid", json_object_new_int(ev->k.tracer_tgid));
		}
		add_action_details(hids, po, ev);
		if (ev->proc_gone)
			json_object_object_add(hids, "proc_gone", json_object_new_boolean(1));
		bool cut = (p->known & PF_ARGS) && (p->args_truncated || args_keep < p->args_len);
		if (cut)
			json_object_object_add(hids, "args_truncated", json_object_new_boolean(1));
		if (sh->cut || sh->drop_previous)
			json_object_object_add(hids, "truncated", json_object_new_boolean(1));
		json_object *kern = jobj(hids, "kernel");
		json_object_object_add(kern, "cpu", json_object_new_int64(ev->k.cpu));
		json_object_object_add(kern, "seq", json_object_new_int64(ev->k.seq));
	}
	if (json_object_array_length(escaped) > 0)
		json_object_object_add(hids, "escaped", escaped);
	else
		json_object_put(escaped);
	if (json_object_object_length(hids) > 0)
		json_object_object_add(root, "hids", hids);
	else
		json_object_put(hids);
	return root;
}

/*
 * Encodes an event as one JSON line with a trailing newline; the caller
 * frees it. Consumes one event.sequence number, however often the line is
 * rebuilt. A line over max_line_bytes gives up, in this order, bytes of
 * args (hids.args_truncated), then process.previous and all but
 * COMPACT_STR_BYTES of every path and name, then every such string
 * (both marked hids.truncated); it is never split.
 */
char *
encode_event(struct encode_ctx *ctx, const struct event *ev, size_t *len)
{
	struct shrink sh = { .args_keep = SIZE_MAX };
	uint64_t seq0 = ctx->sequence;

	for (;;) {
		json_object *doc;
		const char *s;
		size_t slen;

		ctx->sequence = seq0;
		sh.cut = false;
		doc = build_doc(ctx, ev, &sh);
		s = json_object_to_json_string_length(doc, JSON_FLAGS, &slen);
		if (ctx->max_line_bytes == 0 || slen + 1 <= ctx->max_line_bytes ||
		    sh.str_cap == 1) {
			char *out = xmalloc(slen + 2);
			memcpy(out, s, slen);
			out[slen] = '\n';
			out[slen + 1] = '\0';
			*len = slen + 1;
			json_object_put(doc);
			return out;
		}
		json_object_put(doc);
		size_t over = slen + 1 - ctx->max_line_bytes;
		size_t cur = sh.args_keep < ev->proc.args_len ? sh.args_keep : ev->proc.args_len;
		if ((ev->proc.known & PF_ARGS) && cur > 0) {
			/*
			 * Each byte of args is in the line at least twice (args and
			 * command_line), so cutting half the excess per round converges
			 * without throwing away room that is free.
			 */
			size_t cut = over / 2 + 16;
			sh.args_keep = cut >= cur ? 0 : cur - cut;
		} else if (sh.str_cap == 0) {
			sh.args_keep = 0;
			sh.drop_previous = true;
			sh.str_cap = COMPACT_STR_BYTES;
		} else {
			sh.str_cap = 1;	/* last resort: keep ids and numbers only */
		}
	}
}
