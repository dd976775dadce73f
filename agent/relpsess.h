/*
 * relpsess.h: one RELP session on the collector's connection, as rsyslog's
 * imrelp expects it: the open handshake, a syslog command per line, the
 * answers matched to their transactions in order, the close. It formats
 * bytes and judges frames the caller hands it; the connection, its buffers
 * and the line queue stay in collector.c, which tells it what is in flight.
 */
#ifndef HIDS_RELPSESS_H
#define HIDS_RELPSESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relp.h"

#define RELPSESS_OPEN_MAX (RELP_MAX_HEADER + 256 + 1)	/* the whole open frame */

struct relp_session {
	uint32_t next_txnr;	/* the next command's transaction number */
	uint32_t ack_txnr;	/* the oldest syslog command not answered yet */
	bool opening;		/* open sent, its answer not seen yet */
	uint64_t errors;	/* non-200 answers and protocol errors, all sessions */
};

/* What one frame from the collector meant. */
enum relpsess_result {
	RELPSESS_NEED_MORE = 0,	/* no complete frame yet */
	RELPSESS_OPENED,	/* the collector accepted the session */
	RELPSESS_ACKED,		/* the oldest line in flight is delivered */
	RELPSESS_FAIL,		/* the connection must end; why says so */
};

/* relpsess.c */
size_t relpsess_open(struct relp_session *s, char *out, size_t outlen);
size_t relpsess_syslog_header(struct relp_session *s, char *out, size_t outlen,
    size_t datalen);
size_t relpsess_close(const struct relp_session *s, char *out, size_t outlen);
enum relpsess_result relpsess_read(struct relp_session *s, const char *buf, size_t len,
    size_t inflight, bool head_written, size_t *used, char *why, size_t wlen);

#endif
