/*
 * spawner.c: one worker of the benchmark's process storm.
 *
 *   spawner ID N TARGET RUNID
 *
 * forks and execs TARGET N times, one after the other, as fast as it can,
 * each child with the argv
 *
 *   [TARGET, "hidsbench-RUNID-ID-I", "x"]     (I = 0 .. N-1)
 *
 * and an empty environment, waiting for each child before starting the
 * next. Every argv is unique, so a collector's record of it can be checked
 * exactly. When done it prints one line "PID ID I" per child on standard
 * output, so the caller can tell which pids belong to the storm. It exits
 * 1 if any child failed to exec or exited non-zero, 2 on usage errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	const char *id, *target, *runid;
	char arg[128], *end;
	char *cargv[4], *cenv[1] = { NULL };
	pid_t *pids;
	long n, i, failed = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: spawner ID N TARGET RUNID\n");
		return 2;
	}
	id = argv[1];
	target = argv[3];
	runid = argv[4];
	errno = 0;
	n = strtol(argv[2], &end, 10);
	if (errno || *end || n < 1) {
		fprintf(stderr, "spawner: bad count '%s'\n", argv[2]);
		return 2;
	}
	if ((pids = calloc((size_t)n, sizeof(*pids))) == NULL) {
		perror("spawner: calloc");
		return 2;
	}
	cargv[0] = (char *)target;
	cargv[1] = arg;
	cargv[2] = "x";
	cargv[3] = NULL;

	for (i = 0; i < n; i++) {
		pid_t pid;
		int st;

		snprintf(arg, sizeof(arg), "hidsbench-%s-%s-%ld", runid, id, i);
		pid = fork();
		if (pid == 0) {
			execve(target, cargv, cenv);
			_exit(127);
		}
		if (pid == -1) {
			if (errno == EAGAIN || errno == ENOMEM) {
				struct timespec ts = { 0, 1000000 };
				nanosleep(&ts, NULL);
				i--;
				continue;
			}
			perror("spawner: fork");
			return 1;
		}
		while (waitpid(pid, &st, 0) == -1) {
			if (errno != EINTR) {
				perror("spawner: waitpid");
				return 1;
			}
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed++;
		pids[i] = pid;
	}
	for (i = 0; i < n; i++)
		printf("%ld %s %ld\n", (long)pids[i], id, i);
	if (fflush(stdout) == EOF) {
		perror("spawner: stdout");
		return 1;
	}
	if (failed) {
		fprintf(stderr, "spawner %s: %ld of %ld children failed\n", id, failed, n);
		return 1;
	}
	return 0;
}
