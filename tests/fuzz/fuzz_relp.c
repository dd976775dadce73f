/*
 * fuzz_relp.c: the RELP frame parser on arbitrary bytes, as a collector
 * could send them. It must never read past the input, a frame it accepts
 * must lie within what it consumed, every prefix of an accepted frame must
 * ask for more rather than yield a different frame, and parsing a stream
 * frame by frame must always make progress.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A heap copy of exactly size bytes, so ASan sees any over-read. */
	char *buf = malloc(size ? size : 1);
	size_t off = 0;

	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	while (off < size) {
		struct relp_frame f;
		size_t used = 0;
		const char *why = NULL;
		enum relp_parse_result r = relp_parse(buf + off, size - off, 4096, &f, &used, &why);
		if (r == RELP_NEED_MORE)
			break;
		if (r == RELP_BAD) {
			if (why == NULL)
				abort();	/* a refusal always says why */
			break;
		}
		if (used == 0 || used > size - off || f.datalen > 4096 ||
		    f.data < buf + off || f.data + f.datalen > buf + off + used ||
		    buf[off + used - 1] != '\n' || f.txnr > RELP_MAX_TXNR ||
		    strlen(f.command) == 0 || strlen(f.command) > RELP_MAX_COMMAND)
			abort();
		/* A shorter prefix of an accepted frame is never a frame. */
		struct relp_frame g;
		size_t u2;
		if (relp_parse(buf + off, used - 1, 4096, &g, &u2, &why) == RELP_FRAME)
			abort();
		int code = relp_rsp_code(&f);
		if (code != -1 && (code < 0 || code > 999))
			abort();
		off += used;
	}
	free(buf);
	return 0;
}
