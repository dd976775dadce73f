/*
 * privdrop.h: least privilege after start-up. Once subscribed to the
 * kernel, the agent keeps only the capabilities its /proc reads and its
 * scheduling need, in every set including the bounding set, and forbids
 * gaining new privileges.
 */
#ifndef HIDS_PRIVDROP_H
#define HIDS_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PRIVDROP_DEFAULT_USER "hids-agent"	/* [agent] user when not set */

/* The user the agent becomes when started as root. */
struct privdrop_user {
	bool set;
	uid_t uid;
	gid_t gid;
	char name[64];
};

/* privdrop.c */
int privdrop_pick_user(const char *configured, struct privdrop_user *u, char *err,
    size_t errlen);
int privdrop_apply(const struct privdrop_user *u, char *err, size_t errlen);
int privdrop_no_dump(void);
uint64_t privdrop_kept_mask(void);
uint64_t privdrop_effective(void);
int sdnotify_send(const char *state);

#endif
