/*
 * tls.c: everything the agent asks of OpenSSL. Verification is never
 * optional: a chain that does not verify, a name that does not match or a
 * key that matches no configured pin ends the connection before a byte of
 * event data is written.
 */
#include "tls.h"

#include <sys/stat.h>
#include <arpa/inet.h>
#include <grp.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "escape.h"

/* Appends OpenSSL's queued errors to a message. */
static void
ossl_errors(char *buf, size_t buflen)
{
	unsigned long e;
	size_t used = strlen(buf);

	while ((e = ERR_get_error()) != 0 && used + 4 < buflen) {
		char one[256];
		ERR_error_string_n(e, one, sizeof(one));
		snprintf(buf + used, buflen - used, ": %s", one);
		used = strlen(buf);
	}
}

/*
 * A TLS 1.3 server sends session tickets only after it has checked the
 * client's certificate and Finished: one arriving means the server took
 * us. The flag to set is the connection's app data; the ticket itself is
 * not kept (returning 0 lets OpenSSL free it).
 */
static int
new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	bool *accepted = SSL_get_app_data(ssl);
	(void)sess;
	if (accepted)
		*accepted = true;
	return 0;
}

static int names_idx = -1;	/* SSL ex_data: the names of a mismatched certificate */

/* Frees the names saved with an SSL object. */
static void
names_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

/*
 * Formats the DNS and IP names of a certificate's subjectAltName, escaped
 * (the peer chose them), as " (the certificate names DNS:a, IP:b)".
 */
static void
tls_cert_names(X509 *cert, char *out, size_t outlen)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	char raw[TLS_PEER_TEXT_MAX + 1] = "", text[TLS_PEER_TEXT_BUF];
	size_t used = 0;

	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens) && used + 1 < sizeof(raw); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char ip[INET6_ADDRSTRLEN] = "";
		const ASN1_STRING *a;
		if (g->type == GEN_DNS) {
			a = g->d.dNSName;
			used += (size_t)snprintf(raw + used, sizeof(raw) - used, "%sDNS:%.*s",
			    used ? ", " : "", ASN1_STRING_length(a),
			    (const char *)ASN1_STRING_get0_data(a));
		} else if (g->type == GEN_IPADD) {
			a = g->d.iPAddress;
			int len = ASN1_STRING_length(a);
			if (len == 4 || len == 16)
				inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(a),
				    ip, sizeof(ip));
			used += (size_t)snprintf(raw + used, sizeof(raw) - used, "%sIP:%s",
			    used ? ", " : "", ip[0] ? ip : "?");
		}
		if (used >= sizeof(raw))
			used = sizeof(raw) - 1;
	}
	GENERAL_NAMES_free(gens);
	if (used == 0)
		snprintf(out, outlen, " (the certificate has no DNS or IP subjectAltName; "
		    "its subject CN is never used)");
	else
		snprintf(out, outlen, " (the certificate names %s)",
		    tls_peer_text(raw, used, text, sizeof(text)));
}

/*
 * Verification callback: keeps OpenSSL's verdict, and on a name mismatch
 * saves the names the leaf certificate carries for the log line (OpenSSL
 * does not keep a certificate it refused).
 */
static int
verify_cb(int ok, X509_STORE_CTX *sctx)
{
	int err = X509_STORE_CTX_get_error(sctx);
	SSL *ssl;
	X509 *cert;
	char names[TLS_PEER_TEXT_BUF];

	if (ok || (err != X509_V_ERR_HOSTNAME_MISMATCH && err != X509_V_ERR_IP_ADDRESS_MISMATCH))
		return ok;
	ssl = X509_STORE_CTX_get_ex_data(sctx, SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl == NULL || names_idx < 0 || SSL_get_ex_data(ssl, names_idx) != NULL ||
	    (cert = X509_STORE_CTX_get_current_cert(sctx)) == NULL)
		return ok;
	tls_cert_names(cert, names, sizeof(names));
	SSL_set_ex_data(ssl, names_idx, xstrdup(names));
	return ok;
}

/*
 * Refuses to prompt for a key's passphrase: a daemon has no one to ask,
 * and OpenSSL's default would read the terminal or stdin. Notes the
 * attempt in the flag the context's callback data points to.
 */
static int
no_passphrase_cb(char *buf, int size, int rwflag, void *arg)
{
	bool *asked = arg;
	(void)buf;
	(void)size;
	(void)rwflag;
	*asked = true;
	return -1;
}

/*
 * Warns when a TLS file can be changed by group or others (whoever writes
 * ca_file chooses whom the agent trusts), and, for the key (secret), when
 * others, or a group that is neither the agent's nor the hids-agent group,
 * can read it (root:hids-agent 0640 is the packaged layout).
 */
