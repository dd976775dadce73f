/*
 * log.c: the agent's own diagnostics, to stderr or syslog, with levels and
 * rate limits. Event data never goes through here: it has its own output.
 */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static enum log_level log_level = LOG_LVL_INFO;
static enum log_target log_target = LOG_TO_STDERR;
static const char *log_ident = "hids-agent";

/* Sets up where log lines go and how verbose they are. */
void
log_init(const char *ident, enum log_level level, enum log_target target)
{
	log_ident = ident;
	log_level = level;
	log_target = target;
	if (target == LOG_TO_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/* Changes the verbosity at run time. */
void
log_set_level(enum log_level level)
{
	log_level = level;
}

/* Returns the current verbosity. */
enum log_level
log_get_level(void)
{
	return log_level;
}

/* Parses "error", "warning", "info" or "debug"; returns -1 on anything else. */
int
log_level_parse(const char *s, enum log_level *out)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

/* Writes one line at a level, with an optional errno suffix. */
static void log_vwrite(enum log_level level, int errnum, const char *fmt, va_list ap)
    HIDS_PRINTF(3, 0);

static void
log_vwrite(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *tag[] = { "error", "warning", "info", "debug" };
	char msg[1024];

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_target == LOG_TO_SYSLOG) {
		if (errnum)
			syslog(prio[level], "%s: %s", msg, strerror(errnum));
		else
			syslog(prio[level], "%s", msg);
		return;
	}
	if (errnum)
		fprintf(stderr, "%s: %s: %s: %s\n", log_ident, tag[level], msg,
		    strerror(errnum));
	else
		fprintf(stderr, "%s: %s: %s\n", log_ident, tag[level], msg);
}

#define LOG_FN(name, level, with_errno)                         \
	void name(const char *fmt, ...)                         \
	{                                                       \
		int saved = errno;                              \
		va_list ap;                                     \
		va_start(ap, fmt);                              \
		log_vwrite((level), (with_errno) ? saved : 0, fmt, ap); \
		va_end(ap);                                     \
		errno = saved;                                  \
	}

LOG_FN(log_warn, LOG_LVL_WARN, 1)
LOG_FN(log_warnx, LOG_LVL_WARN, 0)
LOG_FN(log_info, LOG_LVL_INFO, 0)
LOG_FN(log_debug, LOG_LVL_DEBUG, 0)
LOG_FN(log_error, LOG_LVL_ERROR, 0)

/* Logs an error with strerror(errno) and exits; for start-up and OOM only. */
void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	log_vwrite(LOG_LVL_ERROR, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

/* Logs an error and exits; for start-up and OOM only. */
void
fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vwrite(LOG_LVL_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

/* Says whether one more line of this kind may be printed now. */
bool
log_ratelimit_allow(struct log_ratelimit *rl)
{
	uint64_t now = now_mono_ms();

	if (rl->window_start_ms == 0 || now - rl->window_start_ms >= rl->interval_ms) {
		if (rl->suppressed > 0)
			log_warnx("%llu similar messages suppressed",
			    (unsigned long long)rl->suppressed);
		rl->window_start_ms = now;
		rl->printed = 0;
		rl->suppressed = 0;
	}
	if (rl->printed < rl->burst) {
		rl->printed++;
		return true;
	}
	rl->suppressed++;
	return false;
}
