/*
 * config.h: the agent's settings, their built-in defaults, and the INI
 * parser (libinih) that reports every error as file:line: message.
 */
#ifndef HIDS_CONFIG_H
#define HIDS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "capture.h"
#include "collector.h"
#include "common.h"
#include "filter.h"

#define CONFIG_DEFAULT_PATH "/etc/hids-agent/hids-agent.conf"
/* [process] env_vars by default: what loader abuse and sessions leave; never secrets. */
#define CONFIG_ENV_VARS_DEFAULT \
	"LD_PRELOAD,LD_LIBRARY_PATH,LD_AUDIT,GLIBC_TUNABLES,SSH_CONNECTION,SUDO_USER"

struct config {
	/* [agent] */
	enum log_level log_level;
	enum log_target log_target;
	unsigned heartbeat_interval_s;	/* 0 = off */
	unsigned canary_interval_s;	/* 0 = off */
	char *user;			/* started as root: switch to it; NULL: hids-agent if it exists; "": stay root */
	/* [events] */
	uint32_t emit_mask;
	bool nonzero_exit_only;
	bool threads;
	/* [capture] */
	struct capture_config cap;
	/* [process] */
	size_t max_args_bytes;
	size_t table_max_entries;
	size_t table_args_bytes;
	size_t table_max_bytes;
	size_t table_path_bytes;
	char *env_vars;			/* names to read from environ; NULL: CONFIG_ENV_VARS_DEFAULT */
	size_t env_value_max_bytes;	/* bytes of each value kept */
	/* [output] */
	size_t max_line_bytes;		/* 0 = no limit */
	bool max_line_set;
	/* [collector] */
	bool forward;			/* an address is configured */
	struct collector_config col;
	/* [spool] */
	char *spool_dir;		/* NULL: no spool */
	uint64_t spool_max_bytes;
	enum spool_fsync spool_fsync;
	unsigned spool_fsync_interval_ms;
	/* [metrics] */
	char *metrics_listen;		/* NULL: no endpoint */
	/* [hash] */
	unsigned hash_algs;		/* HASH_ALG_*; 0: no hashing */
	uint64_t hash_max_file_bytes;
	uint64_t hash_bytes_per_second;
	unsigned hash_wait_ms;		/* how long an exec event waits for its hash */
	unsigned hash_cache_entries;
	/* [filter] and [filter NAME] */
	struct filter_rules filter;
};

/* How a key's value is read. */
enum config_type {
	CONFIG_BOOL,		/* yes or no */
	CONFIG_COUNT,		/* a number within min..max */
	CONFIG_SIZE,		/* a size within min..max, K/M/G suffixes */
	CONFIG_ENUM,		/* one of choices */
	CONFIG_STRING,		/* any text, then checked by parse if set */
	CONFIG_FILE,		/* a path the agent must be able to read */
	CONFIG_CUSTOM		/* parse does it all */
};

#define CONFIG_EMPTY_NULL	0x1	/* an empty string value means unset (NULL) */

struct config_parse;		/* one parse under way, for error reports */

/* One word of a CONFIG_ENUM key and the value it stands for. */
struct config_choice {
	const char *name;
	int value;
};

/*
 * One key of the file: the table of these in config.c drives parsing, the
 * defaults, --check-config, the reload diff and its log lines, and the
 * test that the docs list every key with its default.
 */
struct config_key {
	const char *section;
	const char *name;
	enum config_type type;
	uint64_t min, max;		/* CONFIG_COUNT and CONFIG_SIZE */
	const char *def;		/* the default as written in a file; NULL: none or derived */
	bool reload;			/* SIGHUP applies it; false: logged, needs a restart */
	size_t off, size;		/* the field (or adjacent fields) it sets in struct config */
	const struct config_choice *choices;	/* CONFIG_ENUM, ended by a NULL name */
	unsigned flags;			/* CONFIG_EMPTY_NULL */
	void (*parse)(struct config_parse *, const struct config_key *, const char *);
};

/* Called for each restart-only key whose value a reload would change. */
typedef void config_restart_cb(const struct config_key *, void *);

/* config.c */
const struct config_key *config_keys(size_t *n);
const char *config_type_name(enum config_type t);
size_t config_keep_restart_only(struct config *nc, const struct config *old,
    config_restart_cb *cb, void *arg);
void config_defaults(struct config *c);
int config_load(struct config *c, const char *path, FILE *errout);
int config_load_string(struct config *c, const char *text, const char *name, FILE *errout);
uint32_t config_kernel_mask(const struct config *c);
void config_release(struct config *c);

#endif
