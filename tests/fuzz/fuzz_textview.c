/*
 * fuzz_textview.c: the text view on arbitrary input lines. For any bytes,
 * textview_format must either refuse the line or give text in which no
 * byte could drive a terminal: no control byte but the newlines that end
 * its lines, no DEL, no C1 control, valid UTF-8 throughout. With colour on,
 * it must not crash either.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "textview.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts if text holds anything a terminal would act on. */
static void
check_terminal_safe(const char *text, size_t n)
{
	if (n == 0 || text[n - 1] != '\n')
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];
		if ((c < 0x20 && c != '\n') || c == 0x7f)
			abort();
	}
	if (!utf8_valid(text, n) || !utf8_plain(text, n))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct textview *plain, *colour;
	const char *text;
	size_t n;
	char err[160];

	if (plain == NULL) {
		plain = textview_new(false);
		colour = textview_new(true);
	}
	if (textview_format(plain, (const char *)data, size, &text, &n, err, sizeof(err)) == 0)
		check_terminal_safe(text, n);
	else if (memchr(err, '\0', sizeof(err)) == NULL)
		abort();
	(void)textview_format(colour, (const char *)data, size, &text, &n, err, sizeof(err));
	return 0;
}
