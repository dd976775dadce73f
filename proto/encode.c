/*
 * encode.c: writes the ECS document of one event as a single line ending
 * in '\n'. The schema is fixed, so the line is written straight into one
 * growing buffer, key by key, in the order docs/schema.md lists: no tree of
 * objects is built (json-c's cost about 13 us per event in the storm
 * benchmark, most of it malloc). Strings from processes go through
 * escape.c first, so the line is valid UTF-8 whatever argv held. When
 * max_line_bytes is set and the line is longer, args are cut (marked in
 * hids.args_truncated) until it fits; a line is never split.
 */
#include "encode.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "common.h"
#include "escape.h"
#include "json.h"

#define COMPACT_STR_BYTES 256	/* strings kept when a line must shrink past its args */
#define JW_MAX_ESCAPED 16	/* fields that can be listed in hids.escaped */

/* How much a line must give up to fit max_line_bytes. */
struct shrink {
	size_t args_keep;	/* bytes of args per process */
	size_t str_cap;		/* 0 = none; else bytes per path or name */
	bool drop_previous;
	bool cut;		/* a string was cut */
};

/* A list of field names for hids.escaped or hids.path_truncated. */
struct jw_names {
	const char *v[JW_MAX_ESCAPED];	/* pointers into buf, for jw_name_list */
	char buf[JW_MAX_ESCAPED][48];
	int n;
};

/* The line being written, and the field names it will list in hids.escaped and hids.path_truncated. */
struct doc {
	struct jw w;			/* first: a struct jw * of a doc is the doc's */
	struct jw_names escaped;	/* fields whose values were escaped */
	struct jw_names cut;		/* paths the process table had cut */
};

/* Returns the document a writer belongs to (the build_doc writer; encode_shared's is not one). */
static struct doc *
doc_of(struct jw *w)
{
	return (struct doc *)(void *)w;
}

/* Adds the field prefix.suffix to a list of names (escaped, or cut). */
static void
jw_note(struct jw_names *l, const char *prefix, const char *suffix)
{
	if (l->n >= JW_MAX_ESCAPED)
		return;
	snprintf(l->buf[l->n], sizeof(l->buf[0]), "%s.%s", prefix, suffix);
	l->v[l->n] = l->buf[l->n];
	l->n++;
}

/* Writes n decimal digits of v, zero-padded, at p; returns p + n. */
static char *
put_digits(char *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

/*
 * Writes wall-clock ns as RFC 3339 UTC with nanoseconds into out (at least
 * ENCODE_TIME_LEN + 1 bytes), the civil date from the day count as in
 * Howard Hinnant's days-to-civil (the proleptic Gregorian calendar gmtime
 * uses): gmtime_r, strftime and snprintf for every timestamp cost more than
 * the rest of a line's numbers together. Returns the length.
 */
static size_t
fmt_time(char *out, uint64_t real_ns)
{
	uint64_t secs = real_ns / 1000000000ull, days = secs / 86400, sod = secs % 86400;
	uint64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	uint64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
	uint64_t y = yoe + era * 400 + (m <= 2);
	char *p = out;

	p = put_digits(p, y, 4);	/* a uint64_t of ns ends in 2554 */
	*p++ = '-';
	p = put_digits(p, m, 2);
	*p++ = '-';
	p = put_digits(p, d, 2);
	*p++ = 'T';
	p = put_digits(p, sod / 3600, 2);
	*p++ = ':';
	p = put_digits(p, sod / 60 % 60, 2);
	*p++ = ':';
	p = put_digits(p, sod % 60, 2);
	*p++ = '.';
	p = put_digits(p, real_ns % 1000000000ull, 9);
	*p++ = 'Z';
	*p = '\0';
	return (size_t)(p - out);
}

/* Formats wall-clock ns as RFC 3339 UTC with nanoseconds (cut to buflen). */
void
encode_format_time(uint64_t real_ns, char *buf, size_t buflen)
{
	char t[ENCODE_TIME_LEN + 1];

	fmt_time(t, real_ns);
	strlcpy_trunc(buf, t, buflen);
}

/* Writes "key":"s" for n bytes that need no JSON escape (digits, a timestamp). */
static void
jw_plain_str(struct jw *w, const char *key, const char *s, size_t n)
{
	jw_key(w, key);
	jw_reserve(w, n + 2);
	w->buf[w->len++] = '"';
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len++] = '"';
}

/* Writes "key":"timestamp". */
static void
jw_time(struct jw *w, const char *key, uint64_t real_ns)
{
	char buf[ENCODE_TIME_LEN + 1];

	jw_plain_str(w, key, buf, fmt_time(buf, real_ns));
}

/* Writes "key":"N" for a number ECS keeps as a string (ids, inodes). */
static void
jw_num_str(struct jw *w, const char *key, uint64_t v)
{
	char buf[24];

	jw_plain_str(w, key, buf, fmt_u64(buf, v));
}

