/* Proves that decode_next reads every connector message type exactly, rejects every malformed length, and never reads or consumes past the datagram. */
#include <linux/netlink.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "decode.h"
#include "unit.h"

#define BUF 512

/* Builds one message whose payload is the given 32-bit words. */
static size_t
build(uint8_t *out, size_t outlen, uint32_t what, const uint32_t *words, size_t nwords)
{
	return decode_build_msg(out, outlen, what, 3, 77, 123456789ull, words,
	    nwords * sizeof(uint32_t));
}

/* Decodes a buffer holding exactly one message; asserts it was all consumed. */
static enum decode_result
decode_one(const uint8_t *msg, size_t len, struct cn_event *ev)
{
	const uint8_t *p = msg;
	size_t left = len;
	enum decode_result r = decode_next(&p, &left, ev);

	assert_int_equal(left, 0);
	assert_ptr_equal(p, msg + len);
	return r;
}

/* Checks the header fields decode_build_msg was given. */
static void
assert_header(const struct cn_event *ev, uint32_t what)
{
	assert_int_equal(ev->what, what);
	assert_int_equal(ev->cpu, 3);
	assert_int_equal(ev->seq, 77);
	assert_true(ev->ts_ns == 123456789ull);
}

static void
test_fork(void **state)
{
	uint8_t m[BUF];
	uint32_t w[] = { 100000, 100001, 4194300, 4194301 };
	struct cn_event ev;
	size_t n = build(m, sizeof(m), CN_EV_FORK, w, 4);

	assert_int_equal(n, NL_WIRE_HDR + CN_WIRE_HDR + PE_WIRE_HDR + 16);
	assert_int_equal(decode_one(m, n, &ev), DECODE_OK);
	assert_header(&ev, CN_EV_FORK);
	assert_int_equal(ev.action, EV_FORK);
	assert_int_equal(ev.ppid, 100000);
	assert_int_equal(ev.ptgid, 100001);
	assert_int_equal(ev.pid, 4194300);
	assert_int_equal(ev.tgid, 4194301);
	assert_true(ev.has_parent);
}

static void
test_exec(void **state)
{
	uint8_t m[BUF];
	uint32_t w[] = { 4242, 4240 };
	struct cn_event ev;
	size_t n = build(m, sizeof(m), CN_EV_EXEC, w, 2);

	assert_int_equal(decode_one(m, n, &ev), DECODE_OK);
	assert_header(&ev, CN_EV_EXEC);
	assert_int_equal(ev.action, EV_EXEC);
	assert_int_equal(ev.pid, 4242);
	assert_int_equal(ev.tgid, 4240);
	assert_false(ev.has_parent);
}

static void
test_uid_gid(void **state)
{
	uint8_t m[BUF];
	uint32_t w[] = { 7, 7, 1000, 0 };
	struct cn_event ev;
	size_t n = build(m, sizeof(m), CN_EV_UID, w, 4);

	assert_int_equal(decode_one(m, n, &ev), DECODE_OK);
	assert_header(&ev, CN_EV_UID);
	assert_int_equal(ev.action, EV_UID);
	assert_int_equal(ev.pid, 7);
	assert_int_equal(ev.rid, 1000);
	assert_int_equal(ev.eid, 0);

	w[2] = 50;
	w[3] = 4294967295u;	/* (gid_t)-1 stays unsigned */
	n = build(m, sizeof(m), CN_EV_GID, w, 4);
	assert_int_equal(decode_one(m, n, &ev), DECODE_OK);
	assert_int_equal(ev.action, EV_GID);
	assert_int_equal(ev.rid, 50);
	assert_true(ev.eid == 4294967295u);
}

static void
test_sid(void **state)
{
	uint8_t m[BUF];
	uint32_t w[] = { 31, 30 };
	struct cn_event ev;
	size_t n = build(m, sizeof(m), CN_EV_SID, w, 2);

	assert_int_equal(decode_one(m, n, &ev), DECODE_OK);
	assert_header(&ev, CN_EV_SID);
	assert_int_equal(ev.action, EV_SID);
	assert_int_equal(ev.pid, 31);
	assert_int_equal(ev.tgid, 30);
}

