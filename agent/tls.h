/*
 * tls.h: the OpenSSL side of the collector connection: the client context
 * (TLS 1.2 minimum with forward-secret AEAD suites, no renegotiation, CA
 * store or ca_file, client certificate), per-connection name or IP
 * verification (subjectAltName only) and SNI, SPKI pins, one-line failure
 * reasons, and the escaping of text the collector chose for the log.
 */
#ifndef HIDS_TLS_H
#define HIDS_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_MAX_PINS 8
#define HIDS_KEY_GROUP "hids-agent"	/* a group that may read key_file */
/* TLS 1.2 suites: forward secret (ECDHE) and AEAD only; TLS 1.3's all are. */
#define TLS12_CIPHERS "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_PEER_TEXT_MAX 200	/* bytes of collector-chosen text shown in a log line */
#define TLS_PEER_TEXT_BUF (4 * TLS_PEER_TEXT_MAX + 4)	/* room for it escaped */

struct tls_config {
	const char *ca_file;		/* NULL: the system store */
	const char *cert_file;
	const char *key_file;
	unsigned char pins[TLS_MAX_PINS][32];
	size_t npins;
};

/* tls.c */
SSL_CTX *tls_ctx_new(const struct tls_config *cfg, char *err, size_t errlen);
SSL *tls_conn_new(SSL_CTX *ctx, const char *verify_name, bool *accepted, char *err,
    size_t errlen);
bool tls_pin_matches(SSL *ssl, const struct tls_config *cfg);
void tls_describe_failure(SSL *ssl, unsigned long ossl_err, bool established, char *buf,
    size_t buflen);
int tls_pin_parse(const char *b64, unsigned char out[32]);
int tls_spki_sha256(X509 *cert, unsigned char out[32]);
bool tls_is_ip_literal(const char *host);
const char *tls_peer_text(const char *text, size_t n, char *out, size_t outlen);

#endif
