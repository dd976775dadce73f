/*
 * textview.c: turns the agent's JSON lines into one readable text line per
 * event, for a person at a terminal: the live view (--format text) and
 * lines read back from a file or a pipe (--read). Both go through the same
 * parse (json-c) and the same formatter, so they cannot disagree.
 *
 * Every byte that comes from the event is escaped before it reaches the
 * terminal: control characters, DEL, and what escape.c escapes (invalid
 * UTF-8, C1 controls, bidirectional and line separators) become \xHH, and
 * a backslash becomes \\ (except in fields the agent already escaped,
 * listed in hids.escaped, which are in that notation already). So a hostile
 * argv can neither move the cursor nor clear the screen, and what is shown
 * can be reversed to the bytes.
 *
 * Indentation follows ancestry among recently seen processes: a direct-
 * mapped table of TEXTVIEW_CACHE_SLOTS entries keyed by pid and checked
 * against process.entity_id. Memory is fixed; a collision or an unseen
 * parent only costs the indentation of that line.
 *
 * Not for machines: the wording and columns may change. Use the JSON.
 */
#include "textview.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "escape.h"
#include "json.h"

#define TV_ENTITY_BYTES 32	/* process.entity_id kept per slot (ours are 24) */
#define TV_JSON_DEPTH 16	/* nesting json-c accepts; ours is 5 deep */
#define TV_READ_CHUNK 65536	/* bytes read from the input at a time */
#define TV_PID_WIDTH 7
#define TV_USER_WIDTH 8
#define TV_ACTION_WIDTH 10	/* "suppressed"; "session_id_change" overflows it */
#define TV_LIT(tv, s) tv_raw((tv), (s), sizeof(s) - 1)	/* appends a string literal */

/* A process seen recently: where its lines are indented. */
struct tv_proc {
	int64_t pid;		/* 0: free slot */
	int depth;
	char entity_id[TV_ENTITY_BYTES];
};

struct textview {
	struct json_tokener *tok;
	struct tv_proc *procs;	/* TEXTVIEW_CACHE_SLOTS, indexed by pid */
	struct jw out;		/* the text of the last line formatted: only the writer's buffer */
	long day;		/* local date of the last line shown, -1 before any */
	bool color;
};

/* How each action's line reads. */
struct tv_action {
	const char *name;
	const char *sgr;	/* colour of the action word */
	void (*detail)(struct textview *, json_object *);
};

/* Creates a view; color adds ANSI colours. */
struct textview *
textview_new(bool color)
{
	struct textview *tv = xcalloc(1, sizeof(*tv));

	if ((tv->tok = json_tokener_new_ex(TV_JSON_DEPTH)) == NULL)
		fatalx("out of memory");
	json_tokener_set_flags(tv->tok, JSON_TOKENER_STRICT);
	tv->procs = xcalloc(TEXTVIEW_CACHE_SLOTS, sizeof(*tv->procs));
	tv->day = -1;
	tv->color = color;
	return tv;
}

/* Frees a view. */
void
textview_free(struct textview *tv)
{
	if (tv == NULL)
		return;
	json_tokener_free(tv->tok);
	free(tv->procs);
	free(tv->out.buf);
	free(tv);
}

/* Appends bytes of our own (never bytes from the event). */
static void
tv_raw(struct textview *tv, const char *s, size_t n)
{
	jw_raw(&tv->out, s, n);
}

static void tv_printf(struct textview *tv, const char *fmt, ...) HIDS_PRINTF(2, 3);

