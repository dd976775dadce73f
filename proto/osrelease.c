/*
 * osrelease.c: parses os-release(5) into host.os.* and adds uname's
 * kernel and machine. The file is "KEY=VALUE" lines, '#' comments and
 * blank lines; a value is shell-quoted: in double quotes a backslash
 * escapes '"', '\', '$' and '`' and is kept before anything else, in
 * single quotes nothing is special, unquoted a backslash escapes the next
 * byte. A later assignment wins, as in the shell that sources the file.
 * The bytes are the file's, not checked here: the encoder escapes them
 * like any string from the host. No I/O.
 */
#include "osrelease.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "escape.h"

/* Zeroes a host_os: every field unknown. */
void
host_os_init(struct host_os *os)
{
	memset(os, 0, sizeof(*os));
}

/* Frees what a host_os owns and resets it. */
void
host_os_release(struct host_os *os)
{
	free(os->family);
	free(os->name);
	free(os->version);
	free(os->platform);
	free(os->full);
	free(os->kernel);
	free(os->architecture);
	host_os_init(os);
}

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* Deep-copies src into an initialised dst. */
void
host_os_copy(struct host_os *dst, const struct host_os *src)
{
	host_os_release(dst);
	dst->family = dup_or_null(src->family);
	dst->name = dup_or_null(src->name);
	dst->version = dup_or_null(src->version);
	dst->platform = dup_or_null(src->platform);
	dst->full = dup_or_null(src->full);
	dst->kernel = dup_or_null(src->kernel);
	dst->architecture = dup_or_null(src->architecture);
}

/* The value being unquoted: at most OSRELEASE_VALUE_MAX bytes are kept. */
struct value {
	char buf[OSRELEASE_VALUE_MAX + 4];	/* the bytes past the cap show where a character ends */
	size_t len;
};

static void
value_add(struct value *v, char c)
{
	if (c == '\0')
		return;	/* a NUL cannot be in a C string; leave it out */
	if (v->len < OSRELEASE_VALUE_MAX + 3)
		v->buf[v->len++] = c;
}

/* Unquotes the value in s[0, n); -1 on an unterminated quote. */
static int
value_unquote(const char *s, size_t n, struct value *v)
{
	size_t i = 0;

	/* Unquoted trailing blanks (and a CR of a CRLF file) are not part of it. */
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	while (i < n) {
		char c = s[i++];
		if (c == '"') {
			for (;;) {
				if (i >= n)
					return -1;
				c = s[i++];
				if (c == '"')
					break;
				if (c == '\\' && i < n && strchr("\"\\$`", s[i]) != NULL && s[i] != '\0')
					c = s[i++];
				value_add(v, c);
			}
		} else if (c == '\'') {
			for (;;) {
				if (i >= n)
					return -1;
				c = s[i++];
				if (c == '\'')
					break;
				value_add(v, c);
			}
		} else if (c == '\\') {
			if (i < n)
				value_add(v, s[i++]);
		} else {
			value_add(v, c);
		}
	}
	v->len = utf8_truncate(v->buf, v->len, OSRELEASE_VALUE_MAX);
	v->buf[v->len] = '\0';
	return 0;
}

/* Replaces *dst by a copy of s. */
static void
set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = xstrdup(s);
}

/* The keys this parser keeps; the rest are skipped. */
enum { K_ID, K_ID_LIKE, K_NAME, K_VERSION_ID, K_VERSION, K_PRETTY_NAME, K_MAX };
static const char *const keys[K_MAX] = {
	"ID", "ID_LIKE", "NAME", "VERSION_ID", "VERSION", "PRETTY_NAME",
};