static void
tls_check_file(const char *key, const char *path, bool secret)
{
	struct stat st;
	struct group *g;
	unsigned mode;

	if (path == NULL || stat(path, &st) == -1)
		return;	/* loading it reports the error */
	mode = (unsigned)(st.st_mode & 07777);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		log_warnx("%s %s can be changed by %s (mode %04o); make it writable by its "
		    "owner only", key, path, st.st_mode & S_IWOTH ? "others" : "its group", mode);
	if (!secret)
		return;
	if (st.st_mode & S_IROTH) {
		log_warnx("%s %s is readable by others (mode %04o); make it 0600, or 0640 "
		    "root:hids-agent", key, path, mode);
		return;
	}
	if ((st.st_mode & S_IRGRP) && st.st_gid != getegid() &&
	    ((g = getgrnam(HIDS_KEY_GROUP)) == NULL || g->gr_gid != st.st_gid))
		log_warnx("%s %s is readable by group %u, which is not the agent's "
		    "(mode %04o); make it 0600, or 0640 root:hids-agent", key, path,
		    (unsigned)st.st_gid, mode);
}

/* Loads the client certificate and key into ctx; -1 with a reason in err. */
static int
tls_load_client_cert(SSL_CTX *ctx, const struct tls_config *cfg, char *err, size_t errlen)
{
	bool asked = false;

	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1) {
		snprintf(err, errlen, "cannot load cert_file %s", cfg->cert_file);
		return -1;
	}
	tls_check_file("cert_file", cfg->cert_file, false);
	tls_check_file("key_file", cfg->key_file, true);
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase_cb);
	SSL_CTX_set_default_passwd_cb_userdata(ctx, &asked);
	int ok = SSL_CTX_use_PrivateKey_file(ctx, cfg->key_file, SSL_FILETYPE_PEM);
	SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
	if (ok != 1 && asked) {
		ERR_clear_error();
		snprintf(err, errlen, "cannot load key_file %s: it is encrypted, and the agent "
		    "does not ask for passphrases; store it decrypted (openssl pkey -in KEY "
		    "-out NEWKEY), readable only by the agent", cfg->key_file);
		return -1;
	}
	if (ok != 1) {
		snprintf(err, errlen, "cannot load key_file %s", cfg->key_file);
		return -1;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "key_file %s does not match cert_file %s", cfg->key_file,
		    cfg->cert_file);
		return -1;
	}
	return 0;
}

/* Builds the client context; NULL with a reason in err. */
SSL_CTX *
tls_ctx_new(const struct tls_config *cfg, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		snprintf(err, errlen, "cannot create a TLS context");
		ossl_errors(err, errlen);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* A renegotiation could change the peer mid-stream; TLS 1.3 has none. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
		snprintf(err, errlen, "cannot set the TLS 1.2 cipher suites");
		goto fail;
	}
	if (names_idx < 0)
		names_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, names_free_cb);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, new_session_cb);
	if (cfg->ca_file) {
		tls_check_file("ca_file", cfg->ca_file, false);
		if (SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL) != 1) {
			snprintf(err, errlen, "cannot load ca_file %s", cfg->ca_file);
			goto fail;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		snprintf(err, errlen, "cannot load the system CA store");
		goto fail;
	}
	if (cfg->cert_file && tls_load_client_cert(ctx, cfg, err, errlen) == -1)
		goto fail;
	return ctx;
fail:
	ossl_errors(err, errlen);
	SSL_CTX_free(ctx);
	return NULL;
}

/* Returns the length of the valid UTF-8 sequence at s (1 to 4), or 0. */
static size_t
utf8_first_len(const unsigned char *s, size_t n)
{
	for (size_t k = 1; k <= 4 && k <= n; k++)
		if (utf8_valid_prefix(s, k) == k)
			return k;
	return 0;
}

/* Says whether a valid sequence is a C1 control or a character that reorders or breaks lines. */
static bool
misleading_char(const unsigned char *s, size_t len)
{
	if (len == 2)
		return s[0] == 0xc2 && s[1] < 0xa0;		/* U+0080..U+009F */
	if (len == 3 && s[0] == 0xe2 && s[1] == 0x80)
		return s[2] >= 0xa8 && s[2] <= 0xae;	/* U+2028..U+202E */
	if (len == 3 && s[0] == 0xe2 && s[1] == 0x81)
		return s[2] >= 0xa6 && s[2] <= 0xa9;	/* U+2066..U+2069 */
	return false;
}

/*
 * Copies text the collector chose (a RELP answer, a name in its
 * certificate) into out for the agent's own log: control bytes, C1
 * controls, line separators, bidirectional overrides and bytes that are
 * not UTF-8 become \xHH, a backslash becomes two, and after
 * TLS_PEER_TEXT_MAX input bytes "..." ends it. Returns out.
 */