static void
test_ptrace(void **state)
{
	uint8_t m[BUF];
	uint32_t w[] = { 500000, 500000, 600000, 600001 };
	struct cn_event ev;
	size_t n = build(m, sizeof(m), CN_EV_PTRACE, w, 4);

	assert_int_equal(decode_one(m, n, &ev), DECODE_OK);
	assert_header(&ev, CN_EV_PTRACE);
	assert_int_equal(ev.action, EV_PTRACE);
	assert_int_equal(ev.pid, 500000);
	assert_int_equal(ev.tracer_pid, 600000);
	assert_int_equal(ev.tracer_tgid, 600001);
}

static void
test_comm(void **state)
{
	uint8_t m[BUF], payload[24];
	uint32_t ids[] = { 900, 901 };
	struct cn_event ev;
	size_t n;

	/* The kernel's comm is 16 bytes; a full one has no NUL. */
	memcpy(payload, ids, 8);
	memcpy(payload + 8, "0123456789abcdef", 16);
	n = decode_build_msg(m, sizeof(m), CN_EV_COMM, 1, 2, 3, payload, sizeof(payload));
	assert_int_equal(decode_one(m, n, &ev), DECODE_OK);
	assert_int_equal(ev.action, EV_COMM);
	assert_int_equal(ev.pid, 900);
	assert_int_equal(ev.tgid, 901);
	assert_string_equal(ev.comm, "0123456789abcdef");

	memset(payload + 8, 0, 16);
	memcpy(payload + 8, "my prog", 7);
	n = decode_build_msg(m, sizeof(m), CN_EV_COMM, 1, 2, 3, payload, sizeof(payload));
	assert_int_equal(decode_one(m, n, &ev), DECODE_OK);
	assert_string_equal(ev.comm, "my prog");
}

static void
test_coredump(void **state)
{
	uint8_t m[BUF];
	uint32_t w[] = { 70, 70, 1, 1 };
	struct cn_event ev;
	size_t n = build(m, sizeof(m), CN_EV_COREDUMP, w, 4);

	assert_int_equal(decode_one(m, n, &ev), DECODE_OK);
	assert_header(&ev, CN_EV_COREDUMP);
	assert_int_equal(ev.action, EV_COREDUMP);
	assert_int_equal(ev.pid, 70);
	assert_int_equal(ev.ppid, 1);
	assert_int_equal(ev.ptgid, 1);
	assert_true(ev.has_parent);

	/* Kernels before 4.18 sent no parent. */
	n = build(m, sizeof(m), CN_EV_COREDUMP, w, 2);
	assert_int_equal(decode_one(m, n, &ev), DECODE_OK);
	assert_int_equal(ev.pid, 70);
	assert_false(ev.has_parent);
	assert_int_equal(ev.ppid, 0);
}

static void
test_exit(void **state)
{
	uint8_t m[BUF];
	uint32_t w[] = { 88000, 87000, 0x8b00, 17, 500000, 400000 };
	struct cn_event ev;
	size_t n = build(m, sizeof(m), CN_EV_EXIT, w, 6);

	assert_int_equal(decode_one(m, n, &ev), DECODE_OK);
	assert_header(&ev, CN_EV_EXIT);
	assert_int_equal(ev.action, EV_EXIT);
	assert_int_equal(ev.pid, 88000);
	assert_int_equal(ev.tgid, 87000);
	assert_int_equal(ev.exit_status, 0x8b00);
	assert_int_equal(ev.exit_signal, 17);
	assert_int_equal(ev.ppid, 500000);
	assert_int_equal(ev.ptgid, 400000);
	assert_true(ev.has_parent);

	n = build(m, sizeof(m), CN_EV_EXIT, w, 4);
	assert_int_equal(decode_one(m, n, &ev), DECODE_OK);
	assert_int_equal(ev.exit_status, 0x8b00);
	assert_false(ev.has_parent);
}