/* Appends formatted text of our own; %s arguments must not come from the event. */
static void
tv_printf(struct textview *tv, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	jw_reserve(&tv->out, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(tv->out.buf + tv->out.len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	tv->out.len += (size_t)n;
}

/* Starts a colour (an SGR parameter string) when colours are on. */
static void
tv_sgr(struct textview *tv, const char *sgr)
{
	if (tv->color && sgr)
		tv_printf(tv, "\033[%sm", sgr);
}

/* Ends a colour started with tv_sgr. */
static void
tv_sgr_end(struct textview *tv, const char *sgr)
{
	if (tv->color && sgr)
		TV_LIT(tv, "\033[0m");
}

/* Pads with spaces from column start to width. */
static void
tv_pad(struct textview *tv, size_t start, size_t width)
{
	while (tv->out.len - start < width)
		TV_LIT(tv, " ");
}

/* The length of the UTF-8 character a lead byte starts, at most n. */
static size_t
tv_utf8_len(unsigned char c, size_t n)
{
	size_t l = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;

	return l < n ? l : n;
}

/*
 * Appends bytes from the event, escaped for a terminal: what escape.c
 * would escape (invalid UTF-8, NUL, C1 controls, bidi and line separators)
 * and the other ASCII controls and DEL become \xHH, byte by byte. escaped
 * says the field is in that notation already, so its backslashes stay.
 */
static void
tv_safe(struct textview *tv, const char *str, size_t n, bool escaped)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, l;

	while (i < n) {
		l = tv_utf8_len(s[i], n - i);
		if (s[i] < 0x20 || s[i] == 0x7f || !utf8_plain(str + i, l)) {
			tv_printf(tv, "\\x%02x", s[i]);
			l = 1;
		} else if (s[i] == '\\' && !escaped) {
			TV_LIT(tv, "\\\\");
		} else {
			tv_raw(tv, str + i, l);
		}
		i += l;
	}
}

/* Looks up a dotted path of object members; NULL if any is missing. */
static json_object *
tv_get(json_object *o, const char *path)
{
	char key[64];
	const char *dot;
	size_t n;

	while (o && *path) {
		dot = strchr(path, '.');
		n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof(key) || !json_object_is_type(o, json_type_object))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		path += n + (dot != NULL);
	}
	return o;
}

