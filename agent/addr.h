/*
 * addr.h: the collector address list as the config writes it,
 * "host:port[,host:port...]" with "[v6]:port" for IPv6, parsed into
 * addresses. Used by config.c; collector.c only reads the result. Pure.
 */
#ifndef HIDS_ADDR_H
#define HIDS_ADDR_H

#include <stddef.h>
#include <stdint.h>

/* One collector address. */
struct collector_addr {
	char host[256];
	char port[8];
	uint16_t portnum;
	char label[272];	/* host:port as configured */
};

/* addr.c */
int addr_parse_list(const char *list, struct collector_addr *addrs, size_t max,
    size_t *n, char *err, size_t errlen);

#endif