const char *
tls_peer_text(const char *text, size_t n, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, o = 0;

	if (outlen == 0)
		return out;
	while (i < n && i < TLS_PEER_TEXT_MAX) {
		size_t len = utf8_first_len(s + i, n - i);
		if (o + 4 * (len ? len : 1) + 4 > outlen)
			break;
		if (len == 0 || s[i] < 0x20 || s[i] == 0x7f || misleading_char(s + i, len)) {
			for (size_t k = 0; k < (len ? len : 1); k++) {
				out[o++] = '\\';
				out[o++] = 'x';
				out[o++] = hex[s[i + k] >> 4];
				out[o++] = hex[s[i + k] & 0xf];
			}
		} else if (s[i] == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else {
			memcpy(out + o, s + i, len);
			o += len;
		}
		i += len ? len : 1;
	}
	if (i < n && o + 4 <= outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o < outlen ? o : outlen - 1] = '\0';
	return out;
}

/* Says whether host is an IPv4 or IPv6 literal. */
bool
tls_is_ip_literal(const char *host)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/*
 * Creates the SSL object of one connection, verifying verify_name: as an
 * IP address if it is one (and then without SNI, which forbids literals),
 * else as a DNS name without partial wildcards, sent as SNI. *accepted is
 * set once a TLS 1.3 server shows it took the connection.
 */
SSL *
tls_conn_new(SSL_CTX *ctx, const char *verify_name, bool *accepted, char *err, size_t errlen)
{
	SSL *ssl = SSL_new(ctx);

	if (ssl == NULL) {
		snprintf(err, errlen, "cannot create a TLS connection");
		ossl_errors(err, errlen);
		return NULL;
	}
	*accepted = false;
	SSL_set_app_data(ssl, accepted);
	if (tls_is_ip_literal(verify_name)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), verify_name) != 1)
			goto fail;
	} else {
		/* The name must be in a subjectAltName: never the subject CN. */
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
		    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
		if (SSL_set1_host(ssl, verify_name) != 1 ||
		    SSL_set_tlsext_host_name(ssl, verify_name) != 1)
			goto fail;
	}
	return ssl;
fail:
	snprintf(err, errlen, "cannot set the name to verify (%s)", verify_name);
	ossl_errors(err, errlen);
	SSL_free(ssl);
	return NULL;
}

/* Computes SHA-256 of a certificate's DER SubjectPublicKeyInfo. */
int
tls_spki_sha256(X509 *cert, unsigned char out[32])
{
	unsigned char *der = NULL;
	int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);

	if (len <= 0)
		return -1;
	SHA256(der, (size_t)len, out);
	OPENSSL_free(der);
	return 0;
}

/* Says whether the peer's key matches a pin; true when no pins are set. */
bool
tls_pin_matches(SSL *ssl, const struct tls_config *cfg)
{
	unsigned char md[32];
	X509 *cert;
	bool ok = false;

	if (cfg->npins == 0)
		return true;
	if ((cert = SSL_get1_peer_certificate(ssl)) == NULL)
		return false;
	if (tls_spki_sha256(cert, md) == 0)
		for (size_t i = 0; i < cfg->npins && !ok; i++)
			ok = CRYPTO_memcmp(md, cfg->pins[i], 32) == 0;
	X509_free(cert);
	return ok;
}

/* Decodes one base64 SHA-256 pin; -1 unless it is exactly 32 bytes. */
int
tls_pin_parse(const char *b64, unsigned char out[32])
{
	unsigned char buf[64];
	size_t len = strlen(b64);
	int n;

	if (len != 44 || b64[43] != '=')
		return -1;
	n = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)len);
	if (n != 33)	/* 44 base64 chars decode to 33 bytes, one of them padding */
		return -1;
	memcpy(out, buf, 32);
	return 0;
}

/* Describes why a handshake (or, established, a connection) failed, in one line. */
void
tls_describe_failure(SSL *ssl, unsigned long ossl_err, bool established, char *buf,
    size_t buflen)
{
	long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;

	if (vr != X509_V_OK) {
		const char *names = names_idx >= 0 ? SSL_get_ex_data(ssl, names_idx) : NULL;
		snprintf(buf, buflen, "TLS verification failed: %s%s",
		    X509_verify_cert_error_string(vr), names ? names : "");
		return;
	}
	if (ossl_err != 0) {
		char one[256];
		const char *reason = ERR_reason_error_string(ossl_err);
		ERR_error_string_n(ossl_err, one, sizeof(one));
		snprintf(buf, buflen, "%s: %s (%s)", established ? "TLS error on the connection"
		    : "TLS handshake failed", reason ? reason : "unknown", one);
		return;
	}
	snprintf(buf, buflen, "connection failed");
}
