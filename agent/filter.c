/*
 * filter.c: noise-control rules. The rule parser and matcher are pure; the
 * decision functions read only the event and, for a setuid check of an
 * exec that a rule would suppress, one stat of /proc/PID/exe. The decision
 * is made at exec and carried in struct process (filt, filt_rule), which
 * the process table copies to fork children, so main.c only asks
 * filter_event for each event whether it goes. It is not the place for
 * event-type filters ([events] types), which the kernel applies.
 */
#include "filter.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"

#define FILTER_PATH_MAX 4096	/* longest path a directory glob (DIR, then a slash and two stars) is tried on */

/* World-writable directories: an executable there is never suppressed. */
static const char *const writable_dirs[] = { "/tmp/", "/var/tmp/", "/dev/shm/" };

/* Prepares an empty rule set with the default interval. */
void
filter_rules_init(struct filter_rules *fr)
{
	memset(fr, 0, sizeof(*fr));
	fr->interval_s = FILTER_DEFAULT_INTERVAL;
}

/* Frees a list of strings. */
static void
free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Frees what one rule owns. */
static void
rule_release(struct filter_rule *r)
{
	free(r->name);
	free_list(r->exe, r->nexe);
	free_list(r->parent_exe, r->nparent);
	free(r->cmdline);
	free(r->uids);
	process_release(&r->acct.example);
	memset(r, 0, sizeof(*r));
}

/* Frees every rule and resets the set. */
void
filter_rules_release(struct filter_rules *fr)
{
	for (size_t i = 0; i < fr->n; i++)
		rule_release(&fr->v[i]);
	free(fr->v);
	free_list(fr->never_exe, fr->nnever);
	filter_rules_init(fr);
}

/* Returns the first rule called name, or NULL. */
struct filter_rule *
filter_rules_find(struct filter_rules *fr, const char *name)
{
	for (size_t i = 0; i < fr->n; i++)
		if (strcmp(fr->v[i].name, name) == 0)
			return &fr->v[i];
	return NULL;
}

/* Appends an empty slot to the rule array and returns it. */
static struct filter_rule *
rules_append(struct filter_rules *fr)
{
	struct filter_rule *r;

	fr->v = xrealloc(fr->v, (fr->n + 1) * sizeof(*fr->v));
	r = &fr->v[fr->n++];
	memset(r, 0, sizeof(*r));
	process_init(&r->acct.example);
	return r;
}

/* Adds an empty rule from a [filter NAME] line; -1 with err for a bad or repeated name. */
int
filter_rules_add(struct filter_rules *fr, const char *name, int line, char *err, size_t errlen)
{
	size_t n = strlen(name);

	if (n == 0 || n > FILTER_MAX_NAME || strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n) {
		snprintf(err, errlen, "bad filter name '%s' (1 to %d of A-Z a-z 0-9 _ . -)",
		    name, FILTER_MAX_NAME);
		return -1;
	}
	if (filter_rules_find(fr, name)) {
		snprintf(err, errlen, "filter '%s' is defined twice", name);
		return -1;
	}
	if (fr->n >= FILTER_MAX_RULES) {
		snprintf(err, errlen, "more than %d filter rules", FILTER_MAX_RULES);
		return -1;
	}
	struct filter_rule *r = rules_append(fr);
	r->name = xstrdup(name);
	r->line = line;
	return 0;
}

/* Splits v at commas into trimmed, non-empty items; -1 with err when one is empty or too many. */
static int
split_list(const char *v, char ***out, size_t *nout, char *err, size_t errlen)
{
	char *copy = xstrdup(v), *save = NULL, *tok;
	char **list = NULL;
	size_t n = 0;
	int rc = 0;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ' || *tok == '\t')
			tok++;
		size_t len = strlen(tok);
		while (len > 0 && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
			tok[--len] = '\0';
		if (len == 0)
			continue;
		if (n == FILTER_MAX_PATTERNS) {
			snprintf(err, errlen, "more than %d values", FILTER_MAX_PATTERNS);
			rc = -1;
			break;
		}
		list = xrealloc(list, (n + 1) * sizeof(*list));
		list[n++] = xstrdup(tok);
	}
	free(copy);
	if (rc == 0 && n == 0) {
		snprintf(err, errlen, "no value given");
		rc = -1;
	}
	if (rc == -1) {
		free_list(list, n);
		return -1;
	}
	*out = list;
	*nout = n;
	return 0;
}

