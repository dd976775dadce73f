/*
 * hasher.c: the hashing worker. Work comes in fixed slots (HASHER_SLOTS),
 * each holding the fd the capture thread pinned at exec, so queued work
 * and open files are bounded without allocation on the capture thread. A
 * cache keyed by (device, inode, size, mtime, ctime) hashes each binary
 * once, least recently used out first; a size limit and a byte budget per
 * second bound the reading. The file is checked against its key before
 * and after reading, so a binary replaced meanwhile is never cached under
 * the old one's key. Not for: deciding how long an event waits for its
 * hash (main.c does), or reading anything but the pinned fd.
 */
#include "hasher.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define NIL UINT32_MAX

/* What identifies a binary's content for the cache. */
struct exe_key {
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
};

/* The outcome of one hash: status and digests. */
struct hash_result {
	uint8_t status, algs;
	uint8_t sha256[32], sha1[20], md5[16];
};

enum slot_state { SLOT_FREE = 0, SLOT_QUEUED, SLOT_RUNNING, SLOT_DONE };

struct slot {
	enum slot_state state;
	uint32_t gen;		/* tells a reused slot from the one a record names */
	int fd;
	struct exe_key key;
	struct hash_result res;
	bool late;		/* the event went without it: apply to the table */
	int32_t pid;
	char entity_id[ENTITY_ID_LEN + 1];
};

struct cache_ent {
	struct exe_key key;
	struct hash_result res;
	uint32_t next;		/* in its bucket */
	uint32_t prev_lru, next_lru;
};

struct hasher {
	struct hasher_config cfg;
	pthread_t thread;
	bool running, stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int notify_fd;
	struct slot slots[HASHER_SLOTS];
	uint32_t queue[HASHER_SLOTS];
	size_t q_head, q_len, free_slots;
	struct cache_ent *cache;
	uint32_t *buckets;
	size_t nbuckets, cache_used;
	uint32_t lru_head, lru_tail;	/* head: most recently used */
	uint64_t win_start_ms, win_bytes;
	struct hasher_stats st;
	uint8_t *buf;
};

/* Fills a key from what the capture thread's stat of /proc/PID/exe found. */
static void
key_of(const struct process *p, struct exe_key *k)
{
	memset(k, 0, sizeof(*k));
	k->dev = p->exe_id.dev;
	k->ino = p->exe_id.ino;
	k->size = p->exe_id.size;
	k->mtime_ns = p->exe_id.mtime_ns;
	k->ctime_ns = p->exe_id.ctime_ns;
}

