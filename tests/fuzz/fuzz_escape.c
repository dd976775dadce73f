/*
 * fuzz_escape.c: the escaping round trip on arbitrary bytes. For any input,
 * bytes_escape must give UTF-8 that needs no further escape (utf8_plain:
 * valid, no misleading code point) and bytes_unescape must give back
 * exactly the input. Also checks utf8_valid_prefix and
 * utf8_truncate against their contracts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	size_t elen = 0, ulen = 0;
	char *e = bytes_escape(s, size, &elen);
	char *back = malloc(elen + 1);

	if (back == NULL)
		abort();
	if (strlen(e) != elen || elen > size * 4)
		abort();
	if (!utf8_valid(e, elen) || !utf8_plain(e, elen))
		abort();
	if (bytes_unescape(e, elen, back, &ulen) != 0)
		abort();
	if (ulen != size || memcmp(back, data, size) != 0)
		abort();
	/* Plain input passes through bytes_escape unchanged but for backslashes. */
	if (utf8_plain(s, size) && memchr(s, '\\', size) == NULL &&
	    (elen != size || memcmp(e, s, size) != 0))
		abort();
	free(back);
	free(e);

	size_t pre = utf8_valid_prefix(data, size);
	if (pre > size || !utf8_valid(s, pre))
		abort();
	if ((pre == size) != utf8_valid(s, size))
		abort();
	for (size_t max = 0; max <= size && max < 8; max++) {
		size_t cut = utf8_truncate(s, size, size - max);
		if (cut > size - max || size - max - cut > 3)
			abort();
		if (utf8_valid(s, size) && !utf8_valid(s, cut))
			abort();
	}
	if (utf8_plain(s, size) && (!utf8_valid(s, size) || !utf8_plain_args(s, size)))
		abort();
	/* Arbitrary text through the decoder side too; it may refuse, not crash. */
	back = malloc(size + 1);
	if (back == NULL)
		abort();
	if (bytes_unescape(s, size, back, &ulen) == 0 && ulen > size)
		abort();
	free(back);
	return 0;
}
