/*
 * decode.c: parses one netlink datagram from the process-events connector
 * into struct cn_event. Every length is checked against the bytes actually
 * received; unknown types and foreign connector ids are reported, never
 * guessed at. Fields are read with memcpy, so alignment does not matter.
 */
#include "decode.h"

#include <linux/netlink.h>
#include <string.h>

#define CN_IDX_PROC_WIRE 1u
#define CN_VAL_PROC_WIRE 1u

/* Minimum payload after the proc_event header, per type. Older kernels
 * sent 8-byte coredump and 16-byte exit bodies; they are accepted. */
#define BODY_ACK 4u
#define BODY_FORK 16u
#define BODY_EXEC 8u
#define BODY_ID 16u
#define BODY_SID 8u
#define BODY_PTRACE 16u
#define BODY_COMM 24u
#define BODY_COREDUMP_OLD 8u
#define BODY_COREDUMP 16u
#define BODY_EXIT_OLD 16u
#define BODY_EXIT 24u

static uint32_t
rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t
rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint16_t
rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* Reads the pid/tgid pair that opens most bodies. */
static void
read_subject(const uint8_t *b, struct cn_event *ev)
{
	ev->pid = (int32_t)rd32(b);
	ev->tgid = (int32_t)rd32(b + 4);
}

/* Decodes the body of one proc_event of a known type. */
static enum decode_result
decode_body(const uint8_t *b, size_t blen, struct cn_event *ev)
{
	switch (ev->what) {
	case CN_EV_NONE:
		if (blen < BODY_ACK)
			return DECODE_TRUNCATED;
		ev->ack_err = rd32(b);
		return DECODE_ACK;
	case CN_EV_FORK:
		if (blen < BODY_FORK)
			return DECODE_TRUNCATED;
		ev->action = EV_FORK;
		ev->ppid = (int32_t)rd32(b);
		ev->ptgid = (int32_t)rd32(b + 4);
		ev->pid = (int32_t)rd32(b + 8);
		ev->tgid = (int32_t)rd32(b + 12);
		ev->has_parent = true;
		return DECODE_OK;
	case CN_EV_EXEC:
		if (blen < BODY_EXEC)
			return DECODE_TRUNCATED;
		ev->action = EV_EXEC;
		read_subject(b, ev);
		return DECODE_OK;
	case CN_EV_UID:
	case CN_EV_GID:
		if (blen < BODY_ID)
			return DECODE_TRUNCATED;
		ev->action = ev->what == CN_EV_UID ? EV_UID : EV_GID;
		read_subject(b, ev);
		ev->rid = rd32(b + 8);
		ev->eid = rd32(b + 12);
		return DECODE_OK;
	case CN_EV_SID:
		if (blen < BODY_SID)
			return DECODE_TRUNCATED;
		ev->action = EV_SID;
		read_subject(b, ev);
		return DECODE_OK;
	case CN_EV_PTRACE:
		if (blen < BODY_PTRACE)
			return DECODE_TRUNCATED;
		ev->action = EV_PTRACE;
		read_subject(b, ev);
		ev->tracer_pid = (int32_t)rd32(b + 8);
		ev->tracer_tgid = (int32_t)rd32(b + 12);
		return DECODE_OK;
	case CN_EV_COMM:
		if (blen < BODY_COMM)
			return DECODE_TRUNCATED;
		ev->action = EV_COMM;
		read_subject(b, ev);
		memcpy(ev->comm, b + 8, 16);
		ev->comm[16] = '\0';
		return DECODE_OK;
	case CN_EV_COREDUMP:
		if (blen < BODY_COREDUMP_OLD)
			return DECODE_TRUNCATED;
		ev->action = EV_COREDUMP;
		read_subject(b, ev);
		if (blen >= BODY_COREDUMP) {
			ev->ppid = (int32_t)rd32(b + 8);
			ev->ptgid = (int32_t)rd32(b + 12);
			ev->has_parent = true;
		}
		return DECODE_OK;
	case CN_EV_EXIT:
		if (blen < BODY_EXIT_OLD)
			return DECODE_TRUNCATED;
		ev->action = EV_EXIT;
		read_subject(b, ev);
		ev->exit_status = rd32(b + 8);
		ev->exit_signal = rd32(b + 12);
		if (blen >= BODY_EXIT) {
			ev->ppid = (int32_t)rd32(b + 16);
			ev->ptgid = (int32_t)rd32(b + 20);
			ev->has_parent = true;
		}
		return DECODE_OK;
	default:
		return DECODE_UNKNOWN;
	}
}

