/*
 * fuzz_procfs.c: procfs_parse_stat, procfs_parse_status,
 * procfs_parse_cgroup and (the host's own text file) osrelease_parse on
 * arbitrary bytes (the fuzzer's exact buffer, not NUL-terminated, so ASan
 * sees any overread). A container id, when found, must be 64 lowercase
 * hex digits; a comm at most 16 bytes; an os-release value at most
 * OSRELEASE_VALUE_MAX bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "osrelease.h"
#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct process p;
	char id[65];

	process_init(&p);
	if (procfs_parse_stat(s, size, &p) == 0) {
		if (strlen(p.name) > 16 || !(p.known & PF_STAT))
			abort();
	} else if (p.known != 0) {
		abort();			/* half-filled on failure */
	}
	process_init(&p);
	if (procfs_parse_status(s, size, &p) == 0 && !(p.known & PF_IDS))
		abort();
	if ((p.known & PF_NSPID) && p.ns_pid < 0)
		abort();
	memset(id, 'Z', sizeof(id));
	const char *cg = NULL;
	size_t cglen = 0;
	int r = procfs_parse_cgroup(s, size, id, &cg, &cglen);
	if (r == 0 && (id[64] != '\0' || strspn(id, "0123456789abcdef") != 64))
		abort();
	/* The path is a whole line's path, inside the input; there is one with an id. */
	if (r == 0 && cglen == 0)
		abort();
	if (cglen > 0 && (cg < s || cg + cglen > s + size || cg[0] != '/' ||
	    memchr(cg, '\n', cglen) != NULL))
		abort();
	(void)procfs_count_args(s, size);
	struct host_os os;
	int bad;
	host_os_init(&os);
	int set = osrelease_parse(s, size, &os, &bad);
	const char *v[] = { os.family, os.name, os.version, os.platform, os.full };
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (v[i] != NULL && (strlen(v[i]) > OSRELEASE_VALUE_MAX || v[i][0] == '\0'))
			abort();
	if (set < 0 || bad < 0)
		abort();
	host_os_release(&os);
	return 0;
}
