/*
 * fuzz_encode.c: the line writer on arbitrary events. The input picks the
 * action, the known fields and the line limit, and supplies every string
 * (args, paths, names, host name) as raw bytes. Whatever they hold, the
 * output must be exactly one line of valid UTF-8 that json-c parses as an
 * object, with process.args_count true, the arguments reversible to their
 * bytes when not cut, and no line over max_line_bytes when the limit
 * leaves room for the fixed fields.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "escape.h"
#include "../jpath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p;
	size_t n;
};

static uint32_t
take_u32(struct input *in)
{
	uint32_t v = 0;
	for (int i = 0; i < 4 && in->n > 0; i++, in->p++, in->n--)
		v = v << 8 | *in->p;
	return v;
}

/* The next string: up to a 0xff 0x00 separator (or the end); a new buffer. */
static char *
take_str(struct input *in, size_t *len)
{
	size_t i;
	for (i = 0; i + 1 < in->n; i++)
		if (in->p[i] == 0xff && in->p[i + 1] == 0x00)
			break;
	if (i + 1 >= in->n)
		i = in->n;
	char *s = malloc(i + 1);
	if (s == NULL)
		abort();
	memcpy(s, in->p, i);
	s[i] = '\0';
	*len = i;
	size_t used = i + (i < in->n ? 2 : 0);
	in->p += used;
	in->n -= used;
	return s;
}

/* A C string (stops at the first NUL, as /proc paths do). */
static char *
take_cstr(struct input *in)
{
	size_t len;
	return take_str(in, &len);
}

/*
 * Says whether a string, or any string of an array, is longer than what the
 * last resort keeps: one byte, which is at most four characters escaped.
 */
static bool
has_bytes(json_object *v)
{
	if (v == NULL)
		return false;
	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (has_bytes(json_object_array_get_idx(v, i)))
				return true;
		return false;
	}
	return json_object_get_string_len(v) > 4;
}

