/*
 * relp.h: the Reliable Event Logging Protocol as rsyslog's imrelp speaks
 * it: frame formatting and a strict, bounded frame parser. Pure code.
 *
 *   FRAME   = TXNR SP COMMAND SP DATALEN [SP DATA] LF
 *   TXNR    = 1*9DIGIT (1 .. 999999999, then wraps to 1)
 *   COMMAND = 1*32ALPHA
 *   DATALEN = 1*9DIGIT, the number of DATA bytes (no SP DATA when 0)
 */
#ifndef HIDS_RELP_H
#define HIDS_RELP_H

#include <stddef.h>
#include <stdint.h>

#define RELP_MAX_TXNR 999999999u
#define RELP_MAX_COMMAND 32
#define RELP_MAX_HEADER 64		/* TXNR SP COMMAND SP DATALEN SP */
#define RELP_MAX_RSP_DATA (64u << 10)	/* largest frame we accept from a server */

enum relp_parse_result {
	RELP_NEED_MORE = 0,
	RELP_FRAME = 1,
	RELP_BAD = -1,
};

struct relp_frame {
	uint32_t txnr;
	char command[RELP_MAX_COMMAND + 1];
	size_t datalen;
	const char *data;	/* points into the parsed buffer */
};

/* relp.c */
enum relp_parse_result relp_parse(const char *buf, size_t len, size_t max_data,
    struct relp_frame *f, size_t *consumed, const char **why);
int relp_rsp_code(const struct relp_frame *f);
size_t relp_format_header(char *out, size_t outlen, uint32_t txnr, const char *cmd,
    size_t datalen);
uint32_t relp_next_txnr(uint32_t txnr);
size_t relp_open_offers(char *out, size_t outlen, const char *version);

#endif
