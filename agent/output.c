/*
 * output.c: buffered, blocking writes of whole lines to a file descriptor.
 * A line is written whole or not at all from the reader's point of view,
 * since the buffer is only cut at line ends.
 */
#include "output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

/* Sets up output to fd. */
void
output_init(struct output *o, int fd)
{
	memset(o, 0, sizeof(*o));
	o->fd = fd;
	o->cap = OUTPUT_FLUSH_BYTES * 2;
	o->buf = xmalloc(o->cap);
}

/* Flushes and frees. */
void
output_release(struct output *o)
{
	output_flush(o);
	free(o->buf);
	o->buf = NULL;
}

/* Appends one line (with its newline); flushes when the buffer is large. */
void
output_line(struct output *o, const char *line, size_t len)
{
	if (o->broken)
		return;
	if (o->len + len > o->cap) {
		output_flush(o);
		if (len > o->cap) {
			o->cap = len;
			o->buf = xrealloc(o->buf, o->cap);
		}
	}
	memcpy(o->buf + o->len, line, len);
	o->len += len;
	if (o->len >= OUTPUT_FLUSH_BYTES)
		output_flush(o);
}

/* Writes everything buffered; -1 if the reader is gone. */
int
output_flush(struct output *o)
{
	size_t off = 0;

	while (off < o->len && !o->broken) {
		ssize_t n = write(o->fd, o->buf + off, o->len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warn("cannot write events to the output");
			o->broken = true;
			break;
		}
		off += (size_t)n;
	}
	o->len = 0;
	return o->broken ? -1 : 0;
}