/* Copies a then b into dst of size cap, cut to fit like snprintf("%s%s"). */
static void
join2(char *dst, size_t cap, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la >= cap)
		la = cap - 1;
	memcpy(dst, a, la);
	if (lb >= cap - la)
		lb = cap - 1 - la;
	memcpy(dst + la, b, lb);
	dst[la + lb] = '\0';
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

/* Writes the reversible escape of bytes (escape.h) as a JSON string, or only its inside. */
static void
jw_escape_value(struct jw *w, const char *s, size_t n, bool quoted)
{
	size_t elen;
	char *e = bytes_escape(s, n, &elen);
	if (quoted)
		jw_string(w, e, elen);
	else
		jw_chars(w, e, elen);
	free(e);
}

/* Writes bytes that need no escape (utf8_plain), or their reversible escape (then says so). */
static void
jw_bytes_value(struct jw *w, const char *s, size_t n, bool *escaped)
{
	*escaped = !utf8_plain(s, n);
	if (*escaped)
		jw_escape_value(w, s, n, true);
	else
		jw_string(w, s, n);
}

/* Adds attacker-controlled bytes as a string, escaping reversibly if needed; cut: the table had cut it. */
static void
add_bytes(struct jw *w, const char *key, const char *s, size_t n,
    const char *prefix, struct shrink *sh, bool cut)
{
	bool esc;

	if (cut && !(sh->str_cap == 1 && n > 1))
		jw_note(&doc_of(w)->cut, prefix, key);

	if (sh->str_cap && n > sh->str_cap) {
		sh->cut = true;
		if (sh->str_cap == 1)
			return;	/* the last resort leaves strings out */
		n = utf8_truncate(s, n, sh->str_cap);
	}
	jw_key(w, key);
	jw_bytes_value(w, s, n, &esc);
	if (esc)
		jw_note(&doc_of(w)->escaped, prefix, key);
}

/* Writes {"id":"N","name":...} under key; prefix names the object for hids.escaped. */
static void
add_id_at(struct jw *w, const char *key, uint32_t id, const char *name, const char *prefix,
    struct shrink *sh)
{
	jw_open(w, key);
	jw_num_str(w, "id", id);
	if (name)
		add_bytes(w, "name", name, strlen(name), prefix, sh, false);
	jw_close(w);
}

/* Writes {"id":"N","name":...}; the name comes from NSS, so it is treated like process strings. */
static void
add_id(struct jw *w, const char *key, uint32_t id, const char *name, struct shrink *sh)
{
	char prefix[32];

	join2(prefix, sizeof(prefix), w->depth > 2 ? "process." : "", key);
	add_id_at(w, key, id, name, prefix, sh);
}

/* Writes the arguments in args[0, keep) as JSON strings, separated by sep. */
static void
jw_arg_list(struct jw *w, const struct process *p, size_t keep, bool esc, char sep,
    bool quoted)
{
	/*
	 * keep bytes hold NUL-separated arguments, so a NUL at keep - 1 ends
	 * the last but one and leaves an empty last one (argv [..., ""]).
	 * Nothing kept of non-empty args (cut to fit) is no argument at all;
	 * argv [""] has no bytes either but one argument.
	 */
	if (keep == 0 && (p->args_len > 0 || p->args_count == 0))
		return;
	for (size_t off = 0; off <= keep;) {
		const char *a = p->args + off;
		size_t alen = strnlen(a, keep - off);
		if (off > 0)
			jw_char(w, sep);
		if (esc)
			jw_escape_value(w, a, alen, quoted);
		else if (quoted)
			jw_string(w, a, alen);
		else
			jw_chars(w, a, alen);	/* a piece of one string */
		off += alen + 1;
	}
}

/*
 * Adds args, args_count and command_line from the NUL-separated buffer.
 * If any argument is not valid UTF-8, every argument is escaped, so that
 * "process.args" in hids.escaped applies to the whole array.
 */
static void
add_args(struct jw *w, const struct process *p, size_t keep, const char *prefix,
    bool with_count, bool with_cmdline)
{
	bool esc = !utf8_plain_args(p->args, keep);

	jw_key(w, "args");
	jw_char(w, '[');
	jw_arg_list(w, p, keep, esc, ',', true);
	jw_char(w, ']');
	if (with_count)
		jw_int(w, "args_count", p->args_count);
	if (with_cmdline) {
		jw_key(w, "command_line");
		jw_char(w, '"');
		jw_arg_list(w, p, keep, esc, ' ', false);
		jw_char(w, '"');
	}
	if (esc) {
		jw_note(&doc_of(w)->escaped, prefix, "args");
		if (with_cmdline)
			jw_note(&doc_of(w)->escaped, prefix, "command_line");
	}
}

/*
 * Adds process.env_vars, NAME=value strings, escaped like args: if one
 * is not plain UTF-8 all are, and "process.env_vars" goes in hids.escaped.
 * A line that must shrink cuts each to str_cap bytes, or leaves them out.
 */
