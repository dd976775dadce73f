/*
 * jpath.h: the JSON value at a dotted path ("process.parent.pid") in a
 * document parsed with json-c, for the tests that read the agent's lines
 * back. Header-only: each test links json-c itself.
 */
#ifndef HIDS_TESTS_JPATH_H
#define HIDS_TESTS_JPATH_H

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

/* Returns the value at path under root, or NULL when any step is missing. */
static inline json_object *
jget(json_object *root, const char *path)
{
	char buf[256], *save = NULL;
	json_object *o = root;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
		if (o == NULL || !json_object_object_get_ex(o, k, &o))
			return NULL;
	return o;
}

#endif
