/*
 * output.h: where encoded lines go. Today: standard output, batched into
 * large writes. Log lines never go here.
 */
#ifndef HIDS_OUTPUT_H
#define HIDS_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#define OUTPUT_FLUSH_BYTES 65536	/* write out once this much is buffered */

struct output {
	int fd;
	char *buf;
	size_t len, cap;
	bool broken;		/* the reader went away */
};

/* output.c */
void output_init(struct output *o, int fd);
void output_release(struct output *o);
void output_line(struct output *o, const char *line, size_t len);
int output_flush(struct output *o);

#endif