static void
add_env_vars(struct jw *w, const struct process *p, struct shrink *sh)
{
	bool esc = !utf8_plain_args(p->env, p->env_len);

	if (sh->str_cap == 1) {
		sh->cut = true;
		return;
	}
	jw_key(w, "env_vars");
	jw_char(w, '[');
	for (size_t off = 0; off <= p->env_len;) {
		const char *e = p->env + off;
		size_t n = strnlen(e, p->env_len - off), keep = n;
		if (off > 0)
			jw_char(w, ',');
		if (sh->str_cap && keep > sh->str_cap) {
			keep = utf8_truncate(e, n, sh->str_cap);
			sh->cut = true;
		}
		if (esc)
			jw_escape_value(w, e, keep, true);
		else
			jw_string(w, e, keep);
		off += n + 1;
	}
	jw_char(w, ']');
	if (esc)
		jw_note(&doc_of(w)->escaped, "process", "env_vars");
}

/* Adds process.hash.{md5,sha1,sha256} of the executable, when they were computed. */
static void
add_hash(struct jw *w, const struct process *p)
{
	if (p->hash_status != HASH_STATUS_DONE || p->hash_algs == 0)
		return;
	jw_open(w, "hash");
	if (p->hash_algs & HASH_ALG_MD5)
		jw_hex(w, "md5", p->md5, sizeof(p->md5));
	if (p->hash_algs & HASH_ALG_SHA1)
		jw_hex(w, "sha1", p->sha1, sizeof(p->sha1));
	if (p->hash_algs & HASH_ALG_SHA256)
		jw_hex(w, "sha256", p->sha256, sizeof(p->sha256));
	jw_close(w);
}

/* Which parts of a process add_process writes. */
enum {
	AP_FULL = 1,		/* cwd, start, interactive, tty, command_line */
	AP_NO_IDS = 2,		/* leave out pid, entity_id and args_count (previous) */
};

/* Writes the ECS fields of one process into the open object; prefix names it for hids.escaped. */
static void
add_process(struct encode_ctx *ctx, struct jw *w, const struct process *p,
    const char *prefix, struct shrink *sh, int how)
{
	bool full = how & AP_FULL, ids = !(how & AP_NO_IDS);

	if (ids && p->pid > 0)
		jw_int(w, "pid", p->pid);
	if (ids && p->entity_id[0])
		jw_str(w, "entity_id", p->entity_id);
	if ((p->known & PF_NAME) && p->name[0])
		add_bytes(w, "name", p->name, strlen(p->name), prefix, sh, false);
	if ((p->known & PF_EXE) && p->executable)
		add_bytes(w, "executable", p->executable, strlen(p->executable), prefix, sh,
		    p->paths_cut & PATH_CUT_EXE);
	if ((p->known & PF_ARGS) && p->args) {
		/* A cut lands on a character boundary: valid argv stays unescaped. */
		size_t keep = sh->args_keep < p->args_len ?
		    utf8_truncate(p->args, p->args_len, sh->args_keep) : p->args_len;
		add_args(w, p, keep, prefix, ids, full);
	}
	if (!full)
		return;
	if ((p->known & PF_CWD) && p->cwd)
		add_bytes(w, "working_directory", p->cwd, strlen(p->cwd), prefix, sh,
		    p->paths_cut & PATH_CUT_CWD);
	uint64_t start = encode_start_ns(ctx, p);
	if (start)
		jw_time(w, "start", start);
	if (p->known & PF_STAT) {
		jw_bool(w, "interactive", p->tty_nr != 0);
		if (p->tty_nr != 0) {
			unsigned maj = ((unsigned)p->tty_nr >> 8) & 0xfff;
			unsigned min = ((unsigned)p->tty_nr & 0xff) |
			    (((unsigned)p->tty_nr >> 12) & 0xfff00);
			jw_open(w, "tty");
			jw_open(w, "char_device");
			jw_int(w, "major", maj);
			jw_int(w, "minor", min);
			jw_close(w);
			jw_close(w);
		}
	}
}

/* Writes a related process (parent, tracer) with its pid even when nothing else is known. */
static void
add_related(struct encode_ctx *ctx, struct jw *w, const char *key, bool known,
    const struct process *p, int32_t pid, const char *prefix, struct shrink *sh)
{
	jw_open(w, key);
	if (known)
		add_process(ctx, w, p, prefix, sh, 0);
	if ((!known || p->pid <= 0) && pid > 0)
		jw_int(w, "pid", pid);
	jw_close(w);
}

