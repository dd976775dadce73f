/*
 * unit.h: the main() every unit test shares. It runs the module's regular
 * tests, or, with --known-bug NAME, the one test that demonstrates a
 * reported and not yet fixed bug. ctest registers those with WILL_FAIL, so
 * the suite stays green while the bug is open and turns red (an unexpected
 * pass) once it is fixed, which is the cue to move the test to the regular
 * group. Not for anything else: each test file keeps its own helpers.
 */
#ifndef HIDS_UNIT_H
#define HIDS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

#include <cmocka.h>

#define UNIT_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Runs the regular group, or the known-bug test named by --known-bug NAME. */
static inline int
unit_main(int argc, char **argv, const char *group,
    const struct CMUnitTest *tests, size_t ntests,
    const struct CMUnitTest *bugs, size_t nbugs)
{
	if (argc == 3 && strcmp(argv[1], "--known-bug") == 0) {
		for (size_t i = 0; i < nbugs; i++)
			if (strcmp(bugs[i].name, argv[2]) == 0)
				return _cmocka_run_group_tests(argv[2], &bugs[i], 1,
				    NULL, NULL);
		/* Exit 0 so that the WILL_FAIL entry shows the misspelling. */
		fprintf(stderr, "%s: no known-bug test named %s\n", argv[0], argv[2]);
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: %s [--known-bug NAME]\n", argv[0]);
		return 2;
	}
	return _cmocka_run_group_tests(group, tests, ntests, NULL, NULL);
}

/* Reads a whole file into a new buffer (NUL-terminated, not counted); NULL on error. */
static inline char *
unit_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (f == NULL)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			cap = (n + 4096 + 1) * 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/*
 * Calls fn on the bytes of every regular file in dir (sorted by name, so a
 * failure names the same file each run); returns how many it read. A
 * missing dir counts as empty.
 */
static inline size_t
unit_for_each_file(const char *dir, void (*fn)(const char *name,
    const char *buf, size_t len, void *arg), void *arg)
{
	struct dirent **list;
	size_t count = 0;
	int n = scandir(dir, &list, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat sb;
		size_t len;
		char *buf;

		snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
		if (list[i]->d_name[0] != '.' && stat(path, &sb) == 0 &&
		    S_ISREG(sb.st_mode)) {
			if ((buf = unit_read_file(path, &len)) != NULL) {
				fn(path, buf, len, arg);
				free(buf);
				count++;
			}
		}
		free(list[i]);
	}
	if (n >= 0)
		free(list);
	return count;
}

#endif
