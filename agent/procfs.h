/*
 * procfs.h: reading and parsing /proc/PID files. The parse_* functions are
 * pure (bytes in, fields out) so they can be unit-tested and fuzzed; the
 * read_* functions do one open+read+close each, relative to a /proc fd.
 */
#ifndef HIDS_PROCFS_H
#define HIDS_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* What procfs_snapshot reads. */
#define SNAP_CMDLINE (1u << 0)
#define SNAP_EXE (1u << 1)
#define SNAP_CWD (1u << 2)
#define SNAP_STAT (1u << 3)
#define SNAP_STATUS (1u << 4)
#define SNAP_CGROUP (1u << 5)
#define SNAP_ENV (1u << 6)	/* the configured environment variables (procfs_set_env) */
#define SNAP_AUDIT (1u << 7)	/* loginuid and sessionid */
#define SNAP_AUDIT_LEADER (1u << 8)	/* loginuid and sessionid of a session leader only */
#define SNAP_EXEC (SNAP_CMDLINE | SNAP_EXE | SNAP_CWD | SNAP_STAT | SNAP_STATUS | SNAP_CGROUP | \
    SNAP_AUDIT_LEADER)
#define SNAP_FIRST (SNAP_EXEC | SNAP_AUDIT)	/* a process seen for the first time */

#define PROCFS_CMDLINE_CAP_DEFAULT (256u << 10)	/* cmdline bytes read per exec, kept or counted */
#define PROCFS_COUNT_CHUNK (64u << 10)	/* one read while counting past max_args */
#define PROCFS_ENV_MAX_NAMES 64		/* names in [process] env_vars */
#define PROCFS_ENV_MAX_ENTRIES 32	/* NAME=value entries kept per process */

/*
 * Which environment variables to pick from /proc/PID/environ: exact names,
 * or prefixes (a name written with a trailing '*'); values cut at
 * value_max bytes; at most read_max bytes of environ looked at.
 */
struct procfs_env_spec {
	char *names[PROCFS_ENV_MAX_NAMES];
	bool prefix[PROCFS_ENV_MAX_NAMES];
	size_t nnames;
	size_t value_max;
	size_t read_max;
};

/* procfs.c */
int procfs_parse_stat(const char *buf, size_t len, struct process *p);
int procfs_parse_status(const char *buf, size_t len, struct process *p);
int procfs_parse_cgroup(const char *buf, size_t len, char out[65], const char **path,
    size_t *path_len);
uint32_t procfs_count_args(const char *buf, size_t len);
int procfs_parse_fcaps(const unsigned char *b, size_t len, struct process *p);
uint8_t procfs_cgroup_runtime(const char *path, size_t len, const char *id);
int procfs_env_value(int procfd, int pid, const char *name, char *out, size_t outlen);
int procfs_open_root(void);
int procfs_read_file(int procfd, int pid, const char *name, char *buf, size_t bufsize);
void procfs_release_scratch(void);
void procfs_set_cmdline_cap(size_t bytes);
int procfs_read_cmdline(int procfd, int pid, size_t max_bytes, struct process *p);
int procfs_read_link(int procfd, int pid, const char *name, char **out);
int procfs_env_spec_parse(const char *list, struct procfs_env_spec *spec, char *err,
    size_t errlen);
void procfs_env_spec_release(struct procfs_env_spec *spec);
int procfs_parse_environ(const char *buf, size_t len, bool cut, const struct procfs_env_spec *spec,
    struct process *p);
int procfs_read_environ(int procfd, int pid, const struct procfs_env_spec *spec,
    struct process *p);
void procfs_set_env(const struct procfs_env_spec *spec);
unsigned procfs_snapshot(int procfd, int pid, unsigned what, size_t max_args,
    struct process *p);

#endif
