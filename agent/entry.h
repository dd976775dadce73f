/*
 * entry.h: which process is a process's entry leader, and how it came in
 * (process.entry_leader.entry_meta.type): decided from the process and its
 * parent alone, as the table knows them. Pure: no /proc, no table.
 */
#ifndef HIDS_ENTRY_H
#define HIDS_ENTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "event.h"

/* entry.c */
bool entry_classify(struct process *p, const struct process *parent);
int entry_set_source(struct entry_ref *e, const char *ssh_connection);
const char *entry_basename(const struct process *p);

#endif
