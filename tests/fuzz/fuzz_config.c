/*
 * fuzz_config.c: config_load_string on arbitrary text, with no errout. The
 * parser must return 0 or -1, leave a config the agent could run with, and
 * own nothing that config_release does not free (LeakSanitizer checks).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct config c;
	int rc;

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	config_defaults(&c);
	rc = config_load_string(&c, text, "fuzz", NULL);
	if (rc != 0 && rc != -1)
		abort();
	if (c.max_line_bytes != 0 && c.max_line_bytes < 1024)
		abort();
	if (c.emit_mask == 0 || (c.emit_mask & ~CN_EV_ALL) != 0)
		abort();
	if (c.cap.prio_value < -20 || c.cap.prio_value > 99)
		abort();
	if (c.cap.rcvbuf < (64u << 10) || c.max_args_bytes < 256)
		abort();
	(void)config_kernel_mask(&c);
	config_release(&c);
	free(text);
	return 0;
}