static void
test_ack(void **state)
{
	uint8_t m[BUF];
	uint32_t w[] = { 0x10016 };
	struct cn_event ev;
	size_t n = build(m, sizeof(m), CN_EV_NONE, w, 1);

	/* cn_msg.ack is at offset 28; the kernel echoes seq + 1 there. */
	uint32_t ack = 0x10078;
	memcpy(m + 28, &ack, 4);
	assert_int_equal(decode_one(m, n, &ev), DECODE_ACK);
	assert_int_equal(ev.ack_err, 0x10016);
	assert_int_equal(ev.ack_seq, 77);
	assert_int_equal(ev.ack_ack, 0x10078);
	assert_int_equal(ev.action, EV_NONE);
}

/* Every type one byte short of its minimum body is refused, not half-read. */
static void
test_short_bodies(void **state)
{
	static const struct {
		uint32_t what;
		size_t min;
	} t[] = {
		{ CN_EV_NONE, 4 }, { CN_EV_FORK, 16 }, { CN_EV_EXEC, 8 }, { CN_EV_UID, 16 },
		{ CN_EV_GID, 16 }, { CN_EV_SID, 8 }, { CN_EV_PTRACE, 16 }, { CN_EV_COMM, 24 },
		{ CN_EV_COREDUMP, 8 }, { CN_EV_EXIT, 16 },
	};
	uint8_t m[BUF], payload[32];
	struct cn_event ev;

	memset(payload, 0x41, sizeof(payload));
	for (size_t i = 0; i < UNIT_COUNT(t); i++) {
		for (size_t len = 0; len < t[i].min; len++) {
			size_t n = decode_build_msg(m, sizeof(m), t[i].what, 0, 0, 0,
			    payload, len);
			if (decode_one(m, n, &ev) != DECODE_TRUNCATED)
				fail_msg("what %#x with %zu-byte body not refused",
				    t[i].what, len);
		}
		size_t n = decode_build_msg(m, sizeof(m), t[i].what, 0, 0, 0,
		    payload, t[i].min);
		enum decode_result r = decode_one(m, n, &ev);
		assert_int_equal(r, t[i].what == CN_EV_NONE ? DECODE_ACK : DECODE_OK);
	}
}

static void
test_unknown_type(void **state)
{
	static const uint32_t unknown[] = { CN_EV_NONZERO_EXIT, 0x8, 0x10, 0x400,
	    0xffffffffu, CN_EV_FORK | CN_EV_EXEC };
	uint8_t m[BUF];
	uint32_t w[6] = { 1, 2, 3, 4, 5, 6 };
	struct cn_event ev;

	for (size_t i = 0; i < UNIT_COUNT(unknown); i++) {
		size_t n = build(m, sizeof(m), unknown[i], w, 6);
		assert_int_equal(decode_one(m, n, &ev), DECODE_UNKNOWN);
		assert_int_equal(ev.action, EV_NONE);
	}
}

static void
test_not_proc(void **state)
{
	uint8_t m[BUF];
	uint32_t w[] = { 1, 1 }, v;
	struct cn_event ev;
	size_t n = build(m, sizeof(m), CN_EV_EXEC, w, 2);

	v = 2;				/* cn_msg.id.idx */
	memcpy(m + 16, &v, 4);
	assert_int_equal(decode_one(m, n, &ev), DECODE_NOT_PROC);
	v = 1;
	memcpy(m + 16, &v, 4);
	v = 9;				/* cn_msg.id.val */
	memcpy(m + 20, &v, 4);
	assert_int_equal(decode_one(m, n, &ev), DECODE_NOT_PROC);
}