/* Parses a list of absolute path globs into *out, replacing what was there. */
static int
set_globs(const char *key, const char *v, char ***out, size_t *nout, char *err, size_t errlen)
{
	char **list;
	size_t n;

	if (split_list(v, &list, &n, err, errlen) == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (list[i][0] != '/') {
			snprintf(err, errlen, "%s '%s' must be an absolute path glob", key, list[i]);
			free_list(list, n);
			return -1;
		}
	}
	free_list(*out, *nout);
	*out = list;
	*nout = n;
	return 0;
}

/* Parses users (names, looked up now, or numeric ids) into the rule. */
static int
set_users(struct filter_rule *r, const char *v, char *err, size_t errlen)
{
	char **list, buf[4096];
	size_t n;
	uint32_t *uids;

	if (split_list(v, &list, &n, err, errlen) == -1)
		return -1;
	uids = xcalloc(n, sizeof(*uids));
	for (size_t i = 0; i < n; i++) {
		struct passwd pw, *res = NULL;
		uint64_t id;
		if (parse_u64(list[i], 0, UINT32_MAX - 1, &id) == 0) {
			uids[i] = (uint32_t)id;
			continue;
		}
		if (getpwnam_r(list[i], &pw, buf, sizeof(buf), &res) != 0 || res == NULL) {
			snprintf(err, errlen, "unknown user '%s'", list[i]);
			free_list(list, n);
			free(uids);
			return -1;
		}
		uids[i] = (uint32_t)pw.pw_uid;
	}
	free_list(list, n);
	free(r->uids);
	r->uids = uids;
	r->nuids = n;
	return 0;
}

/* Parses "any", "none" or a container id (or a prefix of at least 12 hex digits). */
static int
set_container(struct filter_rule *r, const char *v, char *err, size_t errlen)
{
	size_t n = strlen(v);

	if (strcmp(v, "any") == 0) {
		r->container = FC_ANY;
	} else if (strcmp(v, "none") == 0) {
		r->container = FC_NONE;
	} else if (n >= 12 && n <= 64 && strspn(v, "0123456789abcdef") == n) {
		r->container = FC_ID;
		memcpy(r->container_id, v, n + 1);
	} else {
		snprintf(err, errlen, "bad container '%s' (expected any, none, or an id: "
		    "12 to 64 lowercase hex digits)", v);
		return -1;
	}
	return 0;
}

static int rule_key(struct filter_rule *r, const char *key, const char *v, char *err,
    size_t errlen);

/* Handles one key of a [filter NAME] section; 1 for an unknown key, -1 with err for a bad value. */
int
filter_rule_key(struct filter_rule *r, const char *key, const char *v, char *err, size_t errlen)
{
	int rc = rule_key(r, key, v, err, errlen);

	if (rc != 0)
		r->bad_key = true;
	return rc;
}

