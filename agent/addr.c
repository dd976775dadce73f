/*
 * addr.c: parses the [collector] address list. Each entry is checked
 * whole (host present and short enough, port 1-65535) and its label kept
 * as the operator will see it in log lines. Nothing is resolved here: the
 * collector resolves names on every connect.
 */
#include "addr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* Parses "host:port[,host:port...]" ("[v6]:port" for IPv6) into at most max addrs; -1 with a reason. */
int
addr_parse_list(const char *list, struct collector_addr *addrs, size_t max, size_t *n,
    char *err, size_t errlen)
{
	char *copy = xstrdup(list), *save = NULL, *tok;
	int rc = 0;

	*n = 0;
	for (tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		struct collector_addr *a;
		char *host = tok, *port, shown[300];
		uint64_t pn;

		strlcpy_trunc(shown, tok, sizeof(shown));	/* tok is split below */
		if (*n == max) {
			snprintf(err, errlen, "more than %zu collector addresses", max);
			rc = -1;
			break;
		}
		if (*host == '[') {
			char *close = strchr(host, ']');
			if (close == NULL || close[1] != ':') {
				snprintf(err, errlen, "bad address '%s' (expected [ipv6]:port)", tok);
				rc = -1;
				break;
			}
			*close = '\0';
			host++;
			port = close + 2;
		} else {
			port = strrchr(host, ':');
			if (port == NULL || strchr(host, ':') != port) {
				snprintf(err, errlen, "bad address '%s' (expected host:port)", tok);
				rc = -1;
				break;
			}
			*port++ = '\0';
		}
		if (*host == '\0' || strlen(host) >= sizeof(a->host) ||
		    parse_u64(port, 1, 65535, &pn) == -1) {
			snprintf(err, errlen, "bad address '%s' (expected host:port, port 1-65535)",
			    shown);
			rc = -1;
			break;
		}
		a = &addrs[(*n)++];
		strlcpy_trunc(a->host, host, sizeof(a->host));
		snprintf(a->port, sizeof(a->port), "%u", (unsigned)pn);
		a->portnum = (uint16_t)pn;
		snprintf(a->label, sizeof(a->label), strchr(host, ':') ? "[%s]:%s" : "%s:%s",
		    a->host, a->port);
	}
	free(copy);
	if (rc == 0 && *n == 0) {
		snprintf(err, errlen, "no collector address given");
		rc = -1;
	}
	return rc;
}
