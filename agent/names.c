/*
 * names.c: the uid/gid name cache and its resolver thread. The main loop
 * only ever takes the mutex for a table probe; the resolver does the slow
 * NSS call without holding it.
 */
#include "names.h"

#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

#define NAMES_BUF 16384		/* getpwuid_r / getgrgid_r scratch */

struct names_entry {
	uint32_t id;
	bool used;
	bool pending;
	bool found;
	char name[64];
	uint64_t fetched_ms;
};

struct names {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	bool running, stopping;
	struct names_entry users[NAMES_MAX], groups[NAMES_MAX];
	struct { uint32_t id; bool group; } queue[NAMES_QUEUE];
	unsigned qhead, qlen;
	char scratch[NAMES_SLOTS][64];	/* names handed to the main thread */
};

static struct names_entry *
slot_for(struct names_entry *tab, uint32_t id)
{
	size_t h = (id * 2654435761u) % NAMES_MAX;
	for (size_t i = 0; i < 8; i++) {
		struct names_entry *e = &tab[(h + i) % NAMES_MAX];
		if (!e->used || e->id == id)
			return e;
	}
	return NULL;	/* neighbourhood full: do not cache */
}

/* Looks one id up with NSS; may block, so only the resolver calls it. */
static bool
resolve(uint32_t id, bool group, char *out, size_t outlen)
{
	char *buf = xmalloc(NAMES_BUF);
	bool ok = false;

	if (group) {
		struct group gr, *res = NULL;
		if (getgrgid_r((gid_t)id, &gr, buf, NAMES_BUF, &res) == 0 && res) {
			strlcpy_trunc(out, res->gr_name, outlen);
			ok = true;
		}
	} else {
		struct passwd pw, *res = NULL;
		if (getpwuid_r((uid_t)id, &pw, buf, NAMES_BUF, &res) == 0 && res) {
			strlcpy_trunc(out, res->pw_name, outlen);
			ok = true;
		}
	}
	free(buf);
	return ok;
}

static void *
names_main(void *arg)
{
	struct names *n = arg;

	pthread_mutex_lock(&n->mu);
	for (;;) {
		while (n->qlen == 0 && !n->stopping)
			pthread_cond_wait(&n->cv, &n->mu);
		if (n->stopping)
			break;
		uint32_t id = n->queue[n->qhead].id;
		bool group = n->queue[n->qhead].group;
		n->qhead = (n->qhead + 1) % NAMES_QUEUE;
		n->qlen--;
		pthread_mutex_unlock(&n->mu);
		char name[64];
		bool ok = resolve(id, group, name, sizeof(name));
		pthread_mutex_lock(&n->mu);
		struct names_entry *e = slot_for(group ? n->groups : n->users, id);
		if (e) {
			e->used = true;
			e->id = id;
			e->pending = false;
			e->found = ok;
			e->fetched_ms = now_mono_ms();
			if (ok)
				strlcpy_trunc(e->name, name, sizeof(e->name));
		}
	}
	pthread_mutex_unlock(&n->mu);
	return NULL;
}

/* Starts a resolver; NULL if its thread cannot be started. */
struct names *
names_new(void)
{
	struct names *n = xcalloc(1, sizeof(*n));

	pthread_mutex_init(&n->mu, NULL);
	pthread_cond_init(&n->cv, NULL);
	if (pthread_create(&n->thread, NULL, names_main, n) != 0) {
		names_free(n);
		return NULL;
	}
	n->running = true;
	return n;
}

/* Stops the resolver and frees it; a lookup stuck in NSS is waited for. NULL is allowed. */
void
names_free(struct names *n)
{
	if (n == NULL)
		return;
	if (n->running) {
		pthread_mutex_lock(&n->mu);
		n->stopping = true;
		pthread_cond_signal(&n->cv);
		pthread_mutex_unlock(&n->mu);
		pthread_join(n->thread, NULL);
	}
	pthread_cond_destroy(&n->cv);
	pthread_mutex_destroy(&n->mu);
	free(n);
}

/* Returns the cached name into scratch slot, or NULL and queues a lookup; NULL without a resolver. */
static const char *
names_get(struct names *n, uint32_t id, bool group, int slot)
{
	const char *res = NULL;
	struct names_entry *e;

	if (n == NULL)
		return NULL;
	pthread_mutex_lock(&n->mu);
	e = slot_for(group ? n->groups : n->users, id);
	if (e && e->used && e->id == id) {
		if (e->found) {
			strlcpy_trunc(n->scratch[slot], e->name, sizeof(n->scratch[slot]));
			res = n->scratch[slot];
		}
		if (e->pending || now_mono_ms() - e->fetched_ms < NAMES_TTL_S * 1000ull)
			goto out;
	}
	if (e && n->qlen < NAMES_QUEUE && n->running) {
		e->used = true;
		e->id = id;
		e->pending = true;
		n->queue[(n->qhead + n->qlen) % NAMES_QUEUE].id = id;
		n->queue[(n->qhead + n->qlen) % NAMES_QUEUE].group = group;
		n->qlen++;
		pthread_cond_signal(&n->cv);
	}
out:
	pthread_mutex_unlock(&n->mu);
	return res;
}

/* Returns the user name of uid if known (never with n NULL); the pointer lives until the next call with slot. */
const char *
names_user(struct names *n, uint32_t uid, int slot)
{
	return names_get(n, uid, false, slot);
}

/* Returns the group name of gid if known (never with n NULL); the pointer lives until the next call with slot. */
const char *
names_group(struct names *n, uint32_t gid, int slot)
{
	return names_get(n, gid, true, slot);
}