static void
test_cn_len_lies(void **state)
{
	uint8_t m[BUF];
	uint32_t w[] = { 1, 1 };
	struct cn_event ev;
	size_t n = build(m, sizeof(m), CN_EV_EXEC, w, 2);
	uint16_t dlen;

	memcpy(&dlen, m + 32, 2);
	assert_int_equal(dlen, PE_WIRE_HDR + 8);
	dlen++;				/* one more than the netlink message holds */
	memcpy(m + 32, &dlen, 2);
	assert_int_equal(decode_one(m, n, &ev), DECODE_BAD_LENGTH);
	dlen = 0xffff;
	memcpy(m + 32, &dlen, 2);
	assert_int_equal(decode_one(m, n, &ev), DECODE_BAD_LENGTH);
	/* A cn length shorter than the proc_event header. */
	dlen = PE_WIRE_HDR - 1;
	memcpy(m + 32, &dlen, 2);
	assert_int_equal(decode_one(m, n, &ev), DECODE_TRUNCATED);
	/* A cn length shorter than the exec body. */
	dlen = PE_WIRE_HDR + 7;
	memcpy(m + 32, &dlen, 2);
	assert_int_equal(decode_one(m, n, &ev), DECODE_TRUNCATED);
	/* nlmsg_len too short for the cn_msg header. */
	uint32_t nl = NL_WIRE_HDR + CN_WIRE_HDR - 1;
	memcpy(m, &nl, 4);
	assert_int_equal(decode_one(m, nl, &ev), DECODE_TRUNCATED);
}

static void
test_netlink_header_lies(void **state)
{
	uint8_t m[BUF];
	uint32_t w[] = { 1, 1 }, nl;
	struct cn_event ev;
	size_t n = build(m, sizeof(m), CN_EV_EXEC, w, 2), left;
	const uint8_t *p;

	/* nlmsg_len below the header: the rest of the datagram is dropped. */
	for (nl = 0; nl < NL_WIRE_HDR; nl++) {
		memcpy(m, &nl, 4);
		p = m;
		left = n;
		assert_int_equal(decode_next(&p, &left, &ev), DECODE_BAD_LENGTH);
		assert_int_equal(left, 0);
	}
	/* nlmsg_len beyond what was received. */
	nl = (uint32_t)n + 1;
	memcpy(m, &nl, 4);
	p = m;
	left = n;
	assert_int_equal(decode_next(&p, &left, &ev), DECODE_TRUNCATED);
	assert_int_equal(left, 0);
	nl = 0xffffffffu;
	memcpy(m, &nl, 4);
	p = m;
	left = n;
	assert_int_equal(decode_next(&p, &left, &ev), DECODE_TRUNCATED);
	assert_int_equal(left, 0);
	/* Fewer bytes than a netlink header. */
	for (size_t k = 0; k < NL_WIRE_HDR; k++) {
		p = m;
		left = k;
		assert_int_equal(decode_next(&p, &left, &ev), DECODE_TRUNCATED);
		assert_int_equal(left, 0);
	}
}

static void
test_control_messages(void **state)
{
	static const uint16_t types[] = { NLMSG_NOOP, NLMSG_ERROR, NLMSG_OVERRUN };
	uint8_t m[BUF];
	uint32_t w[] = { 1, 1 };
	struct cn_event ev;
	size_t n = build(m, sizeof(m), CN_EV_EXEC, w, 2);

	for (size_t i = 0; i < UNIT_COUNT(types); i++) {
		memcpy(m + 4, &types[i], 2);
		assert_int_equal(decode_one(m, n, &ev), DECODE_CONTROL);
	}
	/* A bare header is a complete control message. */
	uint32_t nl = NL_WIRE_HDR;
	memcpy(m, &nl, 4);
	assert_int_equal(decode_one(m, NL_WIRE_HDR, &ev), DECODE_CONTROL);
}