/* Says whether two keys are the same binary. */
static bool
key_eq(const struct exe_key *a, const struct exe_key *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

/* Returns the bucket of a key. */
static size_t
key_bucket(const struct hasher *h, const struct exe_key *k)
{
	uint64_t x = k->ino * 0x9e3779b97f4a7c15ull ^ k->dev ^ (uint64_t)k->ctime_ns * 31;
	return (size_t)(x ^ (x >> 29)) & (h->nbuckets - 1);
}

/* Unlinks entry i from the LRU list. */
static void
lru_unlink(struct hasher *h, uint32_t i)
{
	struct cache_ent *e = &h->cache[i];
	if (e->prev_lru != NIL)
		h->cache[e->prev_lru].next_lru = e->next_lru;
	else
		h->lru_head = e->next_lru;
	if (e->next_lru != NIL)
		h->cache[e->next_lru].prev_lru = e->prev_lru;
	else
		h->lru_tail = e->prev_lru;
}

/* Puts entry i at the head of the LRU list. */
static void
lru_push(struct hasher *h, uint32_t i)
{
	struct cache_ent *e = &h->cache[i];
	e->prev_lru = NIL;
	e->next_lru = h->lru_head;
	if (h->lru_head != NIL)
		h->cache[h->lru_head].prev_lru = i;
	h->lru_head = i;
	if (h->lru_tail == NIL)
		h->lru_tail = i;
}

/* Finds a key in the cache and marks it used; NULL when absent. Under mu. */
static const struct hash_result *
cache_find(struct hasher *h, const struct exe_key *k)
{
	for (uint32_t i = h->buckets[key_bucket(h, k)]; i != NIL; i = h->cache[i].next) {
		if (key_eq(&h->cache[i].key, k)) {
			lru_unlink(h, i);
			lru_push(h, i);
			return &h->cache[i].res;
		}
	}
	return NULL;
}

/* Removes entry i from its bucket. Under mu. */
static void
bucket_remove(struct hasher *h, uint32_t i)
{
	uint32_t *pp = &h->buckets[key_bucket(h, &h->cache[i].key)];
	while (*pp != NIL && *pp != i)
		pp = &h->cache[*pp].next;
	if (*pp == i)
		*pp = h->cache[i].next;
}

/* Adds a result, evicting the least recently used entry when full. Under mu. */
static void
cache_add(struct hasher *h, const struct exe_key *k, const struct hash_result *r)
{
	uint32_t i;
	size_t b;

	if (cache_find(h, k) != NULL)
		return;
	if (h->cache_used < h->cfg.cache_entries) {
		i = (uint32_t)h->cache_used++;
	} else {
		i = h->lru_tail;
		lru_unlink(h, i);
		bucket_remove(h, i);
	}
	h->cache[i].key = *k;
	h->cache[i].res = *r;
	b = key_bucket(h, k);
	h->cache[i].next = h->buckets[b];
	h->buckets[b] = i;
	lru_push(h, i);
}

/* Copies a result into a process's hash fields. */
static void
result_to_process(const struct hash_result *r, struct process *p)
{
	p->hash_status = r->status;
	p->hash_algs = r->status == HASH_STATUS_DONE ? r->algs : 0;
	memcpy(p->sha256, r->sha256, sizeof(p->sha256));
	memcpy(p->sha1, r->sha1, sizeof(p->sha1));
	memcpy(p->md5, r->md5, sizeof(p->md5));
}

/* Copies the hash fields of src into dst. */
void
hasher_copy_result(struct process *dst, const struct process *src)
{
	dst->hash_status = src->hash_status;
	dst->hash_algs = src->hash_algs;
	memcpy(dst->sha256, src->sha256, sizeof(dst->sha256));
	memcpy(dst->sha1, src->sha1, sizeof(dst->sha1));
	memcpy(dst->md5, src->md5, sizeof(dst->md5));
}

/* Says whether fd is still the binary of key (same inode, size and times). */
static bool
fd_matches(int fd, const struct exe_key *k)
{
	struct stat st;
	struct exe_key now;

	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		return false;
	memset(&now, 0, sizeof(now));
	now.dev = (uint64_t)st.st_dev;
	now.ino = (uint64_t)st.st_ino;
	now.size = (uint64_t)st.st_size;
	now.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	now.ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
	return key_eq(&now, k);
}

/*
 * Reads the pinned file from its start and digests it with every
 * configured algorithm; sets r->status. Off the lock.
 */
static void
hash_fd(struct hasher *h, int fd, const struct exe_key *k, struct hash_result *r)
{
	const EVP_MD *mds[3] = { EVP_sha256(), EVP_sha1(), EVP_md5() };
	uint8_t *outs[3] = { r->sha256, r->sha1, r->md5 };
	EVP_MD_CTX *ctx[3] = { NULL, NULL, NULL };
	uint64_t total = 0;
	off_t off = 0;
	bool ok = fd_matches(fd, k);

	for (int i = 0; i < 3 && ok; i++)
		if ((h->cfg.algs & (1u << i)) &&
		    ((ctx[i] = EVP_MD_CTX_new()) == NULL || !EVP_DigestInit_ex(ctx[i], mds[i], NULL)))
			ok = false;
	while (ok) {
		/* pread: the fd is the process's own file, its offset is not ours to move. */
		ssize_t n = pread(fd, h->buf, HASHER_READ_CHUNK, off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			ok = n == 0;
			break;
		}
		off += n;
		total += (uint64_t)n;
		if (total > k->size) {
			ok = false;	/* it grew: not the file of the key */
			break;
		}
		for (int i = 0; i < 3; i++)
			if (ctx[i] && !EVP_DigestUpdate(ctx[i], h->buf, (size_t)n))
				ok = false;
	}
	for (int i = 0; i < 3; i++) {
		unsigned len;
		if (ctx[i] && ok && !EVP_DigestFinal_ex(ctx[i], outs[i], &len))
			ok = false;
		EVP_MD_CTX_free(ctx[i]);
	}
	ok = ok && total == k->size && fd_matches(fd, k);
	r->status = ok ? HASH_STATUS_DONE : HASH_STATUS_ERROR;
	r->algs = (uint8_t)h->cfg.algs;
	pthread_mutex_lock(&h->mu);
	h->st.bytes += total;
	pthread_mutex_unlock(&h->mu);
}

/* Says whether size bytes fit this second's budget, and takes them if so. Under mu. */
static bool
budget_take(struct hasher *h, uint64_t size)
{
	uint64_t now = now_mono_ms();

	if (now - h->win_start_ms >= 1000) {
		h->win_start_ms = now;
		h->win_bytes = 0;
	}
	if (h->win_bytes + size > h->cfg.bytes_per_second)
		return false;
	h->win_bytes += size;
	return true;
}

/* Wakes the main loop: a result is ready. */
static void
hasher_wake(struct hasher *h)
{
	uint64_t one = 1;
	if (write(h->notify_fd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		log_warn("hasher: cannot wake the main loop");
}

/* Runs one queued slot to DONE. Called and returns under mu. */
static void
hasher_run_slot(struct hasher *h, struct slot *s)
{
	const struct hash_result *c = cache_find(h, &s->key);
	int fd = s->fd;

	s->state = SLOT_RUNNING;
	s->fd = -1;
	memset(&s->res, 0, sizeof(s->res));
	if (c != NULL) {
		/* Two execs of a new binary in a row: the first one's hash serves. */
		s->res = *c;
		h->st.cache_hits++;
	} else if (!budget_take(h, s->key.size)) {
		s->res.status = HASH_STATUS_BUDGET;
		h->st.skipped++;
	} else {
		struct exe_key key = s->key;
		struct hash_result r;
		memset(&r, 0, sizeof(r));
		pthread_mutex_unlock(&h->mu);
		hash_fd(h, fd, &key, &r);
		pthread_mutex_lock(&h->mu);
		s->res = r;
		if (r.status == HASH_STATUS_DONE) {
			h->st.done++;
			cache_add(h, &key, &r);
		} else {
			h->st.skipped++;
		}
	}
	close(fd);
	s->state = SLOT_DONE;
}

/* The worker: takes queued slots in order and hashes them. */
static void *
hasher_main(void *arg)
{
	struct hasher *h = arg;

	pthread_setname_np(pthread_self(), "hids-hasher");
	pthread_mutex_lock(&h->mu);
	for (;;) {
		while (h->q_len == 0 && !h->stop)
			pthread_cond_wait(&h->cv, &h->mu);
		if (h->stop)
			break;
		struct slot *s = &h->slots[h->queue[h->q_head]];
		h->q_head = (h->q_head + 1) % HASHER_SLOTS;
		h->q_len--;
		hasher_run_slot(h, s);
		pthread_mutex_unlock(&h->mu);
		hasher_wake(h);
		pthread_mutex_lock(&h->mu);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

/* Starts the worker; NULL when cfg asks for no digest (or on failure, logged). */
struct hasher *
hasher_new(const struct hasher_config *cfg)
{
	struct hasher *h;
	pthread_mutexattr_t ma;
	int err;

	if (cfg->algs == 0)
		return NULL;
	h = xcalloc(1, sizeof(*h));
	h->notify_fd = -1;
	h->cfg = *cfg;
	if (h->cfg.cache_entries == 0)
		h->cfg.cache_entries = 1;
	for (h->nbuckets = 16; h->nbuckets < h->cfg.cache_entries * 2; h->nbuckets *= 2)
		;
	h->cache = xcalloc(h->cfg.cache_entries, sizeof(*h->cache));
	h->buckets = xmalloc(h->nbuckets * sizeof(*h->buckets));
	for (size_t i = 0; i < h->nbuckets; i++)
		h->buckets[i] = NIL;
	h->lru_head = h->lru_tail = NIL;
	h->buf = xmalloc(HASHER_READ_CHUNK);
	h->free_slots = HASHER_SLOTS;
	for (size_t i = 0; i < HASHER_SLOTS; i++)
		h->slots[i].fd = -1;
	/* The capture thread takes this lock at SCHED_FIFO: priority inheritance. */
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_INHERIT);
	pthread_mutex_init(&h->mu, &ma);
	pthread_mutexattr_destroy(&ma);
	pthread_cond_init(&h->cv, NULL);
	h->win_start_ms = now_mono_ms();
	if ((h->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		log_warn("hasher: eventfd");
		hasher_free(h);
		return NULL;
	}
	if ((err = pthread_create(&h->thread, NULL, hasher_main, h)) != 0) {
		errno = err;
		log_warn("hasher: cannot start the thread");
		hasher_free(h);
		return NULL;
	}
	h->running = true;
	return h;
}

/* Stops the worker, closes every pinned fd and frees h. */
void
hasher_free(struct hasher *h)
{
	if (h == NULL)
		return;
	if (h->running) {
		pthread_mutex_lock(&h->mu);
		h->stop = true;
		pthread_cond_signal(&h->cv);
		pthread_mutex_unlock(&h->mu);
		pthread_join(h->thread, NULL);
	}
	for (size_t i = 0; i < HASHER_SLOTS; i++)
		if (h->slots[i].fd != -1)
			close(h->slots[i].fd);
	if (h->notify_fd != -1)
		close(h->notify_fd);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	free(h->cache);
	free(h->buckets);
	free(h->buf);
	free(h);
}

/* Returns the eventfd that is readable when a result is ready. */
int
hasher_notify_fd(const struct hasher *h)
{
	return h->notify_fd;
}

/* Takes a free slot, or -1. Under mu. */
static int
slot_take(struct hasher *h)
{
	if (h->free_slots == 0)
		return -1;
	for (int i = 0; i < HASHER_SLOTS; i++) {
		if (h->slots[i].state == SLOT_FREE) {
			h->free_slots--;
			h->slots[i].state = SLOT_QUEUED;
			h->slots[i].gen++;
			h->slots[i].late = false;
			return i;
		}
	}
	return -1;
}

/* Gives a slot back. Under mu. */
static void
slot_free(struct hasher *h, struct slot *s)
{
	s->state = SLOT_FREE;
	s->late = false;
	h->free_slots++;
}

/*
 * On the capture thread, at exec, after the stat of /proc/PID/exe: fills
 * p's hash from the cache, or says why there will be none, or pins the
 * executable (opens /proc/PID/exe, the very inode that runs) and queues
 * it. Returns the slot to poll, with *gen, or -1 when p is final.
 */
int
hasher_pin(struct hasher *h, int procfd, int pid, struct process *p, uint32_t *gen)
{
	struct exe_key k;
	const struct hash_result *c;
	char path[64];
	int fd, slot;

	key_of(p, &k);
	pthread_mutex_lock(&h->mu);
	if ((c = cache_find(h, &k)) != NULL) {
		result_to_process(c, p);
		h->st.cache_hits++;
		pthread_mutex_unlock(&h->mu);
		return -1;
	}
	p->hash_status = k.size > h->cfg.max_file_bytes ? HASH_STATUS_TOO_LARGE :
	    h->free_slots == 0 ? HASH_STATUS_BUDGET : HASH_STATUS_PENDING;
	if (p->hash_status != HASH_STATUS_PENDING)
		h->st.skipped++;
	pthread_mutex_unlock(&h->mu);
	if (p->hash_status != HASH_STATUS_PENDING)
		return -1;
	snprintf(path, sizeof(path), "%d/exe", pid);
	fd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
	pthread_mutex_lock(&h->mu);
	if (fd == -1 || (slot = slot_take(h)) == -1) {
		p->hash_status = fd == -1 ? HASH_STATUS_ERROR : HASH_STATUS_BUDGET;
		h->st.skipped++;
		pthread_mutex_unlock(&h->mu);
		if (fd != -1)
			close(fd);
		return -1;
	}
	h->slots[slot].fd = fd;
	h->slots[slot].key = k;
	*gen = h->slots[slot].gen;
	h->queue[(h->q_head + h->q_len) % HASHER_SLOTS] = (uint32_t)slot;
	h->q_len++;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
	return slot;
}

/* On the main loop: if the slot's hash is ready, copies it into p and frees the slot. */
bool
hasher_poll(struct hasher *h, int slot, uint32_t gen, struct process *p)
{
	struct slot *s = &h->slots[slot];
	bool done;

	pthread_mutex_lock(&h->mu);
	done = s->gen == gen && s->state == SLOT_DONE && !s->late;
	if (done) {
		result_to_process(&s->res, p);
		slot_free(h, s);
	}
	pthread_mutex_unlock(&h->mu);
	return done;
}

/* On the main loop: the event went out without its hash; keep it for the table. */
void
hasher_orphan(struct hasher *h, int slot, uint32_t gen, int32_t pid, const char *entity_id)
{
	struct slot *s = &h->slots[slot];

	pthread_mutex_lock(&h->mu);
	if (s->gen == gen && s->state != SLOT_FREE) {
		s->late = true;
		s->pid = pid;
		snprintf(s->entity_id, sizeof(s->entity_id), "%s", entity_id);
	}
	pthread_mutex_unlock(&h->mu);
	/* It may be done already: the next take finds it. */
	hasher_wake(h);
}

/* On the main loop: takes one late result for (pid, entity_id); false when none. */
bool
hasher_take_late(struct hasher *h, int32_t *pid, char entity_id[ENTITY_ID_LEN + 1],
    struct process *p)
{
	bool got = false;

	pthread_mutex_lock(&h->mu);
	for (size_t i = 0; i < HASHER_SLOTS && !got; i++) {
		struct slot *s = &h->slots[i];
		if (s->state == SLOT_DONE && s->late) {
			*pid = s->pid;
			memcpy(entity_id, s->entity_id, ENTITY_ID_LEN + 1);
			result_to_process(&s->res, p);
			slot_free(h, s);
			got = true;
		}
	}
	pthread_mutex_unlock(&h->mu);
	return got;
}

/* Copies the counters. */
void
hasher_stats(struct hasher *h, struct hasher_stats *st)
{
	pthread_mutex_lock(&h->mu);
	*st = h->st;
	pthread_mutex_unlock(&h->mu);
}