static bool
escaped_has(json_object *doc, const char *field)
{
	json_object *e = jget(doc, "hids.escaped");
	for (size_t i = 0; e && i < json_object_array_length(e); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(e, i)), field) == 0)
			return true;
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	uint32_t sel = take_u32(&in), ids = take_u32(&in), lim = take_u32(&in);
	struct encode_ctx ctx;
	struct hids_event ev;
	struct agent_stats stats;
	char *host, *user;
	size_t args_len;

	memset(&ctx, 0, sizeof(ctx));
	memset(&stats, 0, sizeof(stats));
	hids_event_init(&ev);
	host = take_cstr(&in);
	host[strnlen(host, 64)] = '\0';	/* HOST_NAME_MAX */
	user = take_cstr(&in);
	ctx.hostname = host;
	ctx.host_id = (sel & 1) ? "0123abcd" : NULL;
	ctx.agent_id = "agent";
	ctx.agent_version = "fuzz";
	ctx.ephemeral_id = "eph";
	ctx.clk_tck = 100;
	ctx.mono_to_real_ns = (int64_t)(ids & 0xffffff) * 1000;
	/* No limit, a limit with room for the fixed fields, or a tiny one. */
	ctx.max_line_bytes = (sel & 6) == 0 ? 0 : (sel & 6) == 2 ? 64 + lim % 256 : 2048 + lim % 65536;

	ev.k.action = (enum ev_action)(1 + (sel >> 3) % (EV_ACTION_MAX - 1));
	ev.k.pid = ev.k.tgid = (int32_t)(ids & 0x3fffff);
	ev.k.ts_ns = ids;
	ev.k.exit_status = lim;
	ev.k.tracer_pid = ev.k.tracer_tgid = (int32_t)(lim >> 8 & 0xffff);
	ev.k.cpu = sel >> 16 & 0xff;
	ev.k.seq = lim;
	ev.k.rid = ids;
	ev.k.eid = lim;
	ev.lost = lim;
	ev.reason = (sel & 8) ? "queue_full" : NULL;
	/* Counters come only with the agent's own records, as in the agent. */
	ev.stats = (sel & 16) && (ev.k.action == EV_LOST || ev.k.action == EV_HEARTBEAT) ?
	    &stats : NULL;
	stats.forwarding = sel & 32;
	stats.spooling = sel & 64;
	stats.collector = "127.0.0.1:6514";
	ev.proc_gone = sel & 128;
	ev.is_thread = sel & 256;
	ev.duration_ns = (sel & 512) ? lim : 0;
	ev.user_name = (sel & 1024) ? user : NULL;
	ev.group_name = (sel & 2048) ? user : NULL;

	struct process *p = &ev.proc;
	p->pid = ev.k.tgid;
	p->ppid = (int32_t)(lim & 0xffff);
	p->known = ids >> 16;
	p->sid = p->pgid = (int32_t)(lim & 0x7fff);
	p->tty_nr = (int32_t)(ids & 0xffff);
	p->ns_pid = (int32_t)(sel & 0xfff);
	p->start_ticks = lim;
	p->exe_deleted = sel & 4096;
	p->args = take_str(&in, &args_len);
	p->args_len = args_len;
	p->args_count = 0;
	for (size_t i = 0; i < args_len; i++)
		if (p->args[i] == '\0')
			p->args_count++;
	p->args_count++;
	p->executable = take_cstr(&in);
	p->cwd = take_cstr(&in);
	{
		char *name = take_cstr(&in);
		snprintf(p->name, sizeof(p->name), "%s", name);
		free(name);
	}
	snprintf(p->container_id, sizeof(p->container_id), "%s", (sel & 8192) ? "abc123" : "");
	snprintf(p->entity_id, sizeof(p->entity_id), "%s", "entity");
	if (sel & (1u << 14)) {
		ev.has_parent = true;
		process_copy(&ev.parent, p, SIZE_MAX);
		ev.parent.pid = p->ppid;
	}
	if (sel & (1u << 15)) {
		ev.has_previous = true;
		process_copy(&ev.previous, p, SIZE_MAX);
	}
	if (sel & (1u << 24)) {
		ev.has_tracer = true;
		process_copy(&ev.tracer, p, 64);
	}

	size_t len = 0;
	char *line = encode_event(&ctx, &ev, &len);
	if (len == 0 || strlen(line) != len || line[len - 1] != '\n')
		abort();
	if (memchr(line, '\n', len - 1) != NULL)
		abort();
	if (!utf8_valid(line, len - 1))
		abort();
	enum json_tokener_error jerr;
	json_tokener *tok = json_tokener_new();
	json_object *doc = json_tokener_parse_ex(tok, line, (int)len - 1);
	jerr = json_tokener_get_error(tok);
	if (doc == NULL || jerr != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len - 1 ||
	    !json_object_is_type(doc, json_type_object))
		abort();
	json_tokener_free(tok);
	if (ctx.sequence != 1)
		abort();
	/*
	 * Over the limit only as the last resort: every process string over one
	 * byte given up and the line marked. (The host name and the ids stay, so a host
	 * name of invalid bytes, escaped four times over, can still overflow a
	 * small limit.)
	 */
	bool proc_event = !ev_action_is_record(ev.k.action);
	if (ctx.max_line_bytes && len > ctx.max_line_bytes && proc_event &&
	    (jget(doc, "hids.truncated") == NULL || has_bytes(jget(doc, "process.args")) ||
	    has_bytes(jget(doc, "process.executable")) ||
	    has_bytes(jget(doc, "process.working_directory"))))
		abort();

	/* The arguments: a true count, and exactly the bytes when nothing was cut. */
	json_object *args = jget(doc, "process.args");
	json_object *count = jget(doc, "process.args_count");
	if (proc_event && (p->known & PF_ARGS) && (args == NULL || count == NULL ||
	    json_object_get_int64(count) != (int64_t)p->args_count))
		abort();
	if (args && jget(doc, "hids.args_truncated") == NULL) {
		bool esc = escaped_has(doc, "process.args");
		char *back = malloc(args_len + 1);
		size_t off = 0;
		if (back == NULL)
			abort();
		if (json_object_array_length(args) != p->args_count)
			abort();
		for (size_t i = 0; i < json_object_array_length(args); i++) {
			json_object *a = json_object_array_get_idx(args, i);
			const char *s = json_object_get_string(a);
			size_t slen = (size_t)json_object_get_string_len(a), blen = slen;
			if (esc) {
				if (bytes_unescape(s, slen, back, &blen) != 0)
					abort();
			} else {
				memcpy(back, s, slen);
			}
			if (off + blen > args_len || memcmp(back, p->args + off, blen) != 0)
				abort();
			off += blen + 1;
		}
		if (off != args_len + 1)
			abort();
		free(back);
	}
	json_object_put(doc);
	free(line);
	hids_event_release(&ev);
	encode_ctx_release(&ctx);
	free(host);
	free(user);
	return 0;
}
