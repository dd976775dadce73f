/*
 * privdrop.h: least privilege after start-up. Once subscribed to the
 * kernel, the agent keeps only the capabilities its /proc reads and its
 * scheduling need, in every set including the bounding set, and forbids
 * gaining new privileges.
 */
#ifndef HIDS_PRIVDROP_H
#define HIDS_PRIVDROP_H

#include <stddef.h>
#include <stdint.h>

/* privdrop.c */
int privdrop_apply(char *err, size_t errlen);
int privdrop_no_dump(void);
uint64_t privdrop_kept_mask(void);
uint64_t privdrop_effective(void);
int sdnotify_send(const char *state);

#endif