/* Parses one key of a rule: filter_rule_key without the bookkeeping. */
static int
rule_key(struct filter_rule *r, const char *key, const char *v, char *err, size_t errlen)
{
	uint64_t n;
	bool b;

	if (strcmp(key, "exe") == 0)
		return set_globs(key, v, &r->exe, &r->nexe, err, errlen);
	if (strcmp(key, "parent_exe") == 0)
		return set_globs(key, v, &r->parent_exe, &r->nparent, err, errlen);
	if (strcmp(key, "user") == 0)
		return set_users(r, v, err, errlen);
	if (strcmp(key, "container") == 0)
		return set_container(r, v, err, errlen);
	if (strcmp(key, "cmdline") == 0) {
		if (v[0] == '\0') {
			snprintf(err, errlen, "empty cmdline glob");
			return -1;
		}
		free(r->cmdline);
		r->cmdline = xstrdup(v);
		return 0;
	}
	if (strcmp(key, "subtree") == 0) {
		if (parse_bool(v, &b) == -1) {
			snprintf(err, errlen, "bad value '%s' for subtree (expected yes or no)", v);
			return -1;
		}
		r->subtree = b;
		return 0;
	}
	if (strcmp(key, "sample") == 0) {
		if (parse_u64(v, 2, 1000000, &n) == -1) {
			snprintf(err, errlen, "bad value '%s' for sample (keep 1 in N: a number "
			    "from 2 to 1000000)", v);
			return -1;
		}
		r->sample = (uint32_t)n;
		return 0;
	}
	return 1;
}

/* Handles one key of the [filter] section; 1 for an unknown key, -1 with err for a bad value. */
int
filter_global_key(struct filter_rules *fr, const char *key, const char *v, char *err,
    size_t errlen)
{
	uint64_t n;

	if (strcmp(key, "summary_interval") == 0) {
		if (parse_u64(v, 1, 86400, &n) == -1) {
			snprintf(err, errlen, "bad value '%s' for summary_interval (seconds, "
			    "from 1 to 86400)", v);
			return -1;
		}
		fr->interval_s = (unsigned)n;
		return 0;
	}
	if (strcmp(key, "never_suppress_exe") == 0)
		return set_globs(key, v, &fr->never_exe, &fr->nnever, err, errlen);
	return 1;
}

/* Checks what only the whole section tells: a rule needs a condition. */
int
filter_rule_check(const struct filter_rule *r, char *err, size_t errlen)
{
	if (!r->bad_key && r->nexe == 0 && r->nparent == 0 && r->cmdline == NULL &&
	    r->nuids == 0 && r->container == FC_UNSET) {
		snprintf(err, errlen, "filter '%s' has no condition (exe, parent_exe, cmdline, "
		    "user or container)", r->name);
		return -1;
	}
	return 0;
}

/*
 * Matches an absolute path against a glob; '*' and '?' stay within one
 * path component (FNM_PATHNAME), and a glob ending in a slash and two stars
 * ("DIR/" and "**") matches everything below the directories DIR matches.
 */
bool
filter_glob_match(const char *pattern, const char *path)
{
	size_t plen = strlen(pattern);
	char head[FILTER_PATH_MAX], dir[FILTER_PATH_MAX];

	if (plen < 3 || strcmp(pattern + plen - 3, "/**") != 0)
		return fnmatch(pattern, path, FNM_PATHNAME) == 0;
	if (plen - 3 >= sizeof(head) || strlen(path) >= sizeof(dir))
		return false;
	memcpy(head, pattern, plen - 3);
	head[plen - 3] = '\0';
	/* Try every leading directory of path: "/a/b/c" tries "", "/a", "/a/b". */
	for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
		if (s[1] == '\0')
			break;
		size_t dlen = (size_t)(s - path);
		memcpy(dir, path, dlen);
		dir[dlen] = '\0';
		if (fnmatch(head, dir, FNM_PATHNAME) == 0)
			return true;
	}
	return false;
}

/* Says whether path matches one of n globs. */
static bool
any_glob(char *const *globs, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (filter_glob_match(globs[i], path))
			return true;
	return false;
}