/* Writes a process's credentials the ECS way, with the names the cache had. */
static void
add_proc_ids(struct jw *w, const struct proc_ids *id, const char *user_name,
    const char *group_name, const char *prefix, struct shrink *sh)
{
	char up[48], gp[48];

	join2(up, sizeof(up), prefix, ".user");
	join2(gp, sizeof(gp), prefix, ".group");
	add_id_at(w, "user", id->euid, user_name, up, sh);
	add_id(w, "real_user", id->ruid, NULL, sh);
	add_id(w, "saved_user", id->suid, NULL, sh);
	add_id_at(w, "group", id->egid, group_name, gp, sh);
	add_id(w, "real_group", id->rgid, NULL, sh);
	add_id(w, "saved_group", id->sgid, NULL, sh);
}

/* Writes the names of the capability bits set in caps as an array under key. */
static void
add_cap_list(struct jw *w, const char *key, uint64_t caps)
{
	char buf[24];
	bool first = true;

	jw_key(w, key);
	jw_char(w, '[');
	for (unsigned i = 0; i < 64; i++) {
		if (!(caps & (1ull << i)))
			continue;
		const char *name = cap_name(i);
		if (name == NULL) {
			snprintf(buf, sizeof(buf), "CAP_%u", i);
			name = buf;
		}
		if (!first)
			jw_char(w, ',');
		jw_string(w, name, strlen(name));
		first = false;
	}
	jw_char(w, ']');
}

/* Writes process.thread: the thread's id (thread events), its capabilities (exec and id changes). */
static void
add_thread(struct jw *w, const struct hids_event *ev)
{
	const struct process *p = &ev->proc;
	enum ev_action a = ev->k.action;
	bool caps = (p->known & PF_CAPS) &&
	    (a == EV_EXEC || a == EV_UID || a == EV_GID);

	if (!ev->is_thread && !caps)
		return;
	jw_open(w, "thread");
	if (ev->is_thread)
		jw_int(w, "id", ev->k.pid);
	if (caps) {
		jw_open(w, "capabilities");
		add_cap_list(w, "effective", p->cap_eff);
		add_cap_list(w, "permitted", p->cap_prm);
		jw_close(w);
	}
	jw_close(w);
}

/* Writes process.parent: the same fields as the process itself, or its pid alone. */
static void
add_parent_process(struct encode_ctx *ctx, struct jw *w, const struct hids_event *ev,
    struct shrink *sh)
{
	const struct process *pp = &ev->parent;
	int32_t ppid = ev->proc.ppid;

	jw_open(w, "parent");
	if (ev->has_parent)
		add_process(ctx, w, pp, "process.parent", sh, AP_FULL);
	if ((!ev->has_parent || pp->pid <= 0) && ppid > 0)
		jw_int(w, "pid", ppid);
	if (ev->has_parent && (pp->known & PF_IDS))
		add_proc_ids(w, &pp->ids, ev->parent_user_name, ev->parent_group_name,
		    "process.parent", sh);
	jw_close(w);
}

/* Writes entry_meta of an entry leader: its type and, for sshd, the client's address. */
static void
add_entry_meta(struct jw *w, const struct entry_ref *e)
{
	const char *type = entry_type_name((enum entry_type)e->type);
	char ip[INET6_ADDRSTRLEN];

	jw_open(w, "entry_meta");
	jw_str(w, "type", type ? type : "unknown");
	if (e->ip_family != 0 &&
	    inet_ntop(e->ip_family, e->ip, ip, sizeof(ip))) {
		jw_open(w, "source");
		jw_str(w, "ip", ip);
		jw_close(w);
	}
	jw_close(w);
}

/*
 * Writes a session, group or entry leader: the whole process when the
 * table still had it (has), else only the pid (and, for the entry leader,
 * its entity id and entry_meta, which every descendant carries).
 */
static void
add_leader(struct encode_ctx *ctx, struct jw *w, const char *key, bool has,
    const struct process *lp, int32_t pid, const struct entry_ref *e, const char *user_name,
    struct shrink *sh)
{
	char prefix[40], up[48];

	if (pid <= 0)
		return;
	join2(prefix, sizeof(prefix), "process.", key);
	jw_open(w, key);
	if (has)
		add_process(ctx, w, lp, prefix, sh, AP_FULL);
	else
		jw_int(w, "pid", pid);
	if (e && !has)
		jw_str(w, "entity_id", e->entity_id);
	if (has && (lp->known & PF_IDS)) {
		join2(up, sizeof(up), prefix, ".user");
		add_id_at(w, "user", lp->ids.euid, user_name, up, sh);
	}
	if (e)
		add_entry_meta(w, e);
	jw_close(w);
}

