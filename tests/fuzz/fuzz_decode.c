/*
 * fuzz_decode.c: decode_next over arbitrary datagrams. Besides memory
 * errors (the input buffer is exactly the fuzzer's bytes, so ASan sees any
 * overread), it checks the walk invariants the capture thread relies on:
 * every call makes progress, never consumes more than is left, and a
 * decoded event is a known action.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t left = size;
	size_t calls = 0;

	while (left > 0) {
		struct cn_event ev;
		const uint8_t *before = p;
		size_t left_before = left;
		enum decode_result r = decode_next(&p, &left, &ev);

		if (r >= DECODE_RESULT_MAX)
			abort();
		if (left >= left_before)		/* no progress, or grew */
			abort();
		if (p < before || p > data + size)	/* moved outside the input */
			abort();
		if (left > 0 && p != before + (left_before - left))
			abort();			/* skipped bytes it did not count */
		if (r == DECODE_OK && (ev.action <= EV_NONE || ev.action > EV_EXIT ||
		    ev.what == CN_EV_NONE))
			abort();
		if (r == DECODE_ACK && ev.what != CN_EV_NONE)
			abort();
		if (ev.comm[16] != '\0')
			abort();
		if (++calls > size / NL_WIRE_HDR + 1)	/* each call eats a header */
			abort();
		(void)decode_result_name(r);
	}
	/* The body decoder alone, on the same bytes. */
	if (size > 0) {
		struct cn_event ev;
		memset(&ev, 0, sizeof(ev));
		(void)decode_proc_event(data, size, &ev);
	}
	return 0;
}
