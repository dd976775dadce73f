/*
 * gen_decode_seeds.c: writes the decode seed corpus (corpus/decode/), one
 * datagram per file, built with decode_build_msg as the kernel would send
 * it: one file per event type, the pre-4.18 short exit and coredump
 * bodies, a subscription ack, a control message and a datagram holding
 * several messages. The files are committed; rerun this only to change
 * them:
 *   cc -D_GNU_SOURCE -Iproto -Icommon tests/fuzz/gen_decode_seeds.c \
 *     proto/decode.c -o /tmp/gen && /tmp/gen tests/fuzz/corpus/decode
 */
#include <linux/netlink.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

/* Writes n bytes to dir/name, or exits. */
static void
put(const char *dir, const char *name, const uint8_t *buf, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(buf, 1, n, f) != n ||
	    fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* Builds one message of type what from 32-bit words and writes it. */
static size_t
seed(const char *dir, const char *name, uint32_t what, const uint32_t *w,
    size_t nw, uint8_t *out)
{
	size_t n = decode_build_msg(out, 512, what, 1, 1000, 5000000000ull, w,
	    nw * sizeof(uint32_t));
	if (n == 0) {
		fprintf(stderr, "%s: build failed\n", name);
		exit(1);
	}
	put(dir, name, out, n);
	return n;
}

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	uint8_t m[512], multi[2048];
	uint32_t comm[6] = { 1234, 1234 };
	size_t n, off = 0;

	seed(dir, "fork.bin", CN_EV_FORK, (uint32_t[]){ 1, 1, 1234, 1234 }, 4, m);
	seed(dir, "exec.bin", CN_EV_EXEC, (uint32_t[]){ 1234, 1234 }, 2, m);
	seed(dir, "uid_change.bin", CN_EV_UID, (uint32_t[]){ 1234, 1234, 1000, 0 }, 4, m);
	seed(dir, "gid_change.bin", CN_EV_GID, (uint32_t[]){ 1234, 1234, 100, 0 }, 4, m);
	seed(dir, "session_id_change.bin", CN_EV_SID, (uint32_t[]){ 1234, 1234 }, 2, m);
	seed(dir, "ptrace.bin", CN_EV_PTRACE, (uint32_t[]){ 1234, 1234, 999, 999 }, 4, m);
	memcpy(&comm[2], "kworker/0:1\0\0\0\0", 16);
	seed(dir, "comm.bin", CN_EV_COMM, comm, 6, m);
	seed(dir, "coredump.bin", CN_EV_COREDUMP, (uint32_t[]){ 1234, 1234, 1, 1 }, 4, m);
	seed(dir, "coredump-old.bin", CN_EV_COREDUMP, (uint32_t[]){ 1234, 1234 }, 2, m);
	seed(dir, "end.bin", CN_EV_EXIT, (uint32_t[]){ 1234, 1234, 0x8b, 17, 1, 1 }, 6, m);
	seed(dir, "end-old.bin", CN_EV_EXIT, (uint32_t[]){ 1234, 1234, 0x100, 17 }, 4, m);
	seed(dir, "ack.bin", CN_EV_NONE, (uint32_t[]){ 0 }, 1, m);

	n = seed(dir, "control-error.bin", CN_EV_EXEC, (uint32_t[]){ 1, 1 }, 2, m);
	uint16_t type = NLMSG_ERROR;
	memcpy(m + 4, &type, 2);
	put(dir, "control-error.bin", m, n);

	/* fork, exec with an odd body (padded), exit: one datagram. */
	n = decode_build_msg(m, sizeof(m), CN_EV_FORK, 0, 1, 1, (uint32_t[]){ 1, 1, 7, 7 }, 16);
	memcpy(multi + off, m, n);
	off += NLMSG_ALIGN(n);
	n = decode_build_msg(m, sizeof(m), CN_EV_EXEC, 0, 2, 2, "\7\0\0\0\7\0\0\0!", 9);
	memset(multi + off, 0, NLMSG_ALIGN(n));
	memcpy(multi + off, m, n);
	off += NLMSG_ALIGN(n);
	n = decode_build_msg(m, sizeof(m), CN_EV_EXIT, 0, 3, 3,
	    (uint32_t[]){ 7, 7, 0, 17, 1, 1 }, 24);
	memcpy(multi + off, m, n);
	off += n;
	put(dir, "fork-exec-exit.bin", multi, off);
	return 0;
}