/* Writes the kernel-specific details that ECS has no field for, into hids. */
static void
add_action_details(struct jw *w, const struct hids_event *ev)
{
	const struct cn_event *k = &ev->k;

	switch (k->action) {
	case EV_EXIT: {
		uint32_t st = k->exit_status;
		if ((st & 0x7f) != 0 && (st & 0x7f) != 0x7f) {
			int sig = (int)(st & 0x7f);
			const char *name = sigabbrev_np(sig);
			char buf[24];
			if (name)
				snprintf(buf, sizeof(buf), "SIG%s", name);
			else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
				snprintf(buf, sizeof(buf), "SIGRTMIN+%d", sig - SIGRTMIN);
			else
				snprintf(buf, sizeof(buf), "SIG%d", sig);
			jw_open(w, "signal");
			jw_int(w, "number", sig);
			jw_str(w, "name", buf);
			jw_close(w);
			jw_bool(w, "core_dumped", (st & 0x80) != 0);
		}
		jw_int(w, "exit_status", st);
		break;
	}
	case EV_UID:
	case EV_GID:
		jw_open(w, k->action == EV_UID ? "uid" : "gid");
		jw_int(w, "real", k->rid);
		jw_int(w, "effective", k->eid);
		jw_close(w);
		break;
	case EV_PTRACE:
		jw_open(w, "ptrace");
		jw_str(w, "op", k->tracer_pid ? "attach" : "detach");
		jw_close(w);
		break;
	default:
		break;
	}
}

/* The host fields that come from the host's own files, in the order shared has them; bit i of shared_escaped is names[i]. */
static const char *const shared_names[] = {
	"host.hostname", "host.name", "host.architecture", "host.os.family", "host.os.name",
	"host.os.version", "host.os.platform", "host.os.full", "host.os.kernel",
};

/* Writes one host string; its bytes are the host's (hostname, os-release), so they are escaped like process strings. */
static void
shared_str(struct encode_ctx *ctx, struct jw *w, const char *key, const char *v, int bit)
{
	bool esc;

	if (v == NULL)
		return;
	jw_key(w, key);
	jw_bytes_value(w, v, strlen(v), &esc);
	if (esc)
		ctx->shared_escaped |= 1u << bit;
}

/* Writes host.os: type, then what os-release and uname told. */
static void
shared_os(struct encode_ctx *ctx, struct jw *w)
{
	const struct host_os *os = ctx->os;

	jw_open(w, "os");
	jw_str(w, "type", "linux");
	if (os != NULL) {
		shared_str(ctx, w, "family", os->family, 3);
		shared_str(ctx, w, "name", os->name, 4);
		shared_str(ctx, w, "version", os->version, 5);
		shared_str(ctx, w, "platform", os->platform, 6);
		shared_str(ctx, w, "full", os->full, 7);
		shared_str(ctx, w, "kernel", os->kernel, 8);
	}
	jw_close(w);
}

/* Renders host, agent and ecs once (again when the host name or the host's os changes). */
static void
encode_shared(struct encode_ctx *ctx)
{
	struct jw w = { 0 };

	if (ctx->shared && strcmp(ctx->shared_host, ctx->hostname) == 0)
		return;
	free(ctx->shared);
	ctx->shared_escaped = 0;
	jw_open(&w, NULL);	/* only to have a member before: the comma comes with it */
	w.has[w.depth] = true;
	jw_open(&w, "host");
	shared_str(ctx, &w, "hostname", ctx->hostname, 0);
	shared_str(ctx, &w, "name", ctx->hostname, 1);
	if (ctx->host_id)
		jw_str(&w, "id", ctx->host_id);
	if (ctx->os != NULL)
		shared_str(ctx, &w, "architecture", ctx->os->architecture, 2);
	shared_os(ctx, &w);
	jw_close(&w);
	jw_open(&w, "agent");
	jw_str(&w, "type", "hids-agent");
	jw_str(&w, "version", ctx->agent_version);
	jw_str(&w, "id", ctx->agent_id);
	jw_str(&w, "ephemeral_id", ctx->ephemeral_id);
	jw_close(&w);
	jw_open(&w, "ecs");
	jw_str(&w, "version", ECS_VERSION);
	jw_close(&w);
	/* Without the '{' the fragment starts with the comma: ,"host":{...},...,"ecs":{...} */
	ctx->shared_len = w.len - 1;
	ctx->shared = xmalloc(ctx->shared_len);
	memcpy(ctx->shared, w.buf + 1, ctx->shared_len);
	free(w.buf);
	snprintf(ctx->shared_host, sizeof(ctx->shared_host), "%s", ctx->hostname);
}

/* Says that ctx->os (or what it points to) changed: the next line renders host again. */
void
encode_ctx_host_changed(struct encode_ctx *ctx)
{
	free(ctx->shared);
	ctx->shared = NULL;
	ctx->shared_len = 0;
}

/* Frees what an encoder context keeps between events. */
void
encode_ctx_release(struct encode_ctx *ctx)
{
	free(ctx->shared);
	ctx->shared = NULL;
	ctx->shared_len = 0;
	free(ctx->buf);
	ctx->buf = NULL;
	ctx->buf_cap = 0;
}

