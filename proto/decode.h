/*
 * decode.h: kernel process-events connector messages to struct cn_event.
 * Pure: bytes in, typed event out, every length checked.
 */
#ifndef HIDS_DECODE_H
#define HIDS_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

enum decode_result {
	DECODE_OK = 0,		/* a process event */
	DECODE_ACK,		/* PROC_EVENT_NONE: the reply to a (un)subscribe */
	DECODE_CONTROL,		/* netlink NOOP/ERROR/OVERRUN, nothing to report */
	DECODE_TRUNCATED,	/* shorter than its headers or its type needs */
	DECODE_BAD_LENGTH,	/* lengths that contradict each other */
	DECODE_NOT_PROC,	/* another connector's message */
	DECODE_UNKNOWN,		/* a type this agent does not know */
	DECODE_RESULT_MAX
};

/* Sizes on the wire. */
#define CN_WIRE_HDR 20u		/* struct cn_msg without data */
#define PE_WIRE_HDR 16u		/* what, cpu, timestamp_ns */
#define NL_WIRE_HDR 16u		/* struct nlmsghdr */

/* decode.c */
enum decode_result decode_next(const uint8_t **buf, size_t *len, struct cn_event *ev);
enum decode_result decode_proc_event(const uint8_t *data, size_t len, struct cn_event *ev);
const char *decode_result_name(enum decode_result r);
size_t decode_build_msg(uint8_t *out, size_t outlen, uint32_t what, uint32_t cpu,
    uint32_t seq, uint64_t ts, const void *payload, size_t payload_len);

#endif
