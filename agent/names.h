/*
 * names.h: uid and gid to name, from a cache that never blocks the main
 * loop. A miss returns NULL at once and queues a lookup for a resolver
 * thread, since getpwuid_r can wait on LDAP or SSSD for seconds.
 */
#ifndef HIDS_NAMES_H
#define HIDS_NAMES_H

#include <stdint.h>

#define NAMES_MAX 4096		/* cached uids and gids, each */
#define NAMES_QUEUE 256		/* pending lookups */
#define NAMES_TTL_S 600		/* a name is looked up again after this */
#define NAMES_SLOTS 8		/* names one event may hold at once (scratch slots) */

struct names;

/* names.c */
struct names *names_new(void);
void names_free(struct names *n);
const char *names_user(struct names *n, uint32_t uid, int slot);
const char *names_group(struct names *n, uint32_t gid, int slot);

#endif