/* Writes @timestamp, event.*, host.*, agent.*, ecs.*. */
static void
add_envelope(struct encode_ctx *ctx, struct jw *w, const struct hids_event *ev)
{
	char idbuf[64];
	size_t idlen;
	/* The caller stamps its own records (agent_emit); the encoder reads no clock. */
	uint64_t ts = ev->k.ts_ns + (uint64_t)ctx->mono_to_real_ns;
	bool metric = ev_action_is_record(ev->k.action);

	jw_time(w, "@timestamp", ts);
	ctx->sequence++;
	join2(idbuf, sizeof(idbuf) - 21, ctx->ephemeral_id, "-");
	idlen = strlen(idbuf);
	fmt_u64(idbuf + idlen, ctx->sequence);
	jw_open(w, "event");
	jw_str(w, "kind", metric ? "metric" : "event");
	jw_key(w, "category");
	jw_raw(w, "[\"process\"]", 11);
	jw_key(w, "type");
	jw_char(w, '[');
	jw_string(w, ev_action_type(ev->k.action), strlen(ev_action_type(ev->k.action)));
	jw_char(w, ']');
	jw_str(w, "action", ev_action_name(ev->k.action));
	jw_str(w, "id", idbuf);
	jw_int(w, "sequence", (int64_t)ctx->sequence);
	jw_str(w, "module", "hids");
	if (ev->duration_ns)
		jw_int(w, "duration", (int64_t)ev->duration_ns);
	jw_close(w);
	encode_shared(ctx);
	jw_raw(w, ctx->shared, ctx->shared_len);
	for (size_t i = 0; i < sizeof(shared_names) / sizeof(shared_names[0]); i++) {
		if (ctx->shared_escaped & (1u << i)) {
			const char *dot = strrchr(shared_names[i], '.');
			char prefix[16];
			snprintf(prefix, sizeof(prefix), "%.*s", (int)(dot - shared_names[i]),
			    shared_names[i]);
			jw_note(&doc_of(w)->escaped, prefix, dot + 1);
		}
	}
}

/* Writes the agent's counters of a heartbeat or lost record. */
static void
add_stats(struct jw *w, const struct agent_stats *s)
{
	size_t n;
	const struct agent_stat_desc *d = agent_stats_list(&n);

	jw_open(w, "stats");
	for (size_t i = 0; i < n; i++)
		if (agent_stats_has_group(s, d[i].group))
			jw_int(w, d[i].name, (int64_t)agent_stats_value(s, &d[i]));
	if (s->forwarding) {
		jw_bool(w, "connected", s->connected);
		jw_str(w, "collector", s->collector ? s->collector : "");
	}
	jw_close(w);
}

/*
 * Writes user (effective, with user.effective the same, and user.audit,
 * the login uid, as Auditbeat names it) and group.
 */
static void
add_event_user(struct jw *w, const struct hids_event *ev, struct shrink *sh)
{
	const struct process *p = &ev->proc;

	if (!(p->known & PF_IDS))
		return;
	jw_open(w, "user");
	jw_num_str(w, "id", p->ids.euid);
	if (ev->user_name)
		add_bytes(w, "name", ev->user_name, strlen(ev->user_name), "user", sh, false);
	add_id_at(w, "effective", p->ids.euid, ev->user_name, "user.effective", sh);
	if ((p->known & PF_AUDIT) && p->audit_uid != AUDIT_UNSET)
		add_id_at(w, "audit", p->audit_uid, ev->audit_user_name, "user.audit", sh);
	jw_close(w);
	add_id(w, "group", p->ids.egid, ev->group_name, sh);
}

/* Writes the process part of an event: process, user, group, container. */
static void
add_event_process(struct encode_ctx *ctx, struct jw *w, const struct hids_event *ev,
    struct shrink *sh)
{
	const struct process *p = &ev->proc;

	jw_open(w, "process");
	add_process(ctx, w, p, "process", sh, AP_FULL);
	if (p->env && p->env_len > 0)
		add_env_vars(w, p, sh);
	add_hash(w, p);
	if (ev->has_parent || p->ppid > 0)
		add_parent_process(ctx, w, ev, sh);
	if (p->known & PF_STAT) {
		add_leader(ctx, w, "session_leader", ev->has_session_leader, &ev->session_leader,
		    p->sid, NULL, ev->leader_user_name[0], sh);
		add_leader(ctx, w, "group_leader", ev->has_group_leader, &ev->group_leader,
		    p->pgid, NULL, ev->leader_user_name[1], sh);
	}
	if (p->entry.type > ENTRY_UNKNOWN && p->entry.pid > 0)
		add_leader(ctx, w, "entry_leader", ev->has_entry_leader, &ev->entry_leader,
		    p->entry.pid, &p->entry, ev->leader_user_name[2], sh);
	if (ev->has_previous && !sh->drop_previous) {
		jw_open(w, "previous");
		add_process(ctx, w, &ev->previous, "process.previous", sh, AP_NO_IDS);
		jw_close(w);
	}
	if (p->known & PF_IDS)
		add_proc_ids(w, &p->ids, ev->user_name, ev->group_name, "process", sh);
	if (ev->k.action == EV_EXIT && ev->k.ts_ns)
		jw_time(w, "end", ev->k.ts_ns + (uint64_t)ctx->mono_to_real_ns);
	add_thread(w, ev);
	if (ev->k.action == EV_EXIT && (ev->k.exit_status & 0x7f) == 0)
		jw_int(w, "exit_code", (ev->k.exit_status >> 8) & 0xff);
	jw_close(w);
	add_event_user(w, ev, sh);
	if ((p->known & PF_CONTAINER) && p->container_id[0]) {
		const char *rt = container_runtime_name((enum container_runtime)p->runtime);
		jw_open(w, "container");
		jw_str(w, "id", p->container_id);
		if (rt)
			jw_str(w, "runtime", rt);
		jw_close(w);
	}
	if ((p->known & PF_AUDIT) && p->audit_sid != AUDIT_UNSET) {
		jw_open(w, "auditd");
		jw_num_str(w, "session", p->audit_sid);
		jw_close(w);
	}
}

