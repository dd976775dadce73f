/*
 * bench_encode.c: the cost of one event line. Encodes, over and over, the
 * events a short-lived process costs the main thread (its fork, its exec
 * with every related process known, its end), filled as the agent fills
 * them on a login shell's child, and prints the line sizes and the time per
 * line. Under valgrind --tool=callgrind the instruction count per line is
 * repeatable where the time is not (see tests/bench/README.md). A benchmark,
 * not a test.
 *
 * usage: bench_encode [ITERATIONS]   (-p: print the three lines instead)
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "encode.h"
#include "event.h"

#define NS 1000000000ull
#define T0 1764633600ull	/* 2025-12-02T00:00:00Z */

static const char argv_exec[] = "curl\0-fsSL\0--retry\0003\0https://downloads.example.com/"
    "releases/v1.2.3/install.sh\0-o\0/tmp/install.sh";
static const char argv_bash[] = "-bash";
static const char env_exec[] = "PATH=/usr/local/bin:/usr/bin:/bin\0LD_PRELOAD=\0"
    "SSH_CONNECTION=192.0.2.10 53422 192.0.2.1 22";

/* Fills p as a process of user 1000 that runs exe with the given args. */
static void
fill(struct process *p, int32_t pid, const char *exe, const char *args, size_t args_len,
    uint32_t argc, uint64_t start_s)
{
	process_init(p);
	p->known = PF_ARGS | PF_EXE | PF_CWD | PF_STAT | PF_IDS | PF_NAME | PF_CONTAINER |
	    PF_CAPS | PF_PPID | PF_START | PF_EXE_ID | PF_AUDIT;
	p->pid = pid;
	p->ppid = pid - 1;
	p->pgid = p->sid = 4100;
	p->tty_nr = 34816;
	p->start_ns = (T0 + start_s) * NS + 123456789;
	snprintf(p->name, sizeof(p->name), "%s", strrchr(exe, '/') + 1);
	p->executable = xstrdup(exe);
	p->cwd = xstrdup("/home/alice/projects/site");
	p->exe_id.dev = 0x803;
	p->exe_id.ino = 1318512;
	p->exe_id.mode = 0100755;
	p->exe_id.size = 260328;
	p->args = xmemdup(args, args_len);	/* args_len: without the last NUL */
	p->args_len = args_len;
	p->args_count = argc;
	p->ids = (struct proc_ids){ 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000 };
	p->audit_uid = 1000;
	p->audit_sid = 3;
	p->entry.pid = 4000;
	p->entry.type = ENTRY_SSHD;
	p->entry.ip_family = 2;
	memcpy(p->entry.ip, "\xc0\x00\x02\x0a", 4);
	snprintf(p->entry.entity_id, sizeof(p->entry.entity_id), "Gx2mQv3AlqT0k9bq1d7PcEw4");
	p->cgroup = xstrdup("/user.slice/user-1000.slice/session-3.scope");
	snprintf(p->entity_id, sizeof(p->entity_id), "e%023d", (int)pid);
}

/* Fills ev as the exec of curl by alice's login shell over ssh. */
static void
make_exec(struct hids_event *ev)
{
	hids_event_init(ev);
	ev->k.action = EV_EXEC;
	ev->k.what = CN_EV_EXEC;
	ev->k.pid = ev->k.tgid = 4242;
	ev->k.ts_ns = 5 * NS + 987654321;
	fill(&ev->proc, 4242, "/usr/bin/curl", argv_exec, sizeof(argv_exec) - 1, 7, 5);
	ev->proc.hash_status = HASH_STATUS_DONE;
	ev->proc.hash_algs = HASH_ALG_SHA256 | HASH_ALG_SHA1 | HASH_ALG_MD5;
	memset(ev->proc.sha256, 0xab, sizeof(ev->proc.sha256));
	memset(ev->proc.sha1, 0xcd, sizeof(ev->proc.sha1));
	memset(ev->proc.md5, 0xef, sizeof(ev->proc.md5));
	ev->proc.env = xmemdup(env_exec, sizeof(env_exec));
	ev->proc.env_len = sizeof(env_exec) - 1;
	fill(&ev->parent, 4100, "/usr/bin/bash", argv_bash, sizeof(argv_bash) - 1, 1, 2);
	fill(&ev->previous, 4242, "/usr/bin/bash", argv_bash, sizeof(argv_bash) - 1, 1, 5);
	fill(&ev->session_leader, 4100, "/usr/bin/bash", argv_bash, sizeof(argv_bash) - 1, 1, 2);
	fill(&ev->group_leader, 4242, "/usr/bin/curl", argv_exec, sizeof(argv_exec) - 1, 7, 5);
	fill(&ev->entry_leader, 4000, "/usr/sbin/sshd", argv_bash, sizeof(argv_bash) - 1, 1, 1);
	ev->has_parent = ev->has_previous = true;
	ev->has_session_leader = ev->has_group_leader = ev->has_entry_leader = true;
	ev->user_name = ev->group_name = "alice";
	ev->parent_user_name = ev->parent_group_name = "alice";
	ev->audit_user_name = "alice";
	for (int i = 0; i < 3; i++)
		ev->leader_user_name[i] = "alice";
}

/* Returns ns per encode_event call over iters calls; the last line in *line, *len. */
static double
time_lines(struct encode_ctx *ctx, const struct hids_event *ev, long iters, char **line,
    size_t *len)
{
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC);

	for (long i = 0; i < iters; i++) {
		free(*line);
		*line = encode_event(ctx, ev, len);	/* a copy of the line, and its newline */
	}
	return (double)(clock_ns(CLOCK_MONOTONIC) - t0) / (double)iters;
}

int
main(int argc, char **argv)
{
	bool print = argc > 1 && strcmp(argv[1], "-p") == 0;
	long iters = print ? 1 : argc > 1 ? atol(argv[1]) : 100000;
	struct encode_ctx ctx;
	struct hids_event ev;
	struct { const char *name; enum ev_action a; } kinds[] = {
		{ "fork", EV_FORK }, { "exec", EV_EXEC }, { "end", EV_EXIT },
	};

	if (iters <= 0) {
		fprintf(stderr, "usage: bench_encode [ITERATIONS]\n");
		return 2;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.hostname = "web-1.example.com";
	ctx.host_id = "3d1219c7c4c5404aaa1f6d2a48adfda4";
	ctx.agent_id = "a6e54776ed6abf44ed3a7bc9b6c9c673";
	ctx.agent_version = "0.1.0";
	ctx.ephemeral_id = "2e337700c5fe147d";
	ctx.mono_to_real_ns = (int64_t)(T0 * NS);
	ctx.boot_to_real_ns = (int64_t)(T0 * NS);
	ctx.clk_tck = 100;
	make_exec(&ev);
	if (!print)
		printf("| event | line bytes | ns per line |\n|---|---:|---:|\n");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t len = 0;
		char *line = NULL;
		ev.k.action = kinds[i].a;
		ev.k.what = ev_action_kernel_bit(kinds[i].a);
		ev.has_previous = kinds[i].a == EV_EXEC;
		ev.duration_ns = kinds[i].a == EV_EXIT ? 2 * NS : 0;
		double ns = time_lines(&ctx, &ev, iters, &line, &len);
		if (print)
			fputs(line, stdout);
		else
			printf("| %s | %zu | %.0f |\n", kinds[i].name, len - 1, ns);
		free(line);
	}
	ev.has_previous = true;
	hids_event_release(&ev);
	encode_ctx_release(&ctx);
	return 0;
}