/* A string member, or NULL if it is missing or not a string. */
static const char *
tv_str(json_object *o, const char *path, size_t *n)
{
	json_object *v = tv_get(o, path);

	if (v == NULL || !json_object_is_type(v, json_type_string))
		return NULL;
	*n = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

/* An integer member; false if it is missing or not an integer. */
static bool
tv_int(json_object *o, const char *path, int64_t *out)
{
	json_object *v = tv_get(o, path);

	if (v == NULL || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

/* Whether a member is the boolean true. */
static bool
tv_true(json_object *o, const char *path)
{
	json_object *v = tv_get(o, path);

	return v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/* Whether the agent listed a field in hids.escaped. */
static bool
tv_listed_escaped(json_object *ev, const char *field)
{
	json_object *a = tv_get(ev, "hids.escaped"), *v;

	if (a == NULL || !json_object_is_type(a, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		v = json_object_array_get_idx(a, i);
		if (json_object_is_type(v, json_type_string) &&
		    strcmp(json_object_get_string(v), field) == 0)
			return true;
	}
	return false;
}

/* Appends a string field of the event, escaped; false if it has none. */
static bool
tv_field(struct textview *tv, json_object *ev, const char *path)
{
	size_t n;
	const char *s = tv_str(ev, path, &n);

	if (s == NULL)
		return false;
	tv_safe(tv, s, n, tv_listed_escaped(ev, path));
	return true;
}

/* The value of n decimal digits at s, or -1 if they are not all digits. */
static int
tv_digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Parses an RFC 3339 UTC time as the agent writes it; false if it is not one. */
static bool
tv_parse_time(const char *s, int64_t *sec, long *nsec)
{
	struct tm tm;
	int digits = 0;
	long frac = 0;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || strlen(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':')
		return false;
	tm.tm_year = tv_digits(s, 4);
	tm.tm_mon = tv_digits(s + 5, 2);
	tm.tm_mday = tv_digits(s + 8, 2);
	tm.tm_hour = tv_digits(s + 11, 2);
	tm.tm_min = tv_digits(s + 14, 2);
	tm.tm_sec = tv_digits(s + 17, 2);
	if (tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 ||
	    tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
		return false;
	s += 19;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++, digits++)
			if (digits < 9)
				frac = frac * 10 + (*s - '0');
	if (*s != 'Z' || s[1] != '\0')
		return false;
	for (; digits < 9; digits++)
		frac *= 10;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*sec = (int64_t)timegm(&tm);
	*nsec = frac;
	return true;
}

/* Nanoseconds since the epoch of a time field; false if there is none. */
static bool
tv_time_ns(json_object *ev, const char *path, int64_t *ns)
{
	size_t n;
	int64_t sec;
	long nsec;

	if (!tv_parse_time(tv_str(ev, path, &n), &sec, &nsec) || sec < 0 ||
	    sec >= INT64_MAX / 1000000000)
		return false;
	*ns = sec * 1000000000 + nsec;
	return true;
}

/* Appends the local time of the record, after a date line when the day changed. */
static void
tv_time(struct textview *tv, json_object *ev)
{
	size_t n;
	int64_t sec;
	long nsec;
	time_t t;
	struct tm tm;
	char date[64];

	if (!tv_parse_time(tv_str(ev, "@timestamp", &n), &sec, &nsec) ||
	    (t = (time_t)sec, localtime_r(&t, &tm) == NULL)) {
		TV_LIT(tv, "--:--:--.---");
		return;
	}
	if (tm.tm_year * 1000L + tm.tm_yday != tv->day) {
		tv->day = tm.tm_year * 1000L + tm.tm_yday;
		strftime(date, sizeof(date), "%a %Y-%m-%d, times in %Z", &tm);
		tv_sgr(tv, "1");
		tv_printf(tv, "--- %s ---", date);
		tv_sgr_end(tv, "1");
		TV_LIT(tv, "\n");
	}
	tv_sgr(tv, "2");
	tv_printf(tv, "%02d:%02d:%02d.%03ld", tm.tm_hour, tm.tm_min, tm.tm_sec, nsec / 1000000);
	tv_sgr_end(tv, "2");
}

/* Appends a duration in the unit a person reads best. */
static void
tv_duration(struct textview *tv, int64_t ns)
{
	if (ns < 1000000)
		tv_printf(tv, "%" PRId64 " us", ns / 1000);
	else if (ns < 1000000000)
		tv_printf(tv, "%.1f ms", (double)ns / 1e6);
	else if (ns < (int64_t)60 * 1000000000)
		tv_printf(tv, "%.2f s", (double)ns / 1e9);
	else if (ns < (int64_t)3600 * 1000000000)
		tv_printf(tv, "%" PRId64 "m%02" PRId64 "s", ns / ((int64_t)60 * 1000000000),
		    ns / 1000000000 % 60);
	else
		tv_printf(tv, "%" PRId64 "h%02" PRId64 "m", ns / ((int64_t)3600 * 1000000000),
		    ns / ((int64_t)60 * 1000000000) % 60);
}

/* Appends a byte count with a binary unit. */
static void
tv_bytes(struct textview *tv, int64_t b)
{
	if (b < 1024)
		tv_printf(tv, "%" PRId64 " B", b);
	else if (b < 1024 * 1024)
		tv_printf(tv, "%.1f KiB", (double)b / 1024);
	else
		tv_printf(tv, "%.1f MiB", (double)b / (1024 * 1024));
}

/* Whether a cache slot holds the process with this pid and entity id. */
static bool
tv_slot_is(const struct tv_proc *p, int64_t pid, const char *entity)
{
	return p->pid == pid && (entity == NULL || strcmp(p->entity_id, entity) == 0);
}

/*
 * The indentation depth of the record's process: its own if it was seen
 * before, else one more than its parent's, else 0. The process is
 * remembered until its exit.
 */
static int
tv_depth(struct textview *tv, json_object *ev, bool is_exit)
{
	int64_t pid, ppid;
	size_t n;
	const char *ent = tv_str(ev, "process.entity_id", &n);
	const char *pent = tv_str(ev, "process.parent.entity_id", &n);
	struct tv_proc *p, *pp;
	int depth = 0;

	if (!tv_int(ev, "process.pid", &pid) || pid <= 0)
		return 0;
	if (ent && strlen(ent) >= TV_ENTITY_BYTES)
		ent = NULL;
	p = &tv->procs[(uint64_t)pid % TEXTVIEW_CACHE_SLOTS];
	if (tv_slot_is(p, pid, ent)) {
		depth = p->depth;
	} else {
		if (tv_int(ev, "process.parent.pid", &ppid) && ppid > 0 && ppid != pid) {
			pp = &tv->procs[(uint64_t)ppid % TEXTVIEW_CACHE_SLOTS];
			if (tv_slot_is(pp, ppid, pent))
				depth = pp->depth < TEXTVIEW_MAX_DEPTH ? pp->depth + 1 : pp->depth;
		}
		p->pid = pid;
		p->depth = depth;
		strlcpy_trunc(p->entity_id, ent ? ent : "", sizeof(p->entity_id));
	}
	if (is_exit)
		p->pid = 0;
	return depth;
}

/* Appends what the process runs: its command line, else its executable or name. */
static void
tv_command(struct textview *tv, json_object *ev)
{
	if (tv_field(tv, ev, "process.command_line") || tv_field(tv, ev, "process.executable"))
		return;
	TV_LIT(tv, "[");
	if (!tv_field(tv, ev, "process.name"))
		TV_LIT(tv, "?");
	TV_LIT(tv, "]");
}

/* Starts the detail part of a line in a colour. */
static void
tv_detail_start(struct textview *tv, const char *sgr)
{
	TV_LIT(tv, "  ");
	tv_sgr(tv, sgr);
	TV_LIT(tv, "-> ");
}

/* exit: the code or the signal, and how long the process ran. */
static void
tv_detail_exit(struct textview *tv, json_object *ev)
{
	int64_t code, sig, dur, start, end;
	bool bad = !tv_int(ev, "process.exit_code", &code) || code != 0;
	const char *sgr = bad ? "1;31" : "32";

	tv_detail_start(tv, sgr);
	if (tv_int(ev, "process.exit_code", &code)) {
		tv_printf(tv, "exit %" PRId64, code);
	} else if (tv_int(ev, "hids.signal.number", &sig)) {
		TV_LIT(tv, "killed by ");
		if (!tv_field(tv, ev, "hids.signal.name"))
			tv_printf(tv, "signal %" PRId64, sig);
		if (tv_true(ev, "hids.core_dumped"))
			TV_LIT(tv, " (core dumped)");
	} else {
		TV_LIT(tv, "exited");
	}
	if (tv_int(ev, "event.duration", &dur) && dur >= 0) {
		TV_LIT(tv, " after ");
		tv_duration(tv, dur);
	} else if (tv_time_ns(ev, "process.start", &start) && tv_time_ns(ev, "process.end", &end) &&
	    end >= start) {
		TV_LIT(tv, " after ");
		tv_duration(tv, end - start);
	}
	tv_sgr_end(tv, sgr);
}

/* fork: whose child the new process is. */
static void
tv_detail_fork(struct textview *tv, json_object *ev)
{
	int64_t ppid;

	if (!tv_int(ev, "process.parent.pid", &ppid))
		return;
	tv_detail_start(tv, "2");
	tv_printf(tv, "new child of %" PRId64, ppid);
	tv_sgr_end(tv, "2");
}

/* uid and gid: the new ids as the kernel reported them. */
static void
tv_detail_ids(struct textview *tv, json_object *ev, const char *kind, const char *name)
{
	char path[32];
	int64_t real, eff;

	tv_detail_start(tv, "1;33");
	snprintf(path, sizeof(path), "hids.%s.real", kind);
	if (tv_int(ev, path, &real))
		tv_printf(tv, "real %s %" PRId64 ", ", kind, real);
	snprintf(path, sizeof(path), "hids.%s.effective", kind);
	if (tv_int(ev, path, &eff))
		tv_printf(tv, "effective %s %" PRId64, kind, eff);
	else
		tv_printf(tv, "%s changed", kind);
	if (tv_str(ev, name, &(size_t){ 0 })) {
		TV_LIT(tv, " (");
		tv_field(tv, ev, name);
		TV_LIT(tv, ")");
	}
	tv_sgr_end(tv, "1;33");
}

/* uid: the new user ids. */
static void
tv_detail_uid(struct textview *tv, json_object *ev)
{
	tv_detail_ids(tv, ev, "uid", "process.user.name");
}

/* gid: the new group ids. */
static void
tv_detail_gid(struct textview *tv, json_object *ev)
{
	tv_detail_ids(tv, ev, "gid", "process.group.name");
}

/* sid: a new session. */
static void
tv_detail_sid(struct textview *tv, json_object *ev)
{
	tv_detail_start(tv, "2");
	TV_LIT(tv, "new session");
	tv_sgr_end(tv, "2");
}

/* ptrace: who attached, or that the tracer left. */
static void
tv_detail_ptrace(struct textview *tv, json_object *ev)
{
	int64_t pid;
	size_t n;
	const char *op = tv_str(ev, "hids.ptrace.op", &n);

	tv_detail_start(tv, "1;35");
	if (op && strcmp(op, "detach") == 0) {
		TV_LIT(tv, "tracer detached");
	} else {
		TV_LIT(tv, "traced by ");
		if (tv_int(ev, "hids.tracer.pid", &pid))
			tv_printf(tv, "%" PRId64 " ", pid);
		if (!tv_field(tv, ev, "hids.tracer.executable") && !tv_field(tv, ev, "hids.tracer.name"))
			TV_LIT(tv, "an unknown process");
	}
	tv_sgr_end(tv, "1;35");
}

/* comm: the new name. */
static void
tv_detail_comm(struct textview *tv, json_object *ev)
{
	tv_detail_start(tv, "33");
	TV_LIT(tv, "renamed itself to ");
	if (!tv_field(tv, ev, "process.name"))
		TV_LIT(tv, "?");
	tv_sgr_end(tv, "33");
}

/* coredump: a fatal signal; the exit follows. */
static void
tv_detail_coredump(struct textview *tv, json_object *ev)
{
	tv_detail_start(tv, "1;31");
	TV_LIT(tv, "fatal signal that dumps core; its exit follows");
	tv_sgr_end(tv, "1;31");
}

/* Appends scalar members of an object as key=value, nested keys dotted. */
static void
tv_members(struct textview *tv, json_object *o, const char *prefix, int depth)
{
	char key[128];

	if (!json_object_is_type(o, json_type_object) || depth > 4)
		return;
	json_object_object_foreach(o, k, v) {
		if (depth == 0 && (strcmp(k, "kernel") == 0 || strcmp(k, "stats") == 0 ||
		    strcmp(k, "escaped") == 0))
			continue;
		snprintf(key, sizeof(key), "%s%s", prefix, k);
		if (json_object_is_type(v, json_type_object)) {
			strlcpy_trunc(key + strlen(key), ".", sizeof(key) - strlen(key));
			tv_members(tv, v, key, depth + 1);
			continue;
		}
		TV_LIT(tv, " ");
		tv_safe(tv, key, strlen(key), false);
		TV_LIT(tv, "=");
		if (json_object_is_type(v, json_type_string))
			tv_safe(tv, json_object_get_string(v), (size_t)json_object_get_string_len(v),
			    false);
		else	/* numbers, booleans, arrays: json-c's own text, escaped all the same */
			tv_safe(tv, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
			    strlen(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN)), false);
	}
}

static const struct tv_action tv_actions[] = {
	{ "exec", "1;32", NULL },
	{ "fork", "2", tv_detail_fork },
	{ "end", "36", tv_detail_exit },
	{ "uid_change", "1;33", tv_detail_uid },
	{ "gid_change", "1;33", tv_detail_gid },
	{ "session_id_change", NULL, tv_detail_sid },
	{ "ptrace", "1;35", tv_detail_ptrace },
	{ "comm", "33", tv_detail_comm },
	{ "coredump", "1;31", tv_detail_coredump },
	/* What earlier versions called them, for files they wrote. */
	{ "exit", "36", tv_detail_exit },
	{ "uid", "1;33", tv_detail_uid },
	{ "gid", "1;33", tv_detail_gid },
	{ "sid", NULL, tv_detail_sid },
};

/* Appends the action word in its column. */
static void
tv_action_word(struct textview *tv, const char *action, size_t n, const char *sgr)
{
	size_t start, shown;

	TV_LIT(tv, " ");
	tv_sgr(tv, sgr);
	start = tv->out.len;
	tv_safe(tv, action, n, false);
	shown = tv->out.len - start;
	tv_sgr_end(tv, sgr);
	for (; shown < TV_ACTION_WIDTH; shown++)
		TV_LIT(tv, " ");
}

/* A process record: pid, user, container, the command indented, and the action's detail. */
static void
tv_process(struct textview *tv, json_object *ev, const struct tv_action *a)
{
	int64_t pid, tid;
	size_t start, n;
	int depth = tv_depth(tv, ev, a && a->detail == tv_detail_exit);
	const char *cid = tv_str(ev, "container.id", &n);

	if (tv_int(ev, "process.pid", &pid))
		tv_printf(tv, " %*" PRId64, TV_PID_WIDTH, pid);
	else
		tv_printf(tv, " %*s", TV_PID_WIDTH, "-");
	TV_LIT(tv, " ");
	start = tv->out.len;
	if (!tv_field(tv, ev, "process.user.name") && !tv_field(tv, ev, "process.user.id"))
		TV_LIT(tv, "-");
	tv_pad(tv, start, TV_USER_WIDTH);
	if (cid) {
		TV_LIT(tv, " [");
		tv_safe(tv, cid, n < 12 ? n : 12, false);
		TV_LIT(tv, "]");
	}
	TV_LIT(tv, " ");
	for (int i = 0; i < depth; i++)
		TV_LIT(tv, "  ");
	tv_command(tv, ev);
	if (tv_int(ev, "process.thread.id", &tid))
		tv_printf(tv, " (thread %" PRId64 ")", tid);
	if (tv_true(ev, "hids.proc_gone")) {
		tv_sgr(tv, "2");
		if (a && a->detail == tv_detail_exit)
			TV_LIT(tv, " (not seen before its exit)");
		else
			TV_LIT(tv, " (gone from /proc before it could be read)");
		tv_sgr_end(tv, "2");
	}
	if (a && a->detail)
		a->detail(tv, ev);
	else if (a == NULL)
		tv_members(tv, tv_get(ev, "hids"), "", 0);
}

/* lost: how many events, and why, in plain words. */
static void
tv_lost(struct textview *tv, json_object *ev)
{
	static const struct { const char *reason, *words; } why[] = {
		{ "kernel_overrun", "the kernel dropped them (receive buffer overrun)" },
		{ "queue_full", "the agent's queue was full" },
		{ "spool_full", "the spool was full and dropped its oldest records" },
	};
	int64_t lost = 0;
	size_t n;
	const char *reason = tv_str(ev, "hids.reason", &n);

	tv_sgr(tv, "1;31");
	TV_LIT(tv, " ");
	if (reason && strcmp(reason, "connector_silent") == 0) {
		TV_LIT(tv, "events may be missing: the kernel did not report the agent's own "
		    "test process");
		tv_sgr_end(tv, "1;31");
		return;
	}
	if (tv_int(ev, "hids.lost", &lost) && lost > 0)
		tv_printf(tv, "%" PRId64 " event%s lost", lost, lost == 1 ? "" : "s");
	else
		TV_LIT(tv, "events lost (how many is unknown)");
	for (size_t i = 0; reason && i < sizeof(why) / sizeof(why[0]); i++)
		if (strcmp(reason, why[i].reason) == 0) {
			tv_printf(tv, ": %s", why[i].words);
			reason = NULL;
		}
	if (reason) {
		TV_LIT(tv, ": ");
		tv_safe(tv, reason, n, false);
	}
	tv_sgr_end(tv, "1;31");
}

/* heartbeat: the main counters, compact. */
static void
tv_heartbeat(struct textview *tv, json_object *ev)
{
	static const struct { const char *key, *label; bool bytes; } stats[] = {
		{ "events_seen", "seen", false }, { "events_emitted", "emitted", false },
		{ "events_lost", "lost", false }, { "proctab_size", "processes", false },
		{ "rss_bytes", "rss", true }, { "events_sent", "sent", false },
		{ "events_dropped", "dropped", false }, { "queue_bytes", "queued", true },
		{ "reconnects", "reconnects", false }, { "spool_bytes", "spool", true },
		{ "spool_dropped", "spool dropped", false },
		{ "events_suppressed", "suppressed", false },
	};
	json_object *st = tv_get(ev, "hids.stats");
	const char *sep = ":";
	int64_t v;

	tv_sgr(tv, "36");
	TV_LIT(tv, " ");
	if (!tv_field(tv, ev, "hids.reason"))
		TV_LIT(tv, "alive");
	for (size_t i = 0; st && i < sizeof(stats) / sizeof(stats[0]); i++) {
		if (!tv_int(st, stats[i].key, &v))
			continue;
		tv_printf(tv, "%s %s ", sep, stats[i].label);
		if (stats[i].bytes)
			tv_bytes(tv, v);
		else
			tv_printf(tv, "%" PRId64, v);
		sep = ",";
	}
	if (st && tv_get(st, "collector")) {
		TV_LIT(tv, ", collector ");
		tv_field(tv, st, "collector");
		if (tv_true(st, "connected"))
			TV_LIT(tv, " (connected)");
		else
			TV_LIT(tv, " (not connected)");
	}
	tv_sgr_end(tv, "36");
}

/* A record of the agent's own that this view does not know (suppressed, newer ones): its hids members. */
static void
tv_agent_record(struct textview *tv, json_object *ev)
{
	tv_sgr(tv, "33");
	tv_members(tv, tv_get(ev, "hids"), "", 0);
	if (tv_get(ev, "process.command_line")) {
		TV_LIT(tv, " example: ");
		tv_field(tv, ev, "process.command_line");
	}
	tv_sgr_end(tv, "33");
}

/* Appends the local time of day of a time field, if it has one. */
static void
tv_clock(struct textview *tv, json_object *ev, const char *path)
{
	size_t n;
	int64_t sec;
	long nsec;
	time_t t;
	struct tm tm;

	if (!tv_parse_time(tv_str(ev, path, &n), &sec, &nsec) ||
	    (t = (time_t)sec, localtime_r(&t, &tm) == NULL))
		return;
	tv_printf(tv, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* suppressed (agent/filter.c): a rule's count of what it kept out, with an example; else generic. */
static void
tv_suppressed(struct textview *tv, json_object *ev)
{
	int64_t v;
	size_t n;

	if (tv_str(ev, "hids.filter.rule", &n) == NULL) {
		tv_agent_record(tv, ev);
		return;
	}
	tv_sgr(tv, "33");
	TV_LIT(tv, " rule ");
	tv_field(tv, ev, "hids.filter.rule");
	if (tv_int(ev, "hids.filter.sample", &v))
		tv_printf(tv, " (keeps 1 in %" PRId64 ")", v);
	TV_LIT(tv, " suppressed");
	if (tv_int(ev, "hids.filter.processes", &v))
		tv_printf(tv, " %" PRId64 " process%s", v, v == 1 ? "" : "es");
	if (tv_int(ev, "hids.filter.events", &v))
		tv_printf(tv, " (%" PRId64 " event%s)", v, v == 1 ? "" : "s");
	if (tv_get(ev, "hids.filter.first") && tv_get(ev, "hids.filter.last")) {
		TV_LIT(tv, " from ");
		tv_clock(tv, ev, "hids.filter.first");
		TV_LIT(tv, " to ");
		tv_clock(tv, ev, "hids.filter.last");
	}
	if (tv_get(ev, "hids.filter.example.command_line") ||
	    tv_get(ev, "hids.filter.example.executable")) {
		TV_LIT(tv, ", e.g. ");
		if (!tv_field(tv, ev, "hids.filter.example.command_line"))
			tv_field(tv, ev, "hids.filter.example.executable");
	}
	tv_sgr_end(tv, "33");
}

/* Whether the action (n bytes, maybe with NULs) is name. */
static bool
tv_action_is(const char *action, size_t n, const char *name)
{
	return strlen(name) == n && memcmp(name, action, n) == 0;
}

/* Formats a parsed record into tv->out.buf. */
static void
tv_record(struct textview *tv, json_object *ev, const char *action, size_t n)
{
	const struct tv_action *a = NULL;

	for (size_t i = 0; i < sizeof(tv_actions) / sizeof(tv_actions[0]); i++)
		if (tv_action_is(action, n, tv_actions[i].name))
			a = &tv_actions[i];
	tv_time(tv, ev);
	if (tv_action_is(action, n, "lost")) {
		tv_action_word(tv, action, n, "1;31");
		tv_lost(tv, ev);
	} else if (tv_action_is(action, n, "heartbeat")) {
		tv_action_word(tv, action, n, "36");
		tv_heartbeat(tv, ev);
	} else if (tv_action_is(action, n, "suppressed")) {
		tv_action_word(tv, action, n, "33");
		tv_suppressed(tv, ev);
	} else if (a || tv_get(ev, "process.pid")) {
		tv_action_word(tv, action, n, a ? a->sgr : "33");
		tv_process(tv, ev, a);
	} else {
		tv_action_word(tv, action, n, "33");
		tv_agent_record(tv, ev);
	}
	TV_LIT(tv, "\n");
}

/*
 * Formats one JSON line of the agent as text. On success *out is the text
 * (one or two lines, each ending in '\n', valid until the next call);
 * -1 with a reason in err if the line is not an event of the agent.
 */
int
textview_format(struct textview *tv, const char *line, size_t len, const char **out,
    size_t *outlen, char *err, size_t errlen)
{
	json_object *ev;
	enum json_tokener_error jerr;
	const char *action;
	size_t n, end;

	json_tokener_reset(tv->tok);
	ev = json_tokener_parse_ex(tv->tok, line, (int)(len > INT32_MAX ? INT32_MAX : len));
	if (ev == NULL) {
		jerr = json_tokener_get_error(tv->tok);
		snprintf(err, errlen, "not JSON: %s", jerr == json_tokener_continue ?
		    "the line ends inside the object" : json_tokener_error_desc(jerr));
		return -1;
	}
	for (end = json_tokener_get_parse_end(tv->tok); end < len; end++)
		if (line[end] != ' ' && line[end] != '\t' && line[end] != '\n' && line[end] != '\r')
			break;
	if (end < len || len > INT32_MAX) {
		snprintf(err, errlen, "text after the JSON value");
		json_object_put(ev);
		return -1;
	}
	if (!json_object_is_type(ev, json_type_object) ||
	    (action = tv_str(ev, "event.action", &n)) == NULL) {
		snprintf(err, errlen, "not an event of the agent (no event.action)");
		json_object_put(ev);
		return -1;
	}
	tv->out.len = 0;
	tv_record(tv, ev, action, n);
	json_object_put(ev);
	*out = tv->out.buf;
	*outlen = tv->out.len;
	return 0;
}

/* An input line being gathered by textview_read. */
struct tv_line {
	char *buf;
	size_t len, cap;
	bool overlong;		/* longer than TEXTVIEW_MAX_LINE: skipped whole */
};

/* Reports one invalid input line, or past TEXTVIEW_ERR_LINES only counts it. */
static void
tv_read_invalid(FILE *errf, const char *name, struct textview_read_stats *st, const char *why)
{
	st->invalid++;
	if (st->invalid <= TEXTVIEW_ERR_LINES)
		fprintf(errf, "hids-agent: %s:%" PRIu64 ": %s\n", name, st->lines, why);
	if (st->invalid == TEXTVIEW_ERR_LINES)
		fprintf(errf, "hids-agent: %s: further invalid lines are only counted\n", name);
}

/* Shows one complete input line, or reports why it cannot. */
static void
tv_read_line(struct textview *tv, struct tv_line *l, const char *name, struct output *out,
    FILE *errf, struct textview_read_stats *st)
{
	char err[160];
	const char *text;
	size_t n = l->len, tlen;

	st->lines++;
	if (l->overlong) {
		snprintf(err, sizeof(err), "longer than %u bytes; skipped", TEXTVIEW_MAX_LINE);
		tv_read_invalid(errf, name, st, err);
		return;
	}
	while (n > 0 && (l->buf[n - 1] == '\r' || l->buf[n - 1] == ' ' || l->buf[n - 1] == '\t'))
		n--;
	if (n == 0)
		return;		/* a blank line is no record */
	if (textview_format(tv, l->buf, n, &text, &tlen, err, sizeof(err)) == -1) {
		tv_read_invalid(errf, name, st, err);
		return;
	}
	output_line(out, text, tlen);
	st->events++;
}

/* Adds bytes of the current line, up to TEXTVIEW_MAX_LINE. */
static void
tv_line_add(struct tv_line *l, const char *s, size_t n)
{
	if (l->overlong || n == 0)
		return;
	if (l->len + n > TEXTVIEW_MAX_LINE) {
		l->overlong = true;
		return;
	}
	l->buf = xgrow(l->buf, &l->cap, l->len + n, 4096);
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

/*
 * Reads JSON lines from fd until its end and writes each as text to out,
 * flushing after every read so a pipe is shown as it comes. Invalid lines
 * go to errf as name:line: reason and are counted in st. Returns 0 at the
 * end of the input, -1 if it could not be read or out went away.
 */
int
textview_read(struct textview *tv, int fd, const char *name, struct output *out, FILE *errf,
    struct textview_read_stats *st)
{
	char *chunk = xmalloc(TV_READ_CHUNK), *nl;
	struct tv_line l = { NULL, 0, 0, false };
	ssize_t got;
	size_t off;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	for (;;) {
		if ((got = read(fd, chunk, TV_READ_CHUNK)) == -1 && errno == EINTR)
			continue;
		if (got == -1) {
			fprintf(errf, "hids-agent: %s: %s\n", name, strerror(errno));
			rc = -1;
			break;
		}
		if (got == 0) {
			if (l.len > 0 || l.overlong)	/* a last line without its newline */
				tv_read_line(tv, &l, name, out, errf, st);
			break;
		}
		for (off = 0; off < (size_t)got; off = (size_t)(nl - chunk) + 1) {
			if ((nl = memchr(chunk + off, '\n', (size_t)got - off)) == NULL) {
				tv_line_add(&l, chunk + off, (size_t)got - off);
				break;
			}
			tv_line_add(&l, chunk + off, (size_t)(nl - chunk) - off);
			tv_read_line(tv, &l, name, out, errf, st);
			l.len = 0;
			l.overlong = false;
		}
		if (output_flush(out) == -1) {
			rc = -1;
			break;
		}
	}
	if (output_flush(out) == -1)
		rc = -1;
	if (st->invalid)
		fprintf(errf, "hids-agent: %s: %" PRIu64 " of %" PRIu64 " lines were not events "
		    "of the agent\n", name, st->invalid, st->lines);
	free(l.buf);
	free(chunk);
	return rc;
}