/* Writes an errno as its name ("ENAMETOOLONG"), or its number when it has none. */
static void
add_errno(struct jw *w, const char *key, int err)
{
	const char *name = strerrorname_np(err);
	char buf[24];

	if (name == NULL) {
		snprintf(buf, sizeof(buf), "errno %d", err);
		name = buf;
	}
	jw_str(w, key, name);
}

/*
 * Writes hids.exe: the executable's device ("major:minor") and inode, as
 * ECS writes file.device and file.inode, and what makes a binary worth a
 * look: its mode and owner, setuid and setgid bits, whether anyone but
 * root can change it, file capabilities, deleted or a memfd.
 */
static void
add_exe_id(struct jw *w, const struct process *p)
{
	char buf[48];
	size_t n;
	unsigned mode = p->exe_id.mode & 07777;
	bool deleted = p->exe_deleted && (p->known & PF_EXE);

	jw_open(w, "exe");
	n = fmt_u64(buf, major((dev_t)p->exe_id.dev));
	buf[n++] = ':';
	n += fmt_u64(buf + n, minor((dev_t)p->exe_id.dev));
	jw_key(w, "device");
	jw_string(w, buf, n);
	jw_num_str(w, "inode", p->exe_id.ino);
	for (int i = 0; i < 4; i++)
		buf[i] = (char)('0' + (mode >> (9 - 3 * i) & 7));	/* "%04o" */
	jw_key(w, "mode");
	jw_string(w, buf, 4);
	jw_num_str(w, "uid", p->exe_id.uid);
	if (p->exe_id.mode & S_ISUID)
		jw_bool(w, "setuid", true);
	if (p->exe_id.mode & S_ISGID)
		jw_bool(w, "setgid", true);
	if ((p->exe_id.mode & (S_IWGRP | S_IWOTH)) || p->exe_id.uid != 0)
		jw_bool(w, "writable_by_non_root", true);
	if (deleted)
		jw_bool(w, "deleted", true);
	if (deleted && p->executable && strncmp(p->executable, "/memfd:", 7) == 0)
		jw_bool(w, "memfd", true);
	if (p->exe_id.fcaps) {
		jw_open(w, "capabilities");
		add_cap_list(w, "permitted", p->exe_id.fcaps_permitted);
		add_cap_list(w, "inheritable", p->exe_id.fcaps_inheritable);
		jw_bool(w, "effective", p->exe_id.fcaps_effective);
		jw_close(w);
	}
	jw_close(w);
}

/* Writes the hids.* fields of a process event. */
static void
add_event_hids(struct encode_ctx *ctx, struct jw *w, const struct hids_event *ev,
    struct shrink *sh)
{
	const struct process *p = &ev->proc;

	if ((p->known & PF_NSPID) && p->ns_pid > 0 && p->ns_pid != p->pid)
		jw_int(w, "ns_pid", p->ns_pid);
	if ((p->known & PF_CONTAINER) && p->cgroup)
		add_bytes(w, "cgroup", p->cgroup, strlen(p->cgroup), "hids", sh,
		    p->paths_cut & PATH_CUT_CGROUP);
	if (p->exe_deleted)
		jw_bool(w, "exe_deleted", true);
	if (p->exe_errno)
		add_errno(w, "exe_error", p->exe_errno);
	if (p->known & PF_EXE_ID)
		add_exe_id(w, p);
	if (hash_status_name(p->hash_status))
		jw_str(w, "hash_status", hash_status_name(p->hash_status));
	if (p->cwd_errno)
		add_errno(w, "cwd_error", p->cwd_errno);
	if (ev->has_tracer)
		add_related(ctx, w, "tracer", true, &ev->tracer, ev->k.tracer_tgid,
		    "hids.tracer", sh);
	add_action_details(w, ev);
	if (ev->proc_gone)
		jw_bool(w, "proc_gone", true);
	if ((p->known & PF_ARGS) && (p->args_truncated || sh->args_keep < p->args_len))
		jw_bool(w, "args_truncated", true);
	if ((p->known & PF_ARGS) && p->args_count_partial)
		jw_bool(w, "args_count_partial", true);
	if (p->env && p->env_truncated)
		jw_bool(w, "env_vars_truncated", true);
	if (p->env && p->env_partial)
		jw_bool(w, "env_vars_partial", true);
	if (sh->cut || sh->drop_previous)
		jw_bool(w, "truncated", true);
	jw_open(w, "kernel");
	jw_int(w, "cpu", ev->k.cpu);
	jw_int(w, "seq", ev->k.seq);
	jw_close(w);
}

