/*
 * bench_filter.c: the cost of filter rules per event. For 0, 1, 10 and 50
 * rules it times filter_event() on an exec that no rule matches (every
 * rule is tried: the worst case for an exec that is reported), on an exec
 * the last rule suppresses, and on an exit (which only reads the decision
 * the exec left). Prints a markdown table; a benchmark, not a test.
 *
 * usage: bench_filter [ITERATIONS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "config.h"
#include "filter.h"
#include "proctab.h"

static const char argv_gcc[] = "gcc\0-O2\0-g\0-Wall\0-Wextra\0-c\0-o\0build/obj/agent/filter.o\0"
    "-Iagent\0-Iproto\0agent/filter.c";

/* Builds n rules like an operator's: exe globs, and a cmdline on every fifth. */
static char *
rules_text(int n, const char *last_exe)
{
	size_t cap = 256 + (size_t)n * 160, len = 0;
	char *t = xmalloc(cap);

	len += (size_t)snprintf(t + len, cap - len, "[filter]\nsummary_interval = 60\n");
	for (int i = 0; i < n; i++) {
		len += (size_t)snprintf(t + len, cap - len, "[filter r%d]\nexe = %s\n", i,
		    i == n - 1 && last_exe ? last_exe : "/opt/tool*/bin/*, /srv/ci/**");
		if (i % 5 == 4)
			len += (size_t)snprintf(t + len, cap - len, "cmdline = *--flag%d*\n", i);
	}
	return t;
}

/* Fills ev as the exec of /usr/bin/gcc-12 with a typical compile line. */
static void
make_exec(struct hids_event *ev, int32_t pid)
{
	hids_event_init(ev);
	ev->k.action = EV_EXEC;
	ev->k.tgid = pid;
	ev->proc.pid = pid;
	ev->proc.executable = xstrdup("/usr/bin/x86_64-linux-gnu-gcc-12");
	ev->proc.args = xmemdup(argv_gcc, sizeof(argv_gcc));
	ev->proc.args_len = sizeof(argv_gcc);
	ev->proc.args_count = 11;
	ev->proc.known = PF_EXE | PF_ARGS | PF_IDS | PF_CONTAINER | PF_CAPS;
	snprintf(ev->proc.entity_id, sizeof(ev->proc.entity_id), "bench-entity-%d", (int)pid);
	ev->has_parent = true;
	ev->parent.executable = xstrdup("/usr/bin/make");
	ev->parent.known = PF_EXE;
}

/* Returns nanoseconds per filter_event call over iters calls on ev. */
static double
time_events(struct filter *f, struct proctab *tab, struct hids_event *ev, long iters)
{
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
	uint8_t filt = ev->proc.filt;
	uint16_t rule = ev->proc.filt_rule;

	for (long i = 0; i < iters; i++) {
		ev->proc.filt = filt;
		ev->proc.filt_rule = rule;
		(void)filter_event(f, tab, ev, -1);
	}
	return (double)(clock_ns(CLOCK_MONOTONIC) - t0) / (double)iters;
}

/* Times the three cases for n rules; fills ns[3]. */
static void
bench_rules(int n, long iters, double ns[3])
{
	struct config c;
	struct filter f;
	struct proctab tab;
	struct hids_event ev;
	char *text = rules_text(n, "/usr/bin/x86_64-linux-gnu-gcc-*");

	/* Unmatched: every rule but the last is tried and fails; the last is not gcc's. */
	config_defaults(&c);
	char *miss = rules_text(n, NULL);
	if (config_load_string(&c, miss, "bench", stderr) == -1)
		exit(1);
	proctab_init(&tab, 64, 4096, "bench");
	filter_init(&f);
	filter_install(&f, &c.filter, &tab);
	make_exec(&ev, 100);
	proctab_set(&tab, proctab_upsert(&tab, 100), &ev.proc);
	ns[0] = time_events(&f, &tab, &ev, iters);
	hids_event_release(&ev);
	filter_release(&f);
	config_release(&c);
	free(miss);

	/* Matched by the last rule, then the process's exit. */
	config_defaults(&c);
	if (config_load_string(&c, text, "bench", stderr) == -1)
		exit(1);
	filter_init(&f);
	filter_install(&f, &c.filter, &tab);
	make_exec(&ev, 100);
	ns[1] = n ? time_events(&f, &tab, &ev, iters) : ns[0];
	ev.k.action = EV_EXIT;
	ns[2] = time_events(&f, &tab, &ev, iters);
	hids_event_release(&ev);
	filter_release(&f);
	config_release(&c);
	proctab_release(&tab);
	free(text);
}

int
main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 200000;
	int counts[] = { 0, 1, 10, 50 };
	double base[3] = { 0, 0, 0 };

	if (iters <= 0) {
		fprintf(stderr, "usage: bench_filter [ITERATIONS]\n");
		return 2;
	}
	printf("| rules | exec, no rule matches (ns) | exec, last rule suppresses (ns) | "
	    "exit of that process (ns) | per rule, exec (ns) |\n|---|---|---|---|---|\n");
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		double ns[3];
		bench_rules(counts[i], iters, ns);
		if (counts[i] == 0)
			memcpy(base, ns, sizeof(base));
		char per[32] = "—";
		if (counts[i])
			snprintf(per, sizeof(per), "%.0f", (ns[0] - base[0]) / counts[i]);
		printf("| %d | %.0f | %.0f | %.0f | %s |\n", counts[i], ns[0], ns[1], ns[2], per);
	}
	return 0;
}
