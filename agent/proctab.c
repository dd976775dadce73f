/*
 * proctab.c: a chained hash of struct proctab_entry with a recency list
 * for bounded eviction, by count and by bytes: every entry's memory is
 * counted, its paths are cut at max_path, and past max_bytes the least
 * recently touched entries go. Entity ids are a hash of host id, pid and
 * start time, so a reused pid gets a new id and a restart of the agent
 * finds the same ids again.
 */
#include "proctab.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "entry.h"
#include "escape.h"
#include "procfs.h"

/* Sets up an empty table. */
void
proctab_init(struct proctab *t, size_t max_entries, size_t max_args, const char *host_id)
{
	memset(t, 0, sizeof(*t));
	t->nbuckets = 1;
	while (t->nbuckets < max_entries / 2 && t->nbuckets < (1u << 20))
		t->nbuckets <<= 1;
	t->buckets = xcalloc(t->nbuckets, sizeof(struct proctab_entry *));
	t->max_entries = max_entries;
	t->max_args = max_args;
	t->max_path = PROCTAB_DEFAULT_PATH;
	t->max_bytes = SIZE_MAX;
	strlcpy_trunc(t->host_id, host_id ? host_id : "", sizeof(t->host_id));
}

/* Sets the byte budget of the entries and the bytes of each path kept. */
void
proctab_set_budget(struct proctab *t, size_t max_bytes, size_t max_path)
{
	t->max_bytes = max_bytes;
	t->max_path = max_path;
}

/* Returns what malloc takes for n bytes: a 16-byte aligned chunk with its header. */
static size_t
alloc_bytes(size_t n)
{
	size_t c = (n + sizeof(size_t) + 15) & ~(size_t)15;
	return c < 32 ? 32 : c;
}

/* Returns the memory an entry takes, its strings included, as the budget counts it. */
size_t
proctab_entry_bytes(const struct proctab_entry *e)
{
	const struct process *p = &e->p;
	size_t n = alloc_bytes(sizeof(*e));

	if (p->executable)
		n += alloc_bytes(strlen(p->executable) + 1);
	if (p->cwd)
		n += alloc_bytes(strlen(p->cwd) + 1);
	if (p->cgroup)
		n += alloc_bytes(strlen(p->cgroup) + 1);
	if (p->args)
		n += alloc_bytes(p->args_len + 1);
	return n;
}

static size_t
bucket_of(const struct proctab *t, int32_t pid)
{
	return ((uint32_t)pid * 2654435761u) & (t->nbuckets - 1);
}

static void
lru_unlink(struct proctab *t, struct proctab_entry *e)
{
	if (e->lprev)
		e->lprev->lnext = e->lnext;
	else
		t->lru_head = e->lnext;
	if (e->lnext)
		e->lnext->lprev = e->lprev;
	else
		t->lru_tail = e->lprev;
	e->lprev = e->lnext = NULL;
}

static void
lru_append(struct proctab *t, struct proctab_entry *e)
{
	e->lprev = t->lru_tail;
	e->lnext = NULL;
	if (t->lru_tail)
		t->lru_tail->lnext = e;
	else
		t->lru_head = e;
	t->lru_tail = e;
}