/* Says whether every condition of r holds for s; cmdline is the joined command line or NULL. */
bool
filter_rule_match(const struct filter_rule *r, const struct filter_subject *s,
    const char *cmdline)
{
	if (r->retired)
		return false;
	if (r->nexe && (s->exe == NULL || !any_glob(r->exe, r->nexe, s->exe)))
		return false;
	if (r->nparent && (s->parent_exe == NULL ||
	    !any_glob(r->parent_exe, r->nparent, s->parent_exe)))
		return false;
	if (r->cmdline && (cmdline == NULL || fnmatch(r->cmdline, cmdline, 0) != 0))
		return false;
	if (r->nuids) {
		size_t i;
		if (!s->has_uid)
			return false;
		for (i = 0; i < r->nuids && r->uids[i] != s->euid; i++)
			;
		if (i == r->nuids)
			return false;
	}
	switch (r->container) {
	case FC_ANY:
		return s->has_container && s->container_id[0] != '\0';
	case FC_NONE:
		return s->has_container && s->container_id[0] == '\0';
	case FC_ID:
		return s->has_container &&
		    strncmp(s->container_id, r->container_id, strlen(r->container_id)) == 0;
	default:
		return true;
	}
}

/* Says whether a 1-in-n sample keeps the process with this entity id (FNV-1a). */
bool
filter_sample_keeps(const char *entity_id, uint32_t n)
{
	uint64_t h = 14695981039346656037ull;

	for (const unsigned char *p = (const unsigned char *)entity_id; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return n <= 1 || h % n == 0;
}

/* Prepares a filter with no rules. */
void
filter_init(struct filter *f)
{
	memset(f, 0, sizeof(*f));
	filter_rules_init(&f->r);
}

/* Frees the filter's rules. */
void
filter_release(struct filter *f)
{
	filter_rules_release(&f->r);
}

/*
 * Replaces the rules with nr, taking ownership of its contents. Processes
 * a rule of the old set suppresses or kept stay with the rule of the same
 * name, or, when the new set has none, with a retired copy that matches
 * nothing new but still counts them, so a reload never splits a life.
 */
void
filter_install(struct filter *f, struct filter_rules *nr, struct proctab *tab)
{
	size_t oldn = f->r.n;
	uint32_t *map = xcalloc(oldn ? oldn : 1, sizeof(*map));
	bool *used = xcalloc(oldn ? oldn : 1, sizeof(*used));
	struct proctab_entry *e;

	for (e = tab ? proctab_first(tab) : NULL; e; e = proctab_next(e))
		if ((e->p.filt & (FILT_SUPPRESSED | FILT_KEPT)) && e->p.filt_rule < oldn)
			used[e->p.filt_rule] = true;
	for (size_t i = 0; i < oldn; i++) {
		struct filter_rule *o = &f->r.v[i], *n = filter_rules_find(nr, o->name);
		map[i] = UINT32_MAX;
		if (n && !n->retired) {
			map[i] = (uint32_t)(n - nr->v);
		} else if (used[i] && nr->n < FILTER_MAX_TOTAL) {
			struct filter_rule *r = rules_append(nr);
			*r = *o;
			process_init(&o->acct.example);
			o->name = NULL;
			o->exe = o->parent_exe = NULL;
			o->nexe = o->nparent = 0;
			o->cmdline = NULL;
			o->uids = NULL;
			o->nuids = 0;
			process_release(&r->acct.example);
			memset(&r->acct, 0, sizeof(r->acct));
			process_init(&r->acct.example);
			r->retired = true;
			map[i] = (uint32_t)(nr->n - 1);
		}
	}
	for (e = tab ? proctab_first(tab) : NULL; e; e = proctab_next(e)) {
		if (!(e->p.filt & (FILT_SUPPRESSED | FILT_KEPT)))
			continue;
		if (e->p.filt_rule >= oldn || map[e->p.filt_rule] == UINT32_MAX)
			e->p.filt &= (uint8_t)~(FILT_SUPPRESSED | FILT_KEPT | FILT_SUBTREE | FILT_COUNTED);
		else
			e->p.filt_rule = (uint16_t)map[e->p.filt_rule];
	}
	free(map);
	free(used);
	filter_rules_release(&f->r);
	f->r = *nr;
	memset(nr, 0, sizeof(*nr));
	filter_rules_init(nr);
}

/* Writes the process's decision back into its table entry. */
static void
store_decision(struct proctab *tab, const struct process *p)
{
	struct proctab_entry *e = proctab_lookup(tab, p->pid);

	if (e) {
		e->p.filt = p->filt;
		e->p.filt_rule = p->filt_rule;
	}
}

/* Counts one suppressed event under rule idx; new_process counts its process too. */
static void
account(struct filter *f, uint16_t idx, const struct hids_event *ev, bool new_process)
{
	struct filter_account *a = &f->r.v[idx].acct;
	uint64_t ts = ev->k.ts_ns;

	a->events++;
	if (new_process)
		a->processes++;
	if (a->first_ns == 0 || (ts && ts < a->first_ns))
		a->first_ns = ts;
	if (ts > a->last_ns)
		a->last_ns = ts;
	if (!a->has_example && (ev->proc.known & PF_ARGS) && ev->proc.args) {
		process_copy(&a->example, &ev->proc, FILTER_EXAMPLE_BYTES);
		a->has_example = true;
	}
	f->suppressed++;
}

/* Says whether the nth (0-based) argument starts with prefix. */
static bool
arg_has_prefix(const struct process *p, unsigned nth, const char *prefix)
{
	size_t off = 0;

	if (!(p->known & PF_ARGS) || p->args == NULL)
		return false;
	for (unsigned i = 0; i < nth; i++) {
		off += strnlen(p->args + off, p->args_len - off) + 1;
		if (off >= p->args_len)
			return false;
	}
	size_t plen = strlen(prefix);
	return strnlen(p->args + off, p->args_len - off) >= plen &&
	    memcmp(p->args + off, prefix, plen) == 0;
}

/* Environment variables that make the loader run other code; never suppressed. */
static const char *const loader_vars[] = { "LD_PRELOAD", "LD_AUDIT", "GLIBC_TUNABLES" };

/* Whether the event's env_vars hold NAME=..., whatever the value. */
static bool
env_has(const struct process *p, const char *name)
{
	size_t nlen = strlen(name), off = 0;

	while (p->env != NULL && off < p->env_len) {
		size_t len = strnlen(p->env + off, p->env_len - off);
		if (len > nlen && memcmp(p->env + off, name, nlen) == 0 && p->env[off + nlen] == '=')
			return true;
		off += len + 1;
	}
	return false;
}

/*
 * Returns why an exec that a rule would suppress must be emitted, or NULL.
 * Everything is read from the event; only when the capture thread could not
 * stat the executable are one or two stats made here (/proc/PID/exe, else
 * the path; 1-3 us).
 */
static const char *
never_suppress_reason(const struct filter *f, const struct hids_event *ev, int procfd)
{
	const struct process *p = &ev->proc;
	const char *exe = (p->known & PF_EXE) ? p->executable : NULL;
	char path[32];
	struct stat st;

	if (exe == NULL)
		return "executable unknown";
	if (p->exe_deleted || strncmp(exe, "/memfd:", 7) == 0)
		return "deleted or memfd executable";
	for (size_t i = 0; i < sizeof(writable_dirs) / sizeof(writable_dirs[0]); i++) {
		if (strncmp(exe, writable_dirs[i], strlen(writable_dirs[i])) == 0)
			return "executable in a world-writable directory";
		/* An interpreter running a script from there: sh /tmp/x. */
		if (arg_has_prefix(p, 1, writable_dirs[i]))
			return "script in a world-writable directory";
	}
	if ((p->known & PF_IDS) && (p->ids.euid != p->ids.ruid || p->ids.egid != p->ids.rgid))
		return "setuid or setgid exec";
	if ((p->known & PF_CAPS) && (p->known & PF_IDS) && p->cap_eff && p->ids.euid != 0)
		return "capabilities without root";
	if (any_glob(f->r.never_exe, f->r.nnever, exe))
		return "never_suppress_exe";
	/*
	 * The loader's variables, from process.env_vars ([process] env_vars
	 * must name them; the default does). An environment longer than the
	 * read cap may hide them past it, so it is never suppressed either.
	 */
	if (p->env_partial)
		return "environment past the read cap";
	for (size_t i = 0; i < sizeof(loader_vars) / sizeof(loader_vars[0]); i++)
		if (env_has(p, loader_vars[i]))
			return "loader variable in the environment";
	/* The capture thread's stat of /proc/PID/exe at exec (procfs.c). */
	if (p->known & PF_EXE_ID)
		return (p->exe_id.mode & (S_ISUID | S_ISGID)) ? "setuid or setgid executable" : NULL;
	/*
	 * Without it, the exe link now; the process is often gone by then, so
	 * else the path itself, when it is one of the host's (a container's
	 * path means another file here).
	 */
	snprintf(path, sizeof(path), "%d/exe", (int)p->pid);
	if (procfd >= 0 && (fstatat(procfd, path, &st, 0) == 0 ||
	    ((p->known & PF_CONTAINER) && p->container_id[0] == '\0' && stat(exe, &st) == 0)) &&
	    (st.st_mode & (S_ISUID | S_ISGID)))
		return "setuid or setgid executable";
	return NULL;
}

/* Joins args with spaces into buf (cut at its size); returns buf or NULL without args. */
static const char *
join_cmdline(const struct process *p, char *buf, size_t size)
{
	size_t n;

	if (!(p->known & PF_ARGS) || p->args == NULL)
		return NULL;
	n = p->args_len < size - 1 ? p->args_len : size - 1;
	memcpy(buf, p->args, n);
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	while (n > 0 && buf[n - 1] == ' ' && p->args[n - 1] == '\0')
		n--;	/* the NUL that ends the last argument */
	buf[n] = '\0';
	return buf;
}

/* Returns the index of the first rule that matches the exec, or -1. */
static int
first_match(const struct filter *f, const struct hids_event *ev)
{
	const struct process *p = &ev->proc;
	char buf[FILTER_CMDLINE_BYTES];
	const char *cmdline = NULL;
	bool joined = false;
	struct filter_subject s = {
		.exe = (p->known & PF_EXE) ? p->executable : NULL,
		.parent_exe = ev->has_parent && (ev->parent.known & PF_EXE) ?
		    ev->parent.executable : NULL,
		.has_uid = (p->known & PF_IDS) != 0,
		.euid = p->ids.euid,
		.has_container = (p->known & PF_CONTAINER) != 0,
		.container_id = p->container_id,
	};

	for (size_t i = 0; i < f->r.n; i++) {
		const struct filter_rule *r = &f->r.v[i];
		if (r->cmdline && !joined) {
			cmdline = join_cmdline(p, buf, sizeof(buf));
			joined = true;
		}
		if (filter_rule_match(r, &s, cmdline))
			return (int)i;
	}
	return -1;
}

/* Decides an exec: the rules apply again, but a subtree or a pin is inherited. */
static bool
filter_exec(struct filter *f, struct proctab *tab, struct hids_event *ev, int procfd)
{
	struct process *p = &ev->proc;
	uint8_t st = p->filt;
	uint16_t prev = p->filt_rule;
	bool inherited = (st & FILT_SUBTREE) && (st & (FILT_SUPPRESSED | FILT_KEPT)) &&
	    prev < f->r.n;
	int idx = inherited ? prev : first_match(f, ev);
	const struct filter_rule *r;
	const char *why;

	if (st & FILT_PINNED)
		return false;
	p->filt = 0;
	if (idx < 0) {
		store_decision(tab, p);
		return false;
	}
	r = &f->r.v[idx];
	p->filt_rule = (uint16_t)idx;
	if ((inherited && (st & FILT_KEPT)) ||
	    (!inherited && r->sample && filter_sample_keeps(p->entity_id, r->sample))) {
		p->filt = FILT_KEPT | (inherited || r->subtree ? FILT_SUBTREE : 0);
		store_decision(tab, p);
		return false;
	}
	if ((why = never_suppress_reason(f, ev, procfd)) != NULL) {
		log_debug("filter %s: process %d not suppressed: %s", r->name, (int)p->pid, why);
		p->filt = FILT_PINNED;
		f->pinned++;
		store_decision(tab, p);
		return false;
	}
	bool counted = (st & FILT_COUNTED) && (st & FILT_SUPPRESSED) && prev == idx;
	p->filt = FILT_SUPPRESSED | FILT_COUNTED | (inherited || r->subtree ? FILT_SUBTREE : 0);
	account(f, (uint16_t)idx, ev, !counted);
	store_decision(tab, p);
	return true;
}

/* Decides a fork: the child inherits a suppression or a kept sample, not a pin. */
static bool
filter_fork(struct filter *f, struct proctab *tab, struct hids_event *ev)
{
	struct process *p = &ev->proc;

	if (ev->is_thread) {
		if (!(p->filt & FILT_SUPPRESSED) || p->filt_rule >= f->r.n)
			return false;
		account(f, p->filt_rule, ev, false);
		return true;
	}
	p->filt &= (uint8_t)~FILT_PINNED;
	if (!(p->filt & FILT_SUPPRESSED) || p->filt_rule >= f->r.n) {
		p->filt &= (uint8_t)~(FILT_SUPPRESSED | FILT_COUNTED);
		store_decision(tab, p);
		return false;
	}
	p->filt |= FILT_COUNTED;
	account(f, p->filt_rule, ev, true);
	store_decision(tab, p);
	return true;
}

/*
 * Says whether an event is suppressed, counting it under its rule, and
 * records decisions in the process table. Never suppressed: every ptrace
 * event, and a uid event to uid 0; both pin a suppressed process, so the
 * rest of its life is emitted too.
 */
bool
filter_event(struct filter *f, struct proctab *tab, struct hids_event *ev, int procfd)
{
	struct process *p = &ev->proc;

	if (f->r.n == 0)
		return false;
	switch (ev->k.action) {
	case EV_EXEC:
		return filter_exec(f, tab, ev, procfd);
	case EV_FORK:
		return filter_fork(f, tab, ev);
	case EV_PTRACE:
	case EV_UID:
		if (!(p->filt & FILT_SUPPRESSED))
			return false;
		if (ev->k.action == EV_PTRACE || ev->k.rid == 0 || ev->k.eid == 0) {
			p->filt = FILT_PINNED;
			f->pinned++;
			store_decision(tab, p);
			return false;
		}
		break;
	default:
		if (!(p->filt & FILT_SUPPRESSED))
			return false;
		break;
	}
	if (p->filt_rule >= f->r.n)
		return false;
	account(f, p->filt_rule, ev, false);
	return true;
}

/* Hands each rule's account since the last flush to cb, then starts a new one. */
void
filter_flush(struct filter *f, filter_summary_cb cb, void *arg)
{
	for (size_t i = 0; i < f->r.n; i++) {
		struct filter_rule *r = &f->r.v[i];
		struct filter_account *a = &r->acct;
		struct filter_summary s;
		if (a->events == 0)
			continue;
		s = (struct filter_summary){ .rule = r->name, .sample = r->sample,
		    .processes = a->processes, .events = a->events, .first_ns = a->first_ns,
		    .last_ns = a->last_ns, .example = a->example, .has_example = a->has_example };
		cb(&s, arg);
		process_release(&a->example);
		memset(a, 0, sizeof(*a));
		process_init(&a->example);
	}
}

/* Returns how many rules are installed. */
size_t
filter_rule_count(const struct filter *f)
{
	return f->r.n;
}

/* Returns the seconds between suppressed records ([filter] summary_interval). */
unsigned
filter_interval_s(const struct filter *f)
{
	return f->r.interval_s;
}

/* Returns how many events the rules dropped since start. */
uint64_t
filter_suppressed(const struct filter *f)
{
	return f->suppressed;
}
