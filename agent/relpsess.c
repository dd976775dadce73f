/*
 * relpsess.c: the RELP session on a collector connection: transaction
 * numbers, the open offers, the syslog command header for each line, and
 * what each answer from the collector means. No I/O and no libevent: the
 * collector's connection state machine moves the bytes.
 */
#include "relpsess.h"

#include <stdio.h>
#include <string.h>

#include "common.h"
#include "tls.h"

/* Formats the open command (transaction 1, our offers) and starts a session; 0 on failure. */
size_t
relpsess_open(struct relp_session *s, char *out, size_t outlen)
{
	char offers[256], hdr[RELP_MAX_HEADER];
	size_t olen = relp_open_offers(offers, sizeof(offers), HIDS_VERSION);
	size_t hlen = relp_format_header(hdr, sizeof(hdr), 1, "open", olen);

	s->opening = true;
	s->next_txnr = 2;
	s->ack_txnr = 2;
	if (olen == 0 || hlen == 0 || hlen + olen + 1 > outlen)
		return 0;
	memcpy(out, hdr, hlen);
	memcpy(out + hlen, offers, olen);
	out[hlen + olen] = '\n';
	return hlen + olen + 1;
}

/* Formats the header of the next syslog command of datalen bytes; 0 on failure. */
size_t
relpsess_syslog_header(struct relp_session *s, char *out, size_t outlen, size_t datalen)
{
	size_t hlen = relp_format_header(out, outlen, s->next_txnr, "syslog", datalen);

	s->next_txnr = relp_next_txnr(s->next_txnr);
	return hlen;
}

/* Formats the close command (sent on stop; its answer is not waited for); 0 on failure. */
size_t
relpsess_close(const struct relp_session *s, char *out, size_t outlen)
{
	size_t hlen = relp_format_header(out, outlen, s->next_txnr, "close", 0);

	if (hlen == 0 || hlen + 1 > outlen)
		return 0;
	out[hlen] = '\n';
	return hlen + 1;
}

/*
 * Judges one parsed frame: inflight is the number of lines sent and not
 * answered, head_written whether the oldest of them has left our buffer.
 */
static enum relpsess_result
relpsess_frame(struct relp_session *s, const struct relp_frame *f, size_t inflight,
    bool head_written, char *why, size_t wlen)
{
	char text[TLS_PEER_TEXT_BUF];
	int code = relp_rsp_code(f);

	if (strcmp(f->command, "serverclose") == 0) {
		snprintf(why, wlen, "the collector closed the RELP session (serverclose)");
		return RELPSESS_FAIL;
	}
	if (strcmp(f->command, "rsp") != 0 || code < 0) {
		snprintf(why, wlen, "invalid RELP from the collector: unexpected '%s' frame",
		    f->command);
		s->errors++;
		return RELPSESS_FAIL;
	}
	if (s->opening) {
		if (f->txnr != 1 || code != 200) {
			snprintf(why, wlen, "the collector refused the RELP session: %s",
			    tls_peer_text(f->data, f->datalen, text, sizeof(text)));
			return RELPSESS_FAIL;
		}
		s->opening = false;
		return RELPSESS_OPENED;
	}
	/* An answer to bytes still in our buffer cannot be a real one. */
	if (inflight == 0 || (f->txnr == s->ack_txnr && !head_written)) {
		snprintf(why, wlen, "invalid RELP from the collector: answer to transaction %u, "
		    "which was not sent yet", f->txnr);
		s->errors++;
		return RELPSESS_FAIL;
	}
	if (f->txnr != s->ack_txnr) {
		snprintf(why, wlen, "invalid RELP from the collector: answer to transaction %u, "
		    "expected %u", f->txnr, s->ack_txnr);
		s->errors++;
		return RELPSESS_FAIL;
	}
	if (code != 200) {
		snprintf(why, wlen, "the collector answered %d to an event (%s); resending later",
		    code, tls_peer_text(f->data, f->datalen, text, sizeof(text)));
		s->errors++;
		return RELPSESS_FAIL;
	}
	s->ack_txnr = relp_next_txnr(s->ack_txnr);
	return RELPSESS_ACKED;
}

/*
 * Parses the first frame in buf and says what it meant; *used is the
 * number of bytes it took (valid unless RELPSESS_NEED_MORE).
 */
enum relpsess_result
relpsess_read(struct relp_session *s, const char *buf, size_t len, size_t inflight,
    bool head_written, size_t *used, char *why, size_t wlen)
{
	struct relp_frame f;
	const char *err;
	enum relp_parse_result r = relp_parse(buf, len, RELP_MAX_RSP_DATA, &f, used, &err);

	if (r == RELP_NEED_MORE)
		return RELPSESS_NEED_MORE;
	if (r == RELP_BAD) {
		snprintf(why, wlen, "invalid RELP from the collector: %s", err);
		s->errors++;
		return RELPSESS_FAIL;
	}
	return relpsess_frame(s, &f, inflight, head_written, why, wlen);
}
