/*
 * bigargv.c: execs itself COUNT times, one after another, with an argv of
 * ARGS arguments of 128 KiB each (several MB in all), each copy staying
 * alive for 60 ms so that a reader of its cmdline is not cut short by its
 * exit. "bigargv COUNT ARGS" runs the loop; "bigargv hold ..." is the copy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ARG_BYTES (128 * 1024 - 1)	/* MAX_ARG_STRLEN less the NUL */

int
main(int argc, char **argv)
{
	struct rlimit rl = { 64ul << 20, 64ul << 20 };	/* lets argv reach 6 MiB */
	struct timespec hold = { 0, 60 * 1000 * 1000 };
	char self[4096], **av, *arg;
	ssize_t n;
	int count, nargs;

	if (argc >= 2 && strcmp(argv[1], "hold") == 0) {
		nanosleep(&hold, NULL);
		return 0;
	}
	if (argc != 3 || (count = atoi(argv[1])) <= 0 || (nargs = atoi(argv[2])) <= 0) {
		fprintf(stderr, "usage: bigargv COUNT ARGS\n");
		return 2;
	}
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return 1;
	self[n] = '\0';
	if (setrlimit(RLIMIT_STACK, &rl) == -1)
		perror("bigargv: setrlimit");
	if ((arg = malloc(ARG_BYTES + 1)) == NULL || (av = calloc((size_t)nargs + 3,
	    sizeof(*av))) == NULL)
		return 1;
	memset(arg, 'y', ARG_BYTES);
	arg[ARG_BYTES] = '\0';
	av[0] = self;
	av[1] = "hold";
	for (int i = 0; i < nargs; i++)
		av[2 + i] = arg;
	for (int i = 0; i < count; i++) {
		int status;
		pid_t pid = fork();
		if (pid == 0) {
			execv(self, av);
			perror("bigargv: execv");
			_exit(127);
		}
		if (pid == -1 || waitpid(pid, &status, 0) != pid || status != 0) {
			fprintf(stderr, "bigargv: copy %d failed\n", i);
			count = -1;
			break;
		}
	}
	free(av);
	free(arg);
	return count < 0;
}