/* Parses one line into vals; returns 0, or -1 when it is malformed. */
static int
parse_line(const char *s, size_t n, char *vals[K_MAX])
{
	size_t i = 0, klen;
	struct value v;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == n || s[i] == '#' || (n - i == 1 && s[i] == '\r'))
		return 0;
	klen = i;
	while (i < n && (s[i] == '_' || (s[i] >= 'A' && s[i] <= 'Z') ||
	    (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9' && i > klen)))
		i++;
	if (i == klen || i >= n || s[i] != '=')
		return -1;
	const char *key = s + klen;
	size_t keylen = i - klen;
	i++;
	memset(&v, 0, sizeof(v));
	if (value_unquote(s + i, n - i, &v) == -1)
		return -1;
	for (int k = 0; k < K_MAX; k++) {
		if (strlen(keys[k]) == keylen && memcmp(keys[k], key, keylen) == 0) {
			free(vals[k]);
			vals[k] = xstrdup(v.buf);
		}
	}
	return 0;
}

/*
 * Fills family, name, version, platform and full of os from the text of
 * an os-release file (buf, len bytes, not NUL-terminated), replacing what
 * they held (what the file lacks becomes unknown). Malformed lines are skipped and counted in *bad_lines.
 * Returns the number of the fields set.
 */
int
osrelease_parse(const char *buf, size_t len, struct host_os *os, int *bad_lines)
{
	char *vals[K_MAX] = { NULL };
	size_t off = 0;
	int set = 0;

	*bad_lines = 0;
	free(os->family);
	free(os->name);
	free(os->version);
	free(os->platform);
	free(os->full);
	os->family = os->name = os->version = os->platform = os->full = NULL;
	if (len > OSRELEASE_MAX_BYTES)
		len = OSRELEASE_MAX_BYTES;
	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (buf + off)) : len - off;
		if (parse_line(buf + off, n, vals) == -1)
			(*bad_lines)++;
		off += n + 1;
	}
	/* ID_LIKE lists related distributions, closest first: the family is the first. */
	if (vals[K_ID_LIKE] != NULL) {
		char *w = vals[K_ID_LIKE] + strspn(vals[K_ID_LIKE], " \t");
		w[strcspn(w, " \t")] = '\0';
		if (*w != '\0') {
			set_str(&os->family, w);
			set++;
		}
	}
	if (os->family == NULL && vals[K_ID] != NULL && vals[K_ID][0]) {
		set_str(&os->family, vals[K_ID]);
		set++;
	}
	if (vals[K_ID] != NULL && vals[K_ID][0]) {
		set_str(&os->platform, vals[K_ID]);
		set++;
	}
	if (vals[K_NAME] != NULL && vals[K_NAME][0]) {
		set_str(&os->name, vals[K_NAME]);
		set++;
	}
	if (vals[K_VERSION_ID] != NULL && vals[K_VERSION_ID][0]) {
		set_str(&os->version, vals[K_VERSION_ID]);
		set++;
	} else if (vals[K_VERSION] != NULL && vals[K_VERSION][0]) {
		set_str(&os->version, vals[K_VERSION]);
		set++;
	}
	if (vals[K_PRETTY_NAME] != NULL && vals[K_PRETTY_NAME][0]) {
		set_str(&os->full, vals[K_PRETTY_NAME]);
		set++;
	}
	for (int k = 0; k < K_MAX; k++)
		free(vals[k]);
	return set;
}

/* Sets kernel ("release version", as Elastic Defend writes it) and architecture from uname's fields; NULL or "" leaves one unknown. */
void
host_os_set_uname(struct host_os *os, const char *release, const char *version,
    const char *machine)
{
	free(os->kernel);
	os->kernel = NULL;
	if (release != NULL && release[0]) {
		size_t n = strlen(release) + (version ? strlen(version) : 0) + 2;
		os->kernel = xmalloc(n);
		if (version != NULL && version[0])
			snprintf(os->kernel, n, "%s %s", release, version);
		else
			snprintf(os->kernel, n, "%s", release);
	}
	free(os->architecture);
	os->architecture = machine != NULL && machine[0] ? xstrdup(machine) : NULL;
}