/* Writes hids.filter of a suppressed record: the rule and what it suppressed. */
static void
add_summary(struct encode_ctx *ctx, struct jw *w, const struct filter_summary *s,
    struct shrink *sh)
{
	const struct process *p = &s->example;

	jw_open(w, "filter");
	jw_str(w, "rule", s->rule);
	jw_str(w, "action", s->sample ? "sample" : "drop");
	if (s->sample)
		jw_int(w, "sample", s->sample);
	jw_int(w, "processes", (int64_t)s->processes);
	jw_int(w, "events", (int64_t)s->events);
	if (s->first_ns)
		jw_time(w, "first", s->first_ns + (uint64_t)ctx->mono_to_real_ns);
	if (s->last_ns)
		jw_time(w, "last", s->last_ns + (uint64_t)ctx->mono_to_real_ns);
	if (s->has_example) {
		jw_open(w, "example");
		if ((p->known & PF_EXE) && p->executable)
			add_bytes(w, "executable", p->executable, strlen(p->executable),
			    "hids.filter.example", sh, p->paths_cut & PATH_CUT_EXE);
		if ((p->known & PF_ARGS) && p->args) {
			size_t keep = sh->args_keep < p->args_len ?
			    utf8_truncate(p->args, p->args_len, sh->args_keep) : p->args_len;
			add_args(w, p, keep, "hids.filter.example", true, true);
			if (p->args_truncated || keep < p->args_len)
				jw_bool(w, "args_truncated", true);
		}
		jw_close(w);
	}
	jw_close(w);
}

/* Writes the whole document within the limits of sh. */
static void
build_doc(struct encode_ctx *ctx, struct jw *w, const struct hids_event *ev, struct shrink *sh)
{
	bool proc_event = !ev_action_is_record(ev->k.action);

	jw_open(w, NULL);
	add_envelope(ctx, w, ev);
	if (proc_event)
		add_event_process(ctx, w, ev, sh);
	struct jw_mark mark = jw_open_opt(w, "hids");
	if (ev->k.action == EV_LOST)
		jw_int(w, "lost", (int64_t)ev->lost);
	if (ev->reason)
		jw_str(w, "reason", ev->reason);
	if (ev->stats)
		add_stats(w, ev->stats);
	if (ev->summary)
		add_summary(ctx, w, ev->summary, sh);
	if (proc_event)
		add_event_hids(ctx, w, ev, sh);
	if (doc_of(w)->escaped.n > 0)
		jw_str_array(w, "escaped", doc_of(w)->escaped.v, doc_of(w)->escaped.n);
	if (doc_of(w)->cut.n > 0)
		jw_str_array(w, "path_truncated", doc_of(w)->cut.v, doc_of(w)->cut.n);
	jw_close_opt(w, mark);
	jw_close(w);
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
encode_event(struct encode_ctx *ctx, const struct hids_event *ev, size_t *len)
{
	struct shrink sh = { .args_keep = SIZE_MAX };
	uint64_t seq0 = ctx->sequence;
	struct doc d;

	memset(&d, 0, sizeof(d));
	d.w.buf = ctx->buf;	/* the buffer of the last line, kept for the next */
	d.w.cap = ctx->buf_cap;
	for (;;) {
		ctx->sequence = seq0;
		sh.cut = false;
		d.w.len = 0;
		d.w.depth = 0;
		d.w.has[0] = false;
		d.escaped.n = 0;
		d.cut.n = 0;
		build_doc(ctx, &d.w, ev, &sh);
		if (ctx->max_line_bytes == 0 || d.w.len + 1 <= ctx->max_line_bytes ||
		    sh.str_cap == 1)
			break;
		size_t over = d.w.len + 1 - ctx->max_line_bytes;
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
	ctx->buf = d.w.buf;
	ctx->buf_cap = d.w.cap;
	char *out = xmalloc(d.w.len + 2);
	memcpy(out, d.w.buf, d.w.len);
	out[d.w.len] = '\n';
	out[d.w.len + 1] = '\0';
	*len = d.w.len + 1;
	return out;
}
