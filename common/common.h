/*
 * common.h: small dependency-light helpers shared by the agent, the wire
 * code and the tests: logging, allocation that never returns NULL, and
 * bounded string helpers. Nothing here touches a socket or the kernel.
 */
#ifndef HIDS_COMMON_H
#define HIDS_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define HIDS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define HIDS_NORETURN __attribute__((noreturn))

/* log.c */
enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };
enum log_target { LOG_TO_STDERR = 0, LOG_TO_SYSLOG };

void log_init(const char *ident, enum log_level level, enum log_target target);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
int log_level_parse(const char *s, enum log_level *out);
void log_warn(const char *fmt, ...) HIDS_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) HIDS_PRINTF(1, 2);
void log_info(const char *fmt, ...) HIDS_PRINTF(1, 2);
void log_debug(const char *fmt, ...) HIDS_PRINTF(1, 2);
void log_error(const char *fmt, ...) HIDS_PRINTF(1, 2);
void fatal(const char *fmt, ...) HIDS_PRINTF(1, 2) HIDS_NORETURN;
void fatalx(const char *fmt, ...) HIDS_PRINTF(1, 2) HIDS_NORETURN;

/* A rate limit for one kind of log line: at most burst lines per interval. */
struct log_ratelimit {
	uint64_t window_start_ms;
	unsigned interval_ms;
	unsigned burst;
	unsigned printed;
	uint64_t suppressed;
};
#define LOG_RATELIMIT_INIT(interval_ms, burst) { 0, (interval_ms), (burst), 0, 0 }
bool log_ratelimit_allow(struct log_ratelimit *rl);

/* xmalloc.c */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
void *xgrow(void *buf, size_t *cap, size_t need, size_t first);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);
char *xasprintf(const char *fmt, ...) HIDS_PRINTF(1, 2);

/* util.c */
uint64_t clock_ns(int clockid);
uint64_t now_mono_ms(void);
size_t strlcpy_trunc(char *dst, const char *src, size_t dstsize);
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
int parse_bool(const char *s, bool *out);
int parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);
size_t fmt_u64(char *buf, uint64_t v);
size_t fmt_i64(char *buf, int64_t v);

#endif
