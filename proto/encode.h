/*
 * encode.h: struct hids_event to one line of ECS JSON. Pure: no I/O, and the
 * clock offsets and host identity come in through struct encode_ctx.
 */
#ifndef HIDS_ENCODE_H
#define HIDS_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "osrelease.h"

#define ECS_VERSION "8.11.0"
#define ENCODE_TIME_LEN 30	/* "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" */

struct encode_ctx {
	const char *hostname;
	const char *host_id;		/* /etc/machine-id, may be NULL */
	const struct host_os *os;	/* host.os.* and host.architecture, may be NULL */
	const char *agent_id;
	const char *agent_version;
	const char *ephemeral_id;	/* random per run; prefixes event.id */
	int64_t mono_to_real_ns;	/* add to CLOCK_MONOTONIC for wall time */
	int64_t boot_to_real_ns;	/* add to CLOCK_BOOTTIME for wall time */
	long clk_tck;			/* for /proc start times */
	uint64_t sequence;		/* last event.sequence handed out */
	size_t max_line_bytes;		/* 0 = no limit */
	/* ,"host":{..},"agent":{..},"ecs":{..}: rendered once, copied into every line. */
	char *shared;
	size_t shared_len;
	char shared_host[256];		/* hostname shared was rendered for */
	unsigned shared_escaped;	/* bits of the fields in shared that are escaped (encode.c) */
	char *buf;			/* the line buffer, kept between events */
	size_t buf_cap;
};

/* encode.c */
char *encode_event(struct encode_ctx *ctx, const struct hids_event *ev, size_t *len);
void encode_format_time(uint64_t real_ns, char *buf, size_t buflen);
uint64_t encode_start_ns(const struct encode_ctx *ctx, const struct process *p);
void encode_ctx_release(struct encode_ctx *ctx);
void encode_ctx_host_changed(struct encode_ctx *ctx);

#endif
