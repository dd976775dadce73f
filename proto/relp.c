/*
 * relp.c: RELP framing. The parser reads only what the header promises and
 * refuses anything outside the grammar in relp.h, so a hostile server can
 * neither make it buffer without bound nor read past what it received.
 */
#include "relp.h"

#include <stdio.h>
#include <string.h>

/* Reads up to max_digits decimal digits ending at a delimiter. */
static enum relp_parse_result
parse_number(const char *buf, size_t len, size_t *pos, unsigned max_digits,
    uint64_t *out, const char **why)
{
	uint64_t v = 0;
	unsigned n = 0;

	while (*pos < len && buf[*pos] >= '0' && buf[*pos] <= '9') {
		if (++n > max_digits) {
			*why = "number too long";
			return RELP_BAD;
		}
		v = v * 10 + (uint64_t)(buf[*pos] - '0');
		(*pos)++;
	}
	if (*pos == len)
		return RELP_NEED_MORE;
	if (n == 0) {
		*why = "number expected";
		return RELP_BAD;
	}
	*out = v;
	return RELP_FRAME;
}

/*
 * Parses one frame at the start of buf. RELP_FRAME fills f (data points
 * into buf) and *consumed; RELP_NEED_MORE asks for more bytes; RELP_BAD
 * sets *why. Frames with more than max_data bytes of data are bad.
 */
enum relp_parse_result
relp_parse(const char *buf, size_t len, size_t max_data, struct relp_frame *f,
    size_t *consumed, const char **why)
{
	size_t pos = 0, clen = 0;
	uint64_t txnr, dlen;
	enum relp_parse_result r;

	*why = NULL;
	if ((r = parse_number(buf, len, &pos, 9, &txnr, why)) != RELP_FRAME)
		return r;
	if (buf[pos++] != ' ' || txnr > RELP_MAX_TXNR) {
		*why = "bad transaction number";
		return RELP_BAD;
	}
	while (pos < len && buf[pos] != ' ') {
		char c = buf[pos];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) ||
		    clen == RELP_MAX_COMMAND) {
			*why = "bad command";
			return RELP_BAD;
		}
		f->command[clen++] = c;
		pos++;
	}
	if (pos == len)
		return RELP_NEED_MORE;
	if (clen == 0) {
		*why = "empty command";
		return RELP_BAD;
	}
	f->command[clen] = '\0';
	pos++;	/* SP */
	if ((r = parse_number(buf, len, &pos, 9, &dlen, why)) != RELP_FRAME)
		return r;
	if (dlen > max_data) {
		*why = "frame too large";
		return RELP_BAD;
	}
	if (dlen > 0) {
		if (buf[pos] != ' ') {
			*why = "space expected before data";
			return RELP_BAD;
		}
		pos++;
	}
	if (len - pos < dlen + 1)
		return RELP_NEED_MORE;
	if (buf[pos + dlen] != '\n') {
		*why = "frame not terminated by LF";
		return RELP_BAD;
	}
	f->txnr = (uint32_t)txnr;
	f->datalen = (size_t)dlen;
	f->data = buf + pos;
	*consumed = pos + dlen + 1;
	return RELP_FRAME;
}

/* Returns the status code at the start of a rsp frame's data, or -1. */
int
relp_rsp_code(const struct relp_frame *f)
{
	if (strcmp(f->command, "rsp") != 0 || f->datalen < 3)
		return -1;
	for (int i = 0; i < 3; i++)
		if (f->data[i] < '0' || f->data[i] > '9')
			return -1;
	if (f->datalen > 3 && f->data[3] != ' ' && f->data[3] != '\n')
		return -1;
	return (f->data[0] - '0') * 100 + (f->data[1] - '0') * 10 + (f->data[2] - '0');
}

/* Formats "TXNR CMD DATALEN " (or "TXNR CMD 0" for no data); returns its length. */
size_t
relp_format_header(char *out, size_t outlen, uint32_t txnr, const char *cmd, size_t datalen)
{
	int n = datalen ? snprintf(out, outlen, "%u %s %zu ", txnr, cmd, datalen)
			: snprintf(out, outlen, "%u %s 0", txnr, cmd);
	return n < 0 || (size_t)n >= outlen ? 0 : (size_t)n;
}

/* Returns the transaction number after txnr. */
uint32_t
relp_next_txnr(uint32_t txnr)
{
	return txnr >= RELP_MAX_TXNR ? 1 : txnr + 1;
}

/* Formats the offers of our open command; returns their length. */
size_t
relp_open_offers(char *out, size_t outlen, const char *version)
{
	int n = snprintf(out, outlen, "relp_version=0\nrelp_software=hids-agent,%s\n"
	    "commands=syslog", version);
	return n < 0 || (size_t)n >= outlen ? 0 : (size_t)n;
}
