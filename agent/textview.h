/*
 * textview.h: the agent's JSON lines as text for people, one line per
 * event (hids-agent --format text, and --read FILE for lines a collector
 * received). The formatting is pure: JSON line in, text line out, with a
 * small bounded memory of recently seen processes for the indentation.
 */
#ifndef HIDS_TEXTVIEW_H
#define HIDS_TEXTVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "output.h"

#define TEXTVIEW_CACHE_SLOTS 4096	/* processes remembered for indentation, by pid */
#define TEXTVIEW_MAX_DEPTH 12		/* indentation levels shown; deeper ones stay at the last */
#define TEXTVIEW_MAX_LINE (4u << 20)	/* longest input line --read accepts */
#define TEXTVIEW_ERR_LINES 100		/* invalid lines reported one by one; later ones only counted */

struct textview;

/* What --read saw. */
struct textview_read_stats {
	uint64_t lines;		/* input lines, blank ones included */
	uint64_t events;	/* lines shown */
	uint64_t invalid;	/* lines that were not an event of the agent */
};

/* textview.c */
struct textview *textview_new(bool color);
void textview_free(struct textview *tv);
int textview_format(struct textview *tv, const char *line, size_t len, const char **out,
    size_t *outlen, char *err, size_t errlen);
int textview_read(struct textview *tv, int fd, const char *name, struct output *out,
    FILE *errf, struct textview_read_stats *st);

#endif