/* Several messages in one datagram, with NLMSG_ALIGN padding between them. */
static void
test_multi_message_datagram(void **state)
{
	uint8_t d[BUF], m[BUF];
	uint32_t fork_w[] = { 1, 1, 2, 2 };
	uint8_t odd[9] = { 3, 0, 0, 0, 3, 0, 0, 0, 0x5a };
	size_t off = 0, n, left;
	const uint8_t *p;
	struct cn_event ev;

	n = build(m, sizeof(m), CN_EV_FORK, fork_w, 4);
	memcpy(d + off, m, n);
	off += NLMSG_ALIGN(n);
	/* A 9-byte exec body makes a length that needs padding. */
	n = decode_build_msg(m, sizeof(m), CN_EV_EXEC, 0, 78, 0, odd, sizeof(odd));
	assert_int_not_equal(n % NLMSG_ALIGNTO, 0);
	memset(d + off, 0xee, NLMSG_ALIGN(n));
	memcpy(d + off, m, n);
	off += NLMSG_ALIGN(n);
	/* The last one unpadded: the datagram may end right after it. */
	n = decode_build_msg(m, sizeof(m), CN_EV_EXIT, 0, 79, 0, odd, sizeof(odd) - 1);
	size_t last_len = n;
	memcpy(d + off, m, n);
	off += n;

	p = d;
	left = off;
	assert_int_equal(decode_next(&p, &left, &ev), DECODE_OK);
	assert_int_equal(ev.action, EV_FORK);
	assert_int_equal(ev.pid, 2);
	assert_int_equal(decode_next(&p, &left, &ev), DECODE_OK);
	assert_int_equal(ev.action, EV_EXEC);
	assert_int_equal(ev.pid, 3);
	assert_int_equal(ev.seq, 78);
	assert_int_equal(left, last_len);
	/* 8 bytes is less than the old 16-byte exit body. */
	assert_int_equal(decode_next(&p, &left, &ev), DECODE_TRUNCATED);
	assert_int_equal(left, 0);
	assert_ptr_equal(p, d + off);
}

/* The decoder reads fields with memcpy, so any start address works. */
static void
test_unaligned_buffer(void **state)
{
	uint8_t m[BUF], *u = malloc(BUF + 3);
	uint32_t w[] = { 11, 12, 13, 14, 15, 16 };
	struct cn_event ev;
	size_t n = build(m, sizeof(m), CN_EV_EXIT, w, 6);

	assert_non_null(u);
	for (size_t shift = 1; shift < 4; shift++) {
		memcpy(u + shift, m, n);
		assert_int_equal(decode_one(u + shift, n, &ev), DECODE_OK);
		assert_int_equal(ev.pid, 11);
		assert_int_equal(ev.ptgid, 16);
	}
	free(u);
}

static void
test_build_msg_bounds(void **state)
{
	uint8_t m[BUF];
	uint32_t w[] = { 1, 2 };
	size_t need = NL_WIRE_HDR + CN_WIRE_HDR + PE_WIRE_HDR + 8;

	assert_int_equal(build(m, need - 1, CN_EV_EXEC, w, 2), 0);
	assert_int_equal(build(m, need, CN_EV_EXEC, w, 2), need);
	/* The cn_msg length field is 16 bits. */
	uint8_t *big = calloc(1, 70000), *payload = calloc(1, 0x10000);
	assert_non_null(big);
	assert_non_null(payload);
	assert_int_equal(decode_build_msg(big, 70000, CN_EV_EXEC, 0, 0, 0, payload,
	    0x10000 - PE_WIRE_HDR), 0);
	assert_int_equal(decode_build_msg(big, 70000, CN_EV_EXEC, 0, 0, 0, payload,
	    0xffff - PE_WIRE_HDR), NL_WIRE_HDR + CN_WIRE_HDR + 0xffff);
	free(payload);
	free(big);
}

static void
test_result_names(void **state)
{
	static const char *want[] = { "ok", "ack", "control", "truncated",
	    "bad_length", "not_proc", "unknown_type" };
	assert_int_equal(UNIT_COUNT(want), DECODE_RESULT_MAX);
	for (int r = 0; r < DECODE_RESULT_MAX; r++)
		assert_string_equal(decode_result_name((enum decode_result)r), want[r]);
	assert_string_equal(decode_result_name(DECODE_RESULT_MAX), "invalid");
	assert_string_equal(decode_result_name((enum decode_result)1000), "invalid");
}

/* Walks a datagram the way the capture thread does, checking the invariants. */
static void
check_walk(const uint8_t *data, size_t len)
{
	const uint8_t *p = data;
	size_t left = len;
	int guard = 0;

	while (left > 0) {
		struct cn_event ev;
		const uint8_t *before = p;
		size_t left_before = left;
		enum decode_result r = decode_next(&p, &left, &ev);

		assert_true(r >= DECODE_OK && r < DECODE_RESULT_MAX);
		assert_true(left < left_before);		/* progress */
		assert_true(p >= before && p <= data + len);
		if (left > 0)		/* consumed exactly what it skipped */
			assert_ptr_equal(p, before + (left_before - left));
		if (r == DECODE_OK) {
			assert_true(ev.action > EV_NONE && ev.action <= EV_EXIT);
			assert_true(ev.what != CN_EV_NONE);
		}
		if (r == DECODE_ACK)
			assert_int_equal(ev.what, CN_EV_NONE);
		assert_true(++guard <= (int)(len / NL_WIRE_HDR) + 1);
	}
}