/* Frees every entry. */
void
proctab_release(struct proctab *t)
{
	struct proctab_entry *e = t->lru_head, *n;
	while (e) {
		n = e->lnext;
		process_release(&e->p);
		free(e);
		e = n;
	}
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

/* Finds the entry of pid and marks it recently used; NULL if unknown. */
struct proctab_entry *
proctab_lookup(struct proctab *t, int32_t pid)
{
	struct proctab_entry *e;
	for (e = t->buckets[bucket_of(t, pid)]; e; e = e->hnext) {
		if (e->p.pid == pid) {
			lru_unlink(t, e);
			lru_append(t, e);
			return e;
		}
	}
	return NULL;
}

/* Removes the entry of pid, if any. */
void
proctab_remove(struct proctab *t, int32_t pid)
{
	struct proctab_entry **pp = &t->buckets[bucket_of(t, pid)], *e;
	while ((e = *pp) != NULL) {
		if (e->p.pid == pid) {
			size_t slot = (uint32_t)pid % PROCTAB_RECENT;
			t->recent[slot].pid = pid;
			t->recent[slot].start_ticks = e->p.start_ticks;
			t->recent[slot].gen = e->gen;
			*pp = e->hnext;
			lru_unlink(t, e);
			t->bytes -= proctab_entry_bytes(e);
			process_release(&e->p);
			free(e);
			t->count--;
			return;
		}
		pp = &e->hnext;
	}
}

/* Returns the entry of pid, creating an empty one (evicting the oldest if full). */
struct proctab_entry *
proctab_upsert(struct proctab *t, int32_t pid)
{
	struct proctab_entry *e = proctab_lookup(t, pid);
	size_t b;

	if (e)
		return e;
	if (t->count >= t->max_entries && t->lru_head) {
		proctab_remove(t, t->lru_head->p.pid);
		t->evictions++;
	}
	e = xcalloc(1, sizeof(*e));
	process_init(&e->p);
	e->p.pid = pid;
	b = bucket_of(t, pid);
	e->hnext = t->buckets[b];
	t->buckets[b] = e;
	lru_append(t, e);
	t->count++;
	t->bytes += proctab_entry_bytes(e);
	return e;
}

/* Cuts the path *s to at most max bytes, on a character boundary; says whether it did. */
static bool
cap_path(char **s, size_t max)
{
	size_t n;

	if (*s == NULL || (n = strlen(*s)) <= max)
		return false;
	n = utf8_truncate(*s, n, max);
	char *cut = xstrndup(*s, n);
	free(*s);
	*s = cut;
	return true;
}

/*
 * Replaces an entry's process with a copy of p (args and paths capped,
 * the cut paths flagged), keeping its pid; then evicts the least recently
 * touched other entries while the table is over its byte budget.
 */
void
proctab_set(struct proctab *t, struct proctab_entry *e, const struct process *p)
{
	int32_t pid = e->p.pid;
	if (&e->p == p)
		return;
	t->bytes -= proctab_entry_bytes(e);
	process_copy(&e->p, p, t->max_args);
	e->p.pid = pid;
	if (cap_path(&e->p.executable, t->max_path))
		e->p.paths_cut |= PATH_CUT_EXE;
	if (cap_path(&e->p.cwd, t->max_path))
		e->p.paths_cut |= PATH_CUT_CWD;
	if (cap_path(&e->p.cgroup, t->max_path))
		e->p.paths_cut |= PATH_CUT_CGROUP;
	t->bytes += proctab_entry_bytes(e);
	while (t->bytes > t->max_bytes && t->lru_head != NULL && t->lru_head != e) {
		proctab_remove(t, t->lru_head->p.pid);
		t->evictions++;
		t->budget_evictions++;
	}
}

/* Computes the entity id: base64url of SHA-256(host_id:pid:start_ticks), 24 chars. */
void
proctab_entity_id(const char *host_id, int32_t pid, uint64_t start_ticks,
    char out[ENTITY_ID_LEN + 1])
{
	proctab_entity_id_gen(host_id, pid, start_ticks, 0, out);
}

/*
 * Computes the entity id of the gen-th process with this pid and start tick:
 * gen 0 hashes host_id:pid:start_ticks (what a restarted agent computes
 * again from /proc), gen > 0 appends ":gen", for a pid reused within one
 * clock tick (10 ms), which would otherwise share its predecessor's id.
 */
void
proctab_entity_id_gen(const char *host_id, int32_t pid, uint64_t start_ticks, uint32_t gen,
    char out[ENTITY_ID_LEN + 1])
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char md[SHA256_DIGEST_LENGTH];
	char in[128];
	int n = gen ? snprintf(in, sizeof(in), "%s:%d:%llu:%u", host_id, pid,
			  (unsigned long long)start_ticks, gen)
		    : snprintf(in, sizeof(in), "%s:%d:%llu", host_id, pid,
			  (unsigned long long)start_ticks);

	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(in)) {
		/* A long host id does not fit the stack buffer: hash all of it. */
		char *big = gen ? xasprintf("%s:%d:%llu:%u", host_id, pid,
				      (unsigned long long)start_ticks, gen)
				: xasprintf("%s:%d:%llu", host_id, pid,
				      (unsigned long long)start_ticks);
		SHA256((const unsigned char *)big, strlen(big), md);
		free(big);
	} else {
		SHA256((const unsigned char *)in, (size_t)n, md);
	}
	for (int i = 0, o = 0; i < 18; i += 3) {
		uint32_t v = (uint32_t)md[i] << 16 | (uint32_t)md[i + 1] << 8 | md[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	out[ENTITY_ID_LEN] = '\0';
}

/* Returns the generation a new process of this pid and start tick gets. */
uint32_t
proctab_reuse_gen(const struct proctab *t, int32_t pid, uint64_t start_ticks)
{
	size_t slot = (uint32_t)pid % PROCTAB_RECENT;

	if (t->recent[slot].pid == pid && t->recent[slot].start_ticks == start_ticks)
		return t->recent[slot].gen + 1;
	return 0;
}

/* Finds the entry of pid without touching the recency list. */
static struct proctab_entry *
find_entry(const struct proctab *t, int32_t pid)
{
	struct proctab_entry *e;

	for (e = t->buckets[bucket_of(t, pid)]; e; e = e->hnext)
		if (e->p.pid == pid)
			return e;
	return NULL;
}

/* Decides the entry leader of e after its ancestors', as a seeded table knows them. */
static void
seed_entry(struct proctab *t, struct proctab_entry *e, int procfd, int depth)
{
	struct proctab_entry *pe = NULL;
	char val[128];

	if (e->entry_seen)
		return;
	e->entry_seen = true;
	if (e->p.ppid > 0 && e->p.ppid != e->p.pid)
		pe = find_entry(t, e->p.ppid);
	if (pe && depth < PROCTAB_ENTRY_DEPTH)
		seed_entry(t, pe, procfd, depth + 1);
	if (entry_classify(&e->p, pe ? &pe->p : NULL) &&
	    procfs_env_value(procfd, e->p.pid, "SSH_CONNECTION", val, sizeof(val)) == 0)
		(void)entry_set_source(&e->p.entry, val);
}

/* Fills the table from a scan of /proc; returns how many processes it found. */
size_t
proctab_seed(struct proctab *t, int procfd)
{
	int dfd = dup(procfd);
	DIR *d;
	struct dirent *de;
	size_t n = 0;

	if (dfd == -1 || (d = fdopendir(dfd)) == NULL) {
		if (dfd != -1)
			close(dfd);
		log_warn("cannot scan /proc");
		return 0;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		struct process p;
		int64_t pid;
		if (!isdigit((unsigned char)de->d_name[0]) ||
		    parse_i64(de->d_name, 1, INT32_MAX, &pid) == -1)
			continue;
		process_init(&p);
		unsigned got = procfs_snapshot(procfd, (int)pid, SNAP_FIRST,
		    t->max_args, &p);
		if (got & SNAP_STAT) {
			proctab_entity_id(t->host_id, (int32_t)pid, p.start_ticks, p.entity_id);
			proctab_set(t, proctab_upsert(t, (int32_t)pid), &p);
			n++;
		}
		process_release(&p);
	}
	closedir(d);
	for (struct proctab_entry *e = t->lru_head; e; e = e->lnext)
		seed_entry(t, e, procfd, 0);
	return n;
}

/* Copies the table's size and eviction counters. */
void
proctab_stats(const struct proctab *t, struct proctab_stats *st)
{
	st->count = t->count;
	st->bytes = t->bytes;
	st->evictions = t->evictions;
	st->budget_evictions = t->budget_evictions;
}

/* Returns the host id entity ids are made from ("" if none). */
const char *
proctab_host_id(const struct proctab *t)
{
	return t->host_id;
}

/* Returns the least recently touched entry, to walk them all with proctab_next; NULL if none. */
struct proctab_entry *
proctab_first(struct proctab *t)
{
	return t->lru_head;
}

/* Returns the entry touched after e; NULL after the last. */
struct proctab_entry *
proctab_next(struct proctab_entry *e)
{
	return e->lnext;
}
