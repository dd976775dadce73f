/*
 * procfs.c: what the agent reads from /proc about one process. Short-lived
 * processes vanish in a fixed order: the memory image (cmdline, exe) goes
 * at exit_mm, then cwd, then status, stat and cgroup when the zombie is
 * reaped. procfs_snapshot therefore reads cmdline first and the rest in
 * that order, and says exactly which parts it got.
 */
#include "procfs.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common.h"

#define PROCFS_SMALL_FILE 4096	/* stat, status and cgroup reads */
#define PROCFS_CGROUP_FILE 8192	/* cgroup v1 can list many hierarchies */
#define PROCFS_ENV_VALUE_READ (64u << 10)	/* environ bytes looked at for one variable */

/* Opens /proc once; every other read is relative to it. */
int
procfs_open_root(void)
{
	return open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Reads up to bufsize-1 bytes of /proc/PID/NAME into buf; returns the length or -1. */
int
procfs_read_file(int procfd, int pid, const char *name, char *buf, size_t bufsize)
{
	char path[64];
	ssize_t n, total = 0;
	int fd;

	snprintf(path, sizeof(path), "%d/%s", pid, name);
	if ((fd = openat(procfd, path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while ((size_t)total < bufsize - 1) {
		size_t want = bufsize - 1 - (size_t)total;
		n = read(fd, buf + total, want);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += n;
		/* /proc renders these files whole on the first read: short means done. */
		if ((size_t)n < want)
			break;
	}
	close(fd);
	buf[total] = '\0';
	return (int)total;
}

/* Counts NUL-terminated arguments in a cmdline buffer (a last one may lack its NUL). */
uint32_t
procfs_count_args(const char *buf, size_t len)
{
	uint32_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\0')
			n++;
	if (len > 0 && buf[len - 1] != '\0')
		n++;
	return n;
}

/* One scratch buffer per thread: the hot path does no large allocation. */
static _Thread_local char *scratch;
static _Thread_local size_t scratch_cap;

/* How many cmdline bytes one read looks at in all; set before threads start. */
static size_t cmdline_cap = PROCFS_CMDLINE_CAP_DEFAULT;

/* Frees the calling thread's cmdline scratch buffer. */
void
procfs_release_scratch(void)
{
	free(scratch);
	scratch = NULL;
	scratch_cap = 0;
}

/*
 * Bounds the bytes of one cmdline read, those kept and those only counted
 * (never below what is kept); call before any thread reads.
 */
void
procfs_set_cmdline_cap(size_t bytes)
{
	cmdline_cap = bytes;
}

/*
 * Counts the arguments in the rest of a cmdline, past the kept bytes, in
 * reads of up to PROCFS_COUNT_CHUNK into buf, looking at no more than left
 * bytes; *more says whether bytes beyond those were there.
 */
static size_t
cmdline_count_rest(int fd, char *buf, size_t left, uint32_t *nuls, char *last, bool *more)
{
	size_t seen = 0;
	ssize_t n;

	*more = false;
	for (;;) {
		/* At the cap, two bytes say whether the count is whole: a lone NUL ends it. */
		bool probe = seen == left;
		size_t want = probe ? 2 : left - seen;

		if (want > PROCFS_COUNT_CHUNK)
			want = PROCFS_COUNT_CHUNK;
		n = read(fd, buf, want);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return seen;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\0')
				(*nuls)++;
		*last = buf[n - 1];
		seen += (size_t)n;
		if (probe) {
			*more = n > 1 || buf[0] != '\0';
			return seen;
		}
	}
}

/*
 * Says whether a read of cmdline or environ that got n of want bytes, the
 * buffer now holding len, reached the end. The kernel fills such a read up
 * to the end of the arguments (or the environment), so a shorter one that
 * ends with a NUL is the end: no read for the 0 (one syscall per file per
 * exec). A title rewritten without its final NUL (setproctitle) reads on,
 * and so does a read that stopped at a page boundary (kernels that give a
 * page a read).
 */
static bool
read_reached_end(const char *buf, size_t len, size_t n, size_t want)
{
	return n < want && buf[len - 1] == '\0' && len % 4096 != 0;
}

/*
 * Reads /proc/PID/cmdline, keeping at most max_bytes; the arguments past
 * them are counted, up to the cmdline cap, so that args_count is true, or
 * a lower bound (args_count_partial) for a cmdline longer than the cap.
 * Returns 0, or -1 when the process (or its memory image) is gone.
 */
int
procfs_read_cmdline(int procfd, int pid, size_t max_bytes, struct process *p)
{
	char path[64];
	size_t len = 0, cap = cmdline_cap > max_bytes ? cmdline_cap : max_bytes;
	uint32_t extra = 0;
	bool more = false, partial = false;
	char last = '\0';
	ssize_t n;
	int fd;

	/* The kept bytes, then room for the counting reads. */
	if (scratch_cap < max_bytes + 1 + PROCFS_COUNT_CHUNK) {
		free(scratch);
		scratch_cap = max_bytes + 1 + PROCFS_COUNT_CHUNK;
		scratch = xmalloc(scratch_cap);
	}
	snprintf(path, sizeof(path), "%d/cmdline", pid);
	if ((fd = openat(procfd, path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while (len < max_bytes) {
		size_t want = max_bytes - len;
		n = read(fd, scratch + len, want);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (read_reached_end(scratch, len, (size_t)n, want))
			break;
	}
	if (len == max_bytes) {
		/* Past max_bytes: count the remaining arguments, keep no bytes. */
		size_t extra_bytes = cmdline_count_rest(fd, scratch + max_bytes + 1,
		    cap - max_bytes, &extra, &last, &partial);
		/* Only the final NUL past the cap: nothing of the arguments was cut. */
		more = partial || extra_bytes > 1 || (extra_bytes == 1 && last != '\0');
	}
	close(fd);
	if (len == 0)
		return -1;
	{
		char final = extra > 0 || more ? last : scratch[len - 1];
		uint32_t nuls = extra;
		for (size_t i = 0; i < len; i++)
			if (scratch[i] == '\0')
				nuls++;
		/* Partial: the argument the cap cut through counts as one. */
		p->args_count = nuls + (final != '\0' ? 1 : 0);
		p->args_truncated = more;
		p->args_count_partial = partial;
	}
	/* Drop the final NUL so args_len covers the arguments only. */
	p->args_len = scratch[len - 1] == '\0' ? len - 1 : len;
	free(p->args);
	p->args = xmalloc(p->args_len + 1);
	memcpy(p->args, scratch, p->args_len);
	p->args[p->args_len] = '\0';
	p->known |= PF_ARGS;
	return 0;
}

/* The environment variables to read at exec; set before threads start. */
static const struct procfs_env_spec *env_spec;

/*
 * Parses a list of names ("A,B C*", commas or blanks between them) into
 * spec; an empty list reads nothing. Returns -1 with the reason in err.
 */
int
procfs_env_spec_parse(const char *list, struct procfs_env_spec *spec, char *err, size_t errlen)
{
	char *copy = xstrdup(list), *save = NULL, *tok;
	int rc = 0;

	memset(spec, 0, sizeof(*spec));
	for (tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		size_t n = strlen(tok);
		bool prefix = tok[n - 1] == '*';
		if (spec->nnames == PROCFS_ENV_MAX_NAMES) {
			snprintf(err, errlen, "more than %d names", PROCFS_ENV_MAX_NAMES);
			rc = -1;
			break;
		}
		if (prefix)
			tok[--n] = '\0';
		if (n > 255 || strchr(tok, '=') || strchr(tok, '*') || (n == 0 && !prefix)) {
			snprintf(err, errlen, "bad name '%.64s' (a variable name without '=', "
			    "optionally ending in '*')", tok);
			rc = -1;
			break;
		}
		spec->prefix[spec->nnames] = prefix;
		spec->names[spec->nnames++] = xstrdup(tok);
	}
	free(copy);
	if (rc == -1)
		procfs_env_spec_release(spec);
	return rc;
}

/* Frees the names of a spec. */
void
procfs_env_spec_release(struct procfs_env_spec *spec)
{
	for (size_t i = 0; i < spec->nnames; i++)
		free(spec->names[i]);
	spec->nnames = 0;
}

/* Says whether the entry e[0..n) ("NAME=value") is one spec asks for. */
static bool
env_wanted(const struct procfs_env_spec *spec, const char *e, size_t n)
{
	const char *eq = memchr(e, '=', n);
	size_t nl = eq ? (size_t)(eq - e) : n;

	for (size_t i = 0; i < spec->nnames; i++) {
		size_t l = strlen(spec->names[i]);
		if (spec->prefix[i] ? nl >= l && memcmp(e, spec->names[i], l) == 0
		    : eq != NULL && nl == l && memcmp(e, spec->names[i], l) == 0)
			return true;
	}
	return false;
}

/*
 * Picks the entries spec names out of an environ buffer, each cut to
 * NAME= plus value_max bytes, in the order they appear (a name given twice
 * is kept twice: which one a program uses is its own choice). cut says the
 * buffer stopped at the read cap (env_partial). Pure; sets p->env even
 * when nothing matched (env_len 0). Returns the number of entries kept.
 */
int
procfs_parse_environ(const char *buf, size_t len, bool cut, const struct procfs_env_spec *spec,
    struct process *p)
{
	size_t out_len = 0, cap = 256;
	char *out = xmalloc(cap);
	int kept = 0;

	p->env_truncated = false;
	for (size_t off = 0; off < len;) {
		const char *e = buf + off;
		size_t n = strnlen(e, len - off);
		off += n + 1;
		if (n == 0 || !env_wanted(spec, e, n))
			continue;
		if (kept == PROCFS_ENV_MAX_ENTRIES) {
			p->env_truncated = true;
			break;
		}
		const char *eq = memchr(e, '=', n);
		size_t keep = eq ? (size_t)(eq - e) + 1 : n;
		if (n - keep > spec->value_max) {
			n = keep + spec->value_max;
			p->env_truncated = true;
		}
		if (out_len + n + 1 > cap)
			out = xgrow(out, &cap, out_len + n + 1, 256);
		memcpy(out + out_len, e, n);
		out_len += n;
		out[out_len++] = '\0';
		kept++;
	}
	free(p->env);
	/* Like args: NUL-separated, without the last NUL, then a terminating one. */
	p->env_len = out_len > 0 ? out_len - 1 : 0;
	out[p->env_len] = '\0';
	p->env = out;
	p->env_partial = cut;
	return kept;
}

/*
 * Reads /proc/PID/environ, at most spec->read_max bytes of it (an
 * environment can be megabytes), and keeps the entries spec names.
 * environ goes with the address space, as cmdline does: read it right
 * after. Returns 0, or -1 when it cannot be read.
 */
int
procfs_read_environ(int procfd, int pid, const struct procfs_env_spec *spec, struct process *p)
{
	char path[64];
	size_t len = 0, max = spec->read_max;
	bool cut = false;
	ssize_t n;
	int fd;

	/* The cmdline scratch buffer, grown if the cap asks more. */
	if (scratch_cap < max + 1) {
		free(scratch);
		scratch_cap = max + 1;
		scratch = xmalloc(scratch_cap);
	}
	snprintf(path, sizeof(path), "%d/environ", pid);
	if ((fd = openat(procfd, path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while (len < max) {
		size_t want = max - len;
		n = read(fd, scratch + len, want);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (read_reached_end(scratch, len, (size_t)n, want))
			break;
	}
	if (len == max) {
		char c;
		while ((n = read(fd, &c, 1)) == -1 && errno == EINTR)
			;
		cut = n == 1;
	}
	close(fd);
	procfs_parse_environ(scratch, len, cut, spec, p);
	return 0;
}

/* Sets the environment variables procfs_snapshot reads for SNAP_ENV; NULL: none. */
void
procfs_set_env(const struct procfs_env_spec *spec)
{
	env_spec = spec;
}

/*
 * Reads a /proc/PID symlink (exe, cwd) into a new string; -1 with errno set
 * when it cannot (ENOENT: gone; ENAMETOOLONG: the path is longer than the
 * kernel renders, PATH_MAX; EACCES: not ours to read).
 */
int
procfs_read_link(int procfd, int pid, const char *name, char **out)
{
	char path[64], target[PATH_MAX + 1];
	ssize_t n;

	snprintf(path, sizeof(path), "%d/%s", pid, name);
	n = readlinkat(procfd, path, target, sizeof(target));
	if (n == -1)
		return -1;
	if (n == 0 || (size_t)n >= sizeof(target)) {
		/* The kernel renders at most PATH_MAX - 1 bytes: longer would be cut. */
		errno = n == 0 ? ENOENT : ENAMETOOLONG;
		return -1;
	}
	target[n] = '\0';
	*out = xstrndup(target, (size_t)n);
	return 0;
}

/*
 * Parses a security.capability value (struct vfs_cap_data, revision 1, 2
 * or 3, little-endian): the permitted and inheritable sets and the
 * effective bit. Pure; -1 when it is not one.
 */
int
procfs_parse_fcaps(const unsigned char *b, size_t len, struct process *p)
{
	uint32_t magic, rev, w[4] = { 0, 0, 0, 0 };
	size_t words;

	if (len < 4)
		return -1;
	magic = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	rev = magic & 0xff000000u;
	if (rev == 0x01000000u && len == 12)
		words = 2;	/* one {permitted, inheritable} pair */
	else if ((rev == 0x02000000u && len == 20) || (rev == 0x03000000u && len == 24))
		words = 4;	/* two pairs; revision 3 adds the namespace's root uid */
	else
		return -1;
	for (size_t i = 0; i < words; i++) {
		const unsigned char *q = b + 4 + 4 * i;
		w[i] = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 |
		    (uint32_t)q[3] << 24;
	}
	p->exe_id.fcaps = true;
	p->exe_id.fcaps_effective = (magic & 0x1) != 0;
	p->exe_id.fcaps_permitted = (uint64_t)w[0] | (uint64_t)w[2] << 32;
	p->exe_id.fcaps_inheritable = (uint64_t)w[1] | (uint64_t)w[3] << 32;
	return 0;
}

/*
 * Reads the file capabilities of a process's executable, through the exe
 * link (one getxattr: it follows the kernel's reference, deleted or not).
 */
static void
procfs_exe_fcaps(int pid, struct process *p)
{
	char path[64];
	unsigned char buf[32];
	ssize_t n;

	p->exe_id.fcaps = false;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = getxattr(path, "security.capability", buf, sizeof(buf));
	if (n > 0)
		procfs_parse_fcaps(buf, (size_t)n, p);
}

/*
 * Reads device and inode of a process's executable through its exe link,
 * which the kernel resolves without rendering the path, so it works where
 * readlink fails (a path past PATH_MAX, a deleted file).
 */
static void
procfs_stat_exe(int procfd, int pid, struct process *p)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "%d/exe", pid);
	if (fstatat(procfd, path, &st, 0) == -1)
		return;
	p->exe_id.dev = (uint64_t)st.st_dev;
	p->exe_id.ino = (uint64_t)st.st_ino;
	p->exe_id.mode = (uint32_t)st.st_mode;
	p->exe_id.uid = (uint32_t)st.st_uid;
	p->exe_id.size = (uint64_t)st.st_size;
	p->exe_id.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	p->exe_id.ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
	p->known |= PF_EXE_ID;
	procfs_exe_fcaps(pid, p);
}

/*
 * Parses /proc/PID/stat: comm, ppid, pgrp, session, tty_nr and starttime.
 * comm may hold spaces and ')', so fields are counted from the last ')'.
 */
int
procfs_parse_stat(const char *buf, size_t len, struct process *p)
{
	const char *open_paren = memchr(buf, '(', len);
	const char *close_paren = NULL;
	long long f[20];
	int nf = 0;

	for (size_t i = len; i > 0; i--) {
		if (buf[i - 1] == ')') {
			close_paren = buf + i - 1;
			break;
		}
	}
	if (open_paren == NULL || close_paren == NULL || close_paren < open_paren)
		return -1;
	/* Fields after comm: state(3) ppid(4) pgrp(5) session(6) tty_nr(7) ... starttime(22). */
	const char *s = close_paren + 1, *end = buf + len;
	int field = 2;
	while (s < end && field < 22) {
		while (s < end && *s == ' ')
			s++;
		if (s >= end)
			break;
		field++;
		const char *tok = s;
		while (s < end && *s != ' ' && *s != '\n')
			s++;
		if (field == 3)
			continue;	/* state letter */
		char num[24];
		size_t tl = (size_t)(s - tok);
		if (tl == 0 || tl >= sizeof(num))
			return -1;
		memcpy(num, tok, tl);
		num[tl] = '\0';
		char *e;
		errno = 0;
		long long v = strtoll(num, &e, 10);
		if (*e != '\0' || errno)
			return -1;
		if (nf < 20)
			f[nf++] = v;
	}
	if (field < 22 || nf < 19)
		return -1;
	/* f[0] = field 4 (ppid) ... f[18] = field 22 (starttime). */
	size_t clen = (size_t)(close_paren - open_paren - 1);
	if (clen > 16)
		clen = 16;
	memcpy(p->name, open_paren + 1, clen);
	p->name[clen] = '\0';
	p->ppid = (int32_t)f[0];
	p->pgid = (int32_t)f[1];
	p->sid = (int32_t)f[2];
	p->tty_nr = (int32_t)f[3];
	p->start_ticks = f[18] < 0 ? 0 : (uint64_t)f[18];
	p->known |= PF_STAT | PF_NAME | PF_PPID | PF_START;
	return 0;
}

/* Parses up to four unsigned numbers separated by whitespace. */
static int
parse_u32_list(const char *s, const char *end, uint32_t *out, int want)
{
	int n = 0;
	while (n < want) {
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		if (s >= end || !isdigit((unsigned char)*s))
			break;
		unsigned long long v = 0;
		while (s < end && isdigit((unsigned char)*s)) {
			v = v * 10 + (unsigned)(*s - '0');
			if (v > UINT32_MAX)
				return -1;
			s++;
		}
		out[n++] = (uint32_t)v;
	}
	return n;
}

/* Parses the hex capability mask of a status line's value into *out. */
static int
parse_cap_hex(const char *q, const char *eol, uint64_t *out)
{
	char hex[24], *e;

	while (q < eol && (*q == ' ' || *q == '\t'))
		q++;
	size_t hl = (size_t)(eol - q);
	/* cppcheck-suppress knownConditionTrueFalse ; false positive: q < eol is possible */
	if (hl == 0 || hl >= sizeof(hex))
		return -1;
	memcpy(hex, q, hl);
	hex[hl] = '\0';
	errno = 0;
	unsigned long long c = strtoull(hex, &e, 16);
	if (*e != '\0' || errno)
		return -1;
	*out = c;
	return 0;
}

/* Parses Uid, Gid, NSpid, CapEff and CapPrm from /proc/PID/status. */
int
procfs_parse_status(const char *buf, size_t len, struct process *p)
{
	const char *s = buf, *end = buf + len;
	uint32_t v[4];
	bool uid = false, gid = false;

	while (s < end) {
		const char *eol = memchr(s, '\n', (size_t)(end - s));
		if (eol == NULL)
			eol = end;
		if (eol - s > 4 && memcmp(s, "Uid:", 4) == 0 &&
		    parse_u32_list(s + 4, eol, v, 4) == 4) {
			p->ids.ruid = v[0]; p->ids.euid = v[1];
			p->ids.suid = v[2]; p->ids.fsuid = v[3];
			uid = true;
		} else if (eol - s > 4 && memcmp(s, "Gid:", 4) == 0 &&
		    parse_u32_list(s + 4, eol, v, 4) == 4) {
			p->ids.rgid = v[0]; p->ids.egid = v[1];
			p->ids.sgid = v[2]; p->ids.fsgid = v[3];
			gid = true;
		} else if (eol - s > 6 && memcmp(s, "NSpid:", 6) == 0) {
			/* The last number is the pid in the innermost namespace. */
			const char *q = s + 6;
			uint32_t last = 0;
			int got = 0;
			while (q < eol) {
				int k = parse_u32_list(q, eol, v, 1);
				if (k != 1)
					break;
				last = v[0];
				got++;
				while (q < eol && (*q == ' ' || *q == '\t'))
					q++;
				while (q < eol && isdigit((unsigned char)*q))
					q++;
			}
			if (got > 0 && last <= INT32_MAX) {
				p->ns_pid = (int32_t)last;
				p->known |= PF_NSPID;
			}
		} else if (eol - s > 7 && memcmp(s, "CapEff:", 7) == 0) {
			if (parse_cap_hex(s + 7, eol, &p->cap_eff) == 0)
				p->known |= PF_CAPS;
		} else if (eol - s > 7 && memcmp(s, "CapPrm:", 7) == 0) {
			(void)parse_cap_hex(s + 7, eol, &p->cap_prm);
		}
		s = eol + 1;
	}
	if (!uid || !gid)
		return -1;
	p->known |= PF_IDS;
	return 0;
}

/* Says whether s[0..n) is exactly 64 lowercase hex digits. */
static bool
is_hex64(const char *s, size_t n)
{
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

/*
 * Where each runtime puts its containers: a cgroup parent that only root
 * can create, the names it gives a container's cgroup below it (prefix,
 * the 64-hex id, an optional ".scope"), and whether the id may sit below
 * intermediate cgroups (QoS classes, pods) that are root's too. A name
 * anywhere else is not a container: under user.slice (systemd-run --user
 * --scope --unit=docker-ID, rootless podman and docker) or in a delegated
 * subtree (a service with Delegate=yes, a container's own cgroups) any
 * user can pick it.
 */
static const struct cgroup_rule {
	const char *parent;
	const char *via;	/* an optional intermediate cgroup "PREFIX*.slice", or NULL */
	bool any_depth;
	const char *forms[4];	/* name prefixes before the id; "" is the bare id */
} cgroup_rules[] = {
	{ "/docker", NULL, false, { "" } },		/* docker, cgroupfs driver */
	{ "/system.slice", NULL, false, { "docker-", "crio-", "cri-containerd-" } },
	{ "/system.slice/containerd.service", NULL, false, { "containerd-", "" } },
	{ "/kubepods", NULL, true, { "", "docker-", "crio-", "cri-containerd-" } },
	{ "/kubepods.slice", NULL, true, { "", "docker-", "crio-", "cri-containerd-" } },
	{ "/machine.slice", "machine-libpod_pod_", false, { "libpod-" } },	/* podman, systemd */
	{ "/libpod_parent", NULL, true, { "libpod-" } },	/* podman, cgroupfs */
};

/* Says whether one path component is a container's cgroup in one of forms; fills out. */
static bool
cgroup_id_component(const char *c, size_t n, const char *const *forms, char out[65])
{
	if (n > 6 && memcmp(c + n - 6, ".scope", 6) == 0)
		n -= 6;
	for (size_t i = 0; i < 4 && forms[i] != NULL; i++) {
		size_t pl = strlen(forms[i]);
		if (n == pl + 64 && memcmp(c, forms[i], pl) == 0 && is_hex64(c + pl, 64)) {
			memcpy(out, c + pl, 64);
			out[64] = '\0';
			return true;
		}
	}
	return false;
}

/* Says whether component c[0..n) starts with prefix and ends in ".slice". */
static bool
is_via_slice(const char *c, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix);
	return n > pl + 6 && memcmp(c, prefix, pl) == 0 && memcmp(c + n - 6, ".slice", 6) == 0;
}

/* Finds a container id in one cgroup path by the rule; the outermost match wins. */
static bool
cgroup_rule_match(const struct cgroup_rule *r, const char *path, size_t len, char out[65])
{
	size_t pl = strlen(r->parent);
	const char *s = path + pl, *end = path + len;
	bool first = true;

	if (len <= pl + 1 || memcmp(path, r->parent, pl) != 0 || path[pl] != '/')
		return false;
	while (s < end && *s == '/') {
		const char *c = s + 1, *ce = memchr(c, '/', (size_t)(end - c));
		size_t n;
		if (ce == NULL)
			ce = end;
		n = (size_t)(ce - c);
		if (cgroup_id_component(c, n, r->forms, out))
			return true;
		if (!r->any_depth && !(first && r->via && is_via_slice(c, n, r->via)))
			return false;
		first = false;
		s = ce;
	}
	return false;
}

/*
 * Finds a container id in /proc/PID/cgroup (v1 or v2): on the first line
 * whose path lies under a runtime's own cgroup parent (cgroup_rules), the
 * outermost cgroup named for a container. Returns 0 and fills out, or -1
 * when none. path and path_len (may be NULL) get the process's cgroup path
 * as it is, not NUL-terminated: the line the id came from, else the v2
 * line, else systemd's v1 line, else the first; path_len is 0 when the
 * file has no such line.
 */
int
procfs_parse_cgroup(const char *buf, size_t len, char out[65], const char **path,
    size_t *path_len)
{
	const char *s = buf, *end = buf + len, *best = NULL;
	size_t best_len = 0;
	int best_rank = 0;	/* 1 first line, 2 name=systemd, 3 v2, 4 the container's */

	while (s < end && best_rank < 4) {
		const char *eol = memchr(s, '\n', (size_t)(end - s));
		if (eol == NULL)
			eol = end;
		/* hierarchy-id:controllers:path; the path may itself hold ':'. */
		const char *c1 = memchr(s, ':', (size_t)(eol - s));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(eol - c1 - 1)) : NULL;
		if (c2 != NULL && c2 + 1 < eol && c2[1] == '/') {
			const char *p = c2 + 1;
			size_t plen = (size_t)(eol - p);
			int rank = 1;
			for (size_t i = 0; i < sizeof(cgroup_rules) / sizeof(cgroup_rules[0]); i++)
				if (cgroup_rule_match(&cgroup_rules[i], p, plen, out))
					rank = 4;
			if (rank < 4 && c1 == s + 1 && s[0] == '0' && c2 == c1 + 1)
				rank = 3;
			else if (rank < 4 && (size_t)(c2 - c1 - 1) == 12 &&
			    memcmp(c1 + 1, "name=systemd", 12) == 0)
				rank = 2;
			if (rank > best_rank) {
				best = p;
				best_len = plen;
				best_rank = rank;
			}
		}
		s = eol + 1;
	}
	if (path != NULL) {
		*path = best;
		*path_len = best_len;
	}
	return best_rank == 4 ? 0 : -1;
}

/*
 * Names the runtime of a container from the cgroup path its id was found
 * in (procfs_parse_cgroup): the name the runtime gives the cgroup
 * ("docker-ID.scope", "libpod-ID", ...), or the parent it puts a bare id
 * under. RUNTIME_NONE when the path does not say (a bare id under kubepods).
 */
uint8_t
procfs_cgroup_runtime(const char *path, size_t len, const char *id)
{
	static const struct {
		const char *before;	/* what precedes the id in its path component */
		uint8_t runtime;
	} names[] = {
		{ "/cri-containerd-", RUNTIME_CONTAINERD }, { "/containerd-", RUNTIME_CONTAINERD },
		{ "/docker-", RUNTIME_DOCKER }, { "/crio-", RUNTIME_CRIO },
		{ "/libpod-", RUNTIME_PODMAN },
		{ "/system.slice/containerd.service/", RUNTIME_CONTAINERD },
		{ "/docker/", RUNTIME_DOCKER },
	};
	const char *at = NULL;

	if (path == NULL || id == NULL || strlen(id) != 64)
		return RUNTIME_NONE;
	/* The outermost occurrence, as procfs_parse_cgroup took it. */
	for (size_t i = 0; i + 64 <= len; i++) {
		if (memcmp(path + i, id, 64) == 0) {
			at = path + i;
			break;
		}
	}
	if (at == NULL)
		return RUNTIME_NONE;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t bl = strlen(names[i].before);
		if ((size_t)(at - path) >= bl && memcmp(at - bl, names[i].before, bl) == 0)
			return names[i].runtime;
	}
	return RUNTIME_NONE;
}

/* Reads an unsigned decimal /proc/PID file (loginuid, sessionid) into *out. */
static int
read_u32_file(int procfd, int pid, const char *name, uint32_t *out)
{
	char buf[32];
	int64_t v;
	int n = procfs_read_file(procfd, pid, name, buf, sizeof(buf));

	if (n <= 0)
		return -1;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (parse_i64(buf, 0, UINT32_MAX, &v) == -1)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/*
 * Copies the value of one environment variable of pid into out (cut at
 * outlen - 1 bytes), through the same bounded reader as env_vars. Returns
 * 0, or -1 when environ cannot be read or does not hold name.
 */
int
procfs_env_value(int procfd, int pid, const char *name, char *out, size_t outlen)
{
	struct procfs_env_spec spec = { .nnames = 1, .value_max = outlen > 0 ? outlen - 1 : 0,
					.read_max = PROCFS_ENV_VALUE_READ };
	struct process p;
	size_t nl = strlen(name);
	int rc = -1;

	spec.names[0] = (char *)(uintptr_t)name;
	process_init(&p);
	if (outlen > 0 && procfs_read_environ(procfd, pid, &spec, &p) == 0 && p.env &&
	    p.env_len > nl && memcmp(p.env, name, nl) == 0 && p.env[nl] == '=') {
		snprintf(out, outlen, "%.*s", (int)(p.env_len - nl - 1), p.env + nl + 1);
		rc = 0;
	}
	process_release(&p);
	return rc;
}

/*
 * Reads what is asked of /proc/PID into p, cmdline first; returns the
 * SNAP_* bits actually read. Cheap parts first after cmdline, in the order
 * the kernel tears them down.
 */
unsigned
procfs_snapshot(int procfd, int pid, unsigned what, size_t max_args, struct process *p)
{
	char buf[PROCFS_CGROUP_FILE];
	unsigned got = 0;
	int n;

	p->pid = pid;
	if ((what & SNAP_CMDLINE) && procfs_read_cmdline(procfd, pid, max_args, p) == 0)
		got |= SNAP_CMDLINE;
	/* environ goes with the address space too: right after cmdline. */
	if ((what & SNAP_ENV) && env_spec && env_spec->nnames > 0 &&
	    procfs_read_environ(procfd, pid, env_spec, p) == 0)
		got |= SNAP_ENV;
	if (what & SNAP_EXE) {
		char *exe = NULL;
		if (procfs_read_link(procfd, pid, "exe", &exe) == 0) {
			size_t l = strlen(exe);
			if (l > 10 && strcmp(exe + l - 10, " (deleted)") == 0) {
				exe[l - 10] = '\0';
				p->exe_deleted = true;
			}
			free(p->executable);
			p->executable = exe;
			p->known |= PF_EXE;
			p->exe_errno = 0;
			got |= SNAP_EXE;
		} else {
			p->exe_errno = errno;
		}
		procfs_stat_exe(procfd, pid, p);
	}
	if (what & SNAP_CWD) {
		char *cwd = NULL;
		if (procfs_read_link(procfd, pid, "cwd", &cwd) == 0) {
			free(p->cwd);
			p->cwd = cwd;
			p->known |= PF_CWD;
			p->cwd_errno = 0;
			got |= SNAP_CWD;
		} else {
			p->cwd_errno = errno;
		}
	}
	if ((what & SNAP_STATUS) &&
	    (n = procfs_read_file(procfd, pid, "status", buf, PROCFS_SMALL_FILE)) > 0 &&
	    procfs_parse_status(buf, (size_t)n, p) == 0)
		got |= SNAP_STATUS;
	if ((what & SNAP_STAT) &&
	    (n = procfs_read_file(procfd, pid, "stat", buf, PROCFS_SMALL_FILE)) > 0 &&
	    procfs_parse_stat(buf, (size_t)n, p) == 0)
		got |= SNAP_STAT;
	if ((what & SNAP_CGROUP) &&
	    (n = procfs_read_file(procfd, pid, "cgroup", buf, sizeof(buf))) > 0) {
		const char *cg;
		size_t cglen;
		got |= SNAP_CGROUP;
		p->known |= PF_CONTAINER;
		if (procfs_parse_cgroup(buf, (size_t)n, p->container_id, &cg, &cglen) == -1)
			p->container_id[0] = '\0';
		free(p->cgroup);
		p->cgroup = cglen > 0 ? xstrndup(cg, cglen) : NULL;
		p->runtime = p->container_id[0] ?
		    procfs_cgroup_runtime(cg, cglen, p->container_id) : RUNTIME_NONE;
	}
	/*
	 * Set once per login (pam_loginuid) and inherited; last. A login's
	 * first exec is a session leader's (sshd's, login's, cron's child), so
	 * SNAP_AUDIT_LEADER reads them there and the table passes them on.
	 */
	if ((what & SNAP_AUDIT) || ((what & SNAP_AUDIT_LEADER) && (got & SNAP_STAT) &&
	    p->sid == pid)) {
		if (read_u32_file(procfd, pid, "loginuid", &p->audit_uid) == 0 &&
		    read_u32_file(procfd, pid, "sessionid", &p->audit_sid) == 0) {
			p->known |= PF_AUDIT;
			got |= what & (SNAP_AUDIT | SNAP_AUDIT_LEADER);
		}
	} else if ((what & SNAP_AUDIT_LEADER) && (got & SNAP_STAT)) {
		got |= SNAP_AUDIT_LEADER;	/* not a leader: nothing to read, it inherits */
	}
	return got;
}