/* Random corruptions of valid messages, checked against the invariants. */
static void
test_mutations(void **state)
{
	static const uint32_t whats[] = { CN_EV_NONE, CN_EV_FORK, CN_EV_EXEC, CN_EV_UID,
	    CN_EV_GID, CN_EV_SID, CN_EV_PTRACE, CN_EV_COMM, CN_EV_COREDUMP, CN_EV_EXIT };
	uint64_t s = 88172645463325252ull;
	uint8_t m[BUF];
	uint32_t w[6] = { 1, 2, 3, 4, 5, 6 };

	for (int iter = 0; iter < 50000; iter++) {
		s ^= s << 13; s ^= s >> 7; s ^= s << 17;
		size_t n = build(m, sizeof(m), whats[s % UNIT_COUNT(whats)], w,
		    (s >> 8) % 7);
		size_t flips = (s >> 16) % 4;
		for (size_t f = 0; f < flips; f++) {
			s ^= s << 13; s ^= s >> 7; s ^= s << 17;
			m[s % n] = (uint8_t)(s >> 32);
		}
		/* Exact size, cut anywhere: an overread would show under ASan. */
		size_t len = (s >> 40) % (n + 1);
		uint8_t *exact = malloc(len ? len : 1);
		assert_non_null(exact);
		memcpy(exact, m, len);
		check_walk(exact, len);
		free(exact);
	}
}

/* Seeds are named after the action of their first message. */
static void
replay_one(const char *name, const char *buf, size_t len, void *arg)
{
	const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	bool *saw = arg;

	print_message("replay %s (%zu bytes)\n", name, len);
	check_walk((const uint8_t *)buf, len);
	for (int a = EV_FORK; a <= EV_EXIT; a++) {
		const char *an = ev_action_name((enum ev_action)a);
		size_t l = strlen(an);
		if (saw && strncmp(base, an, l) == 0 && (base[l] == '.' || base[l] == '-')) {
			const uint8_t *p = (const uint8_t *)buf;
			size_t left = len;
			struct cn_event ev;
			assert_int_equal(decode_next(&p, &left, &ev), DECODE_OK);
			assert_int_equal(ev.action, a);
			saw[a] = true;
		}
	}
}

static void
test_replay_fuzz_inputs(void **state)
{
	bool saw[EV_ACTION_MAX] = { false };

	assert_true(unit_for_each_file(HIDS_FUZZ_DIR "/corpus/decode", replay_one, saw) > 0);
	for (int a = EV_FORK; a <= EV_EXIT; a++)
		if (!saw[a])
			fail_msg("no seed for %s in corpus/decode", ev_action_name((enum ev_action)a));
	unit_for_each_file(HIDS_FUZZ_DIR "/regressions/decode", replay_one, NULL);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fork),
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_uid_gid),
		cmocka_unit_test(test_sid),
		cmocka_unit_test(test_ptrace),
		cmocka_unit_test(test_comm),
		cmocka_unit_test(test_coredump),
		cmocka_unit_test(test_exit),
		cmocka_unit_test(test_ack),
		cmocka_unit_test(test_short_bodies),
		cmocka_unit_test(test_unknown_type),
		cmocka_unit_test(test_not_proc),
		cmocka_unit_test(test_cn_len_lies),
		cmocka_unit_test(test_netlink_header_lies),
		cmocka_unit_test(test_control_messages),
		cmocka_unit_test(test_multi_message_datagram),
		cmocka_unit_test(test_unaligned_buffer),
		cmocka_unit_test(test_build_msg_bounds),
		cmocka_unit_test(test_result_names),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_replay_fuzz_inputs),
	};
	return unit_main(argc, argv, "decode", tests, UNIT_COUNT(tests), NULL, 0);
}