/* Decodes a proc_event (the data of a cn_msg) of len bytes. */
enum decode_result
decode_proc_event(const uint8_t *data, size_t len, struct cn_event *ev)
{
	if (len < PE_WIRE_HDR)
		return DECODE_TRUNCATED;
	ev->what = rd32(data);
	ev->cpu = rd32(data + 4);
	ev->ts_ns = rd64(data + 8);
	return decode_body(data + PE_WIRE_HDR, len - PE_WIRE_HDR, ev);
}

/* Decodes the cn_msg inside one netlink message payload. */
static enum decode_result
decode_cn_msg(const uint8_t *p, size_t len, struct cn_event *ev)
{
	uint16_t dlen;

	if (len < CN_WIRE_HDR)
		return DECODE_TRUNCATED;
	if (rd32(p) != CN_IDX_PROC_WIRE || rd32(p + 4) != CN_VAL_PROC_WIRE)
		return DECODE_NOT_PROC;
	ev->seq = rd32(p + 8);
	ev->ack_seq = ev->seq;
	ev->ack_ack = rd32(p + 12);
	dlen = rd16(p + 16);
	if ((size_t)dlen > len - CN_WIRE_HDR)
		return DECODE_BAD_LENGTH;
	return decode_proc_event(p + CN_WIRE_HDR, dlen, ev);
}

/*
 * Decodes the next netlink message at *buf (of *len bytes) and advances
 * past it. A malformed header consumes the rest of the datagram, since
 * nothing after it can be trusted.
 */
enum decode_result
decode_next(const uint8_t **buf, size_t *len, struct cn_event *ev)
{
	const uint8_t *p = *buf;
	uint32_t nlen;
	uint16_t type;
	size_t adv;

	memset(ev, 0, sizeof(*ev));
	if (*len < NL_WIRE_HDR) {
		*len = 0;
		return DECODE_TRUNCATED;
	}
	nlen = rd32(p);
	type = rd16(p + 4);
	if (nlen < NL_WIRE_HDR || nlen > *len) {
		*len = 0;
		return nlen < NL_WIRE_HDR ? DECODE_BAD_LENGTH : DECODE_TRUNCATED;
	}
	adv = NLMSG_ALIGN(nlen);
	if (adv > *len)
		adv = *len;
	*buf += adv;
	*len -= adv;
	if (type == NLMSG_NOOP || type == NLMSG_ERROR || type == NLMSG_OVERRUN)
		return DECODE_CONTROL;
	return decode_cn_msg(p + NL_WIRE_HDR, nlen - NL_WIRE_HDR, ev);
}

/* Names a decode result for counters and logs. */
const char *
decode_result_name(enum decode_result r)
{
	static const char *names[DECODE_RESULT_MAX] = {
		"ok", "ack", "control", "truncated", "bad_length", "not_proc",
		"unknown_type",
	};
	return r < DECODE_RESULT_MAX ? names[r] : "invalid";
}

/*
 * Builds a complete netlink datagram as the kernel would send it; for tests,
 * fuzz seeds and benchmarks. Returns the length, or 0 if out is too small.
 */
size_t
decode_build_msg(uint8_t *out, size_t outlen, uint32_t what, uint32_t cpu,
    uint32_t seq, uint64_t ts, const void *payload, size_t payload_len)
{
	size_t dlen = PE_WIRE_HDR + payload_len;
	size_t total = NL_WIRE_HDR + CN_WIRE_HDR + dlen;
	uint32_t u32;
	uint16_t u16;

	if (total > outlen || dlen > 0xffff)
		return 0;
	memset(out, 0, total);
	u32 = (uint32_t)total;
	memcpy(out, &u32, 4);
	u16 = NLMSG_DONE;
	memcpy(out + 4, &u16, 2);
	u32 = CN_IDX_PROC_WIRE;
	memcpy(out + 16, &u32, 4);
	u32 = CN_VAL_PROC_WIRE;
	memcpy(out + 20, &u32, 4);
	memcpy(out + 24, &seq, 4);
	u16 = (uint16_t)dlen;
	memcpy(out + 32, &u16, 2);
	memcpy(out + 36, &what, 4);
	memcpy(out + 40, &cpu, 4);
	memcpy(out + 44, &ts, 8);
	if (payload_len)
		memcpy(out + 52, payload, payload_len);
	return total;
}
