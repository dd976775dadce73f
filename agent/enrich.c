/*
 * enrich.c: one small function per event type, all on the main thread.
 * /proc is read here only for a process the table does not know yet; the
 * latency-critical reads happened in the capture thread.
 */
#include "enrich.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "entry.h"
#include "hasher.h"
#include "procfs.h"

#define ENRICH_SSH_CONNECTION 128	/* bytes of SSH_CONNECTION kept for entry_meta.source.ip */

static void entry_source(struct enricher *, struct process *, const struct process *);
static bool classify_entry(struct enricher *, struct process *);

/* Returns the table entry of pid, reading /proc for one not seen before. */
static struct proctab_entry *
entry_for(struct enricher *en, int32_t pid, bool create)
{
	struct proctab_entry *e = proctab_lookup(en->tab, pid);
	struct process p;

	if (e || !create || pid <= 0)
		return e;
	process_init(&p);
	unsigned got = procfs_snapshot(en->procfd, pid, SNAP_FIRST, en->max_args, &p);
	if (!(got & SNAP_STAT)) {
		process_release(&p);
		return NULL;
	}
	proctab_entity_id(proctab_host_id(en->tab), pid, p.start_ticks, p.entity_id);
	if (classify_entry(en, &p))
		entry_source(en, &p, NULL);
	e = proctab_upsert(en->tab, pid);
	proctab_set(en->tab, e, &p);
	process_release(&p);
	return e;
}

/* Fills ev->parent from the table, if the parent is known. */
static void
add_parent(struct enricher *en, struct hids_event *ev, int32_t ppid)
{
	struct proctab_entry *pe;

	if (ppid <= 0)
		return;
	if ((pe = entry_for(en, ppid, true)) == NULL) {
		ev->parent.pid = ppid;
		ev->has_parent = true;
		return;
	}
	process_copy(&ev->parent, &pe->p, en->max_args);
	ev->has_parent = true;
}

/* Converts a monotonic kernel timestamp to /proc start ticks. */
static uint64_t
mono_to_ticks(const struct enricher *en, uint64_t ts)
{
	uint64_t boot = ts + (uint64_t)en->mono_to_boot_ns;
	return en->enc->clk_tck > 0 ? boot / (1000000000ull / (uint64_t)en->enc->clk_tck) : 0;
}

/* fork: the child is a copy of its parent until it execs. */
static void
enrich_fork(struct enricher *en, const struct capture_rec *r, struct hids_event *ev)
{
	const struct cn_event *k = &r->k;
	struct proctab_entry *pe;

	if (r->is_thread) {
		/* A new thread: describe the process it belongs to (the kernel
		 * names the process's own parent as the thread's). */
		struct proctab_entry *te = entry_for(en, k->tgid, true);
		if (te)
			process_copy(&ev->proc, &te->p, en->max_args);
		ev->proc.pid = k->tgid;
		ev->is_thread = true;
		add_parent(en, ev, ev->proc.ppid);
		return;
	}
	pe = entry_for(en, k->ptgid, true);
	if (pe)
		process_copy(&ev->proc, &pe->p, en->max_args);
	else
		ev->proc.entry.type = ENTRY_UNKNOWN;
	ev->proc.pid = k->tgid;
	ev->proc.ppid = k->ptgid;
	ev->proc.known |= PF_PPID;
	/* The child's pid in its namespace is not the parent's; unknown until exec. */
	ev->proc.ns_pid = -1;
	ev->proc.known &= ~PF_NSPID;
	ev->proc.start_ns = k->ts_ns + (uint64_t)en->enc->mono_to_real_ns;
	if (r->snap_got & SNAP_STAT) {
		ev->proc.start_ticks = r->snap.start_ticks;
		ev->proc.pgid = r->snap.pgid;
		ev->proc.sid = r->snap.sid;
		ev->proc.tty_nr = r->snap.tty_nr;
		ev->proc.known |= PF_STAT;
	} else {
		ev->proc.start_ticks = mono_to_ticks(en, k->ts_ns);
	}
	/* The previous process with this pid may have started in the same tick. */
	struct proctab_entry *old = proctab_lookup(en->tab, k->tgid);
	uint32_t gen = old && old->p.start_ticks == ev->proc.start_ticks ? old->gen + 1
	    : proctab_reuse_gen(en->tab, k->tgid, ev->proc.start_ticks);
	proctab_entity_id_gen(proctab_host_id(en->tab), k->tgid, ev->proc.start_ticks, gen,
	    ev->proc.entity_id);
	if (pe) {
		process_copy(&ev->parent, &pe->p, en->max_args);
		ev->has_parent = true;
	} else {
		ev->parent.pid = k->ptgid;
		ev->has_parent = true;
	}
	struct proctab_entry *ce = proctab_upsert(en->tab, k->tgid);
	proctab_set(en->tab, ce, &ev->proc);
	ce->fork_ts_ns = k->ts_ns;
	ce->gen = gen;
}

/* Overlays what the exec snapshot read onto the inherited image. */
static void
merge_snapshot(struct process *p, const struct process *s, unsigned got)
{
	/* The old image's args and executable are never the new one's. */
	free(p->args);
	p->args = NULL;
	p->args_len = 0;
	p->args_count = 0;
	p->args_truncated = false;
	p->args_count_partial = false;
	free(p->executable);
	p->executable = NULL;
	p->exe_deleted = false;
	p->paths_cut &= (uint8_t)~PATH_CUT_EXE;
	p->known &= ~(PF_ARGS | PF_EXE | PF_NAME);
	if (got & SNAP_CMDLINE) {
		p->args = xmemdup(s->args, s->args_len + 1);
		p->args_len = s->args_len;
		p->args_count = s->args_count;
		p->args_truncated = s->args_truncated;
		p->args_count_partial = s->args_count_partial;
		p->known |= PF_ARGS;
	}
	if (got & SNAP_EXE) {
		p->executable = xstrdup(s->executable);
		p->exe_deleted = s->exe_deleted;
		p->known |= PF_EXE;
	}
	/* Why the links could not be read, and the executable's identity, in any case. */
	p->exe_errno = s->exe_errno;
	p->exe_id = s->exe_id;
	/* The new image's hash, or why there is none (yet). */
	hasher_copy_result(p, s);
	p->known = (p->known & ~PF_EXE_ID) | (s->known & PF_EXE_ID);
	p->cwd_errno = s->cwd_errno;
	if (got & SNAP_CWD) {
		free(p->cwd);
		p->cwd = xstrdup(s->cwd);
		p->paths_cut &= (uint8_t)~PATH_CUT_CWD;
		p->known |= PF_CWD;
	} else if (s->cwd_errno != ENOENT) {
		/*
		 * The process is there but its cwd cannot be read: the one
		 * inherited at fork may be stale. Gone (ENOENT), it is the
		 * best there is, and exec does not change it.
		 */
		free(p->cwd);
		p->cwd = NULL;
		p->paths_cut &= (uint8_t)~PATH_CUT_CWD;
		p->known &= ~PF_CWD;
	}
	if (got & SNAP_STATUS) {
		p->ids = s->ids;
		p->ns_pid = s->ns_pid;
		p->cap_eff = s->cap_eff;
		p->cap_prm = s->cap_prm;
		p->known |= s->known & (PF_IDS | PF_NSPID | PF_CAPS);
	}
	if (got & SNAP_STAT) {
		memcpy(p->name, s->name, sizeof(p->name));
		p->ppid = s->ppid;
		p->pgid = s->pgid;
		p->sid = s->sid;
		p->tty_nr = s->tty_nr;
		p->start_ticks = s->start_ticks;
		p->known |= PF_STAT | PF_NAME | PF_PPID | PF_START;
	}
	if (got & SNAP_CGROUP) {
		memcpy(p->container_id, s->container_id, sizeof(p->container_id));
		free(p->cgroup);
		p->cgroup = s->cgroup ? xstrdup(s->cgroup) : NULL;
		p->paths_cut &= (uint8_t)~PATH_CUT_CGROUP;
		p->runtime = s->runtime;
		p->known |= PF_CONTAINER;
	}
	if ((got & (SNAP_AUDIT | SNAP_AUDIT_LEADER)) && (s->known & PF_AUDIT)) {
		p->audit_uid = s->audit_uid;
		p->audit_sid = s->audit_sid;
		p->known |= PF_AUDIT;
	}
}

/*
 * Sets entry_meta.source.ip of a new sshd entry from its SSH_CONNECTION:
 * the exec's env_vars (snap, NULL when not read) when they hold it, else
 * one bounded read of environ.
 */
static void
entry_source(struct enricher *en, struct process *p, const struct process *snap)
{
	char val[ENRICH_SSH_CONNECTION];
	static const char key[] = "SSH_CONNECTION=";

	if (snap != NULL && snap->env != NULL) {
		for (size_t off = 0; off < snap->env_len;) {
			const char *e = snap->env + off;
			size_t n = strnlen(e, snap->env_len - off);
			if (n > sizeof(key) - 1 && memcmp(e, key, sizeof(key) - 1) == 0) {
				snprintf(val, sizeof(val), "%.*s", (int)(n - sizeof(key) + 1),
				    e + sizeof(key) - 1);
				(void)entry_set_source(&p->entry, val);
				return;
			}
			off += n + 1;
		}
	}
	if (procfs_env_value(en->procfd, p->pid, "SSH_CONNECTION", val, sizeof(val)) == 0)
		(void)entry_set_source(&p->entry, val);
}

/* Decides p's entry leader from its parent as the table knows it (no /proc read). */
static bool
classify_entry(struct enricher *en, struct process *p)
{
	struct proctab_entry *pe = p->ppid > 0 && p->ppid != p->pid ?
	    proctab_lookup(en->tab, p->ppid) : NULL;

	return entry_classify(p, pe ? &pe->p : NULL);
}

/* exec: the new image, read by the capture thread the moment it was reported. */
static void
enrich_exec(struct enricher *en, const struct capture_rec *r, struct hids_event *ev)
{
	const struct cn_event *k = &r->k;
	struct proctab_entry *e = proctab_lookup(en->tab, k->tgid);
	bool known = e != NULL;

	if (!e)
		e = proctab_upsert(en->tab, k->tgid);
	if (known && (e->p.known & (PF_EXE | PF_ARGS))) {
		process_copy(&ev->previous, &e->p, en->max_args);
		ev->has_previous = true;
	}
	process_copy(&ev->proc, &e->p, en->max_args);
	ev->proc.pid = k->tgid;
	merge_snapshot(&ev->proc, &r->snap, r->snap_got);
	if (!(r->snap_got & SNAP_CMDLINE)) {
		ev->proc_gone = true;
		en->stats->proc_gone++;
	} else {
		en->stats->argv_captured++;
	}
	if (ev->proc.entity_id[0] == '\0' || (!known && (r->snap_got & SNAP_STAT)))
		proctab_entity_id(proctab_host_id(en->tab), k->tgid,
		    (r->snap_got & SNAP_STAT) ? ev->proc.start_ticks : mono_to_ticks(en, k->ts_ns),
		    ev->proc.entity_id);
	if (classify_entry(en, &ev->proc))
		entry_source(en, &ev->proc, (r->snap_got & SNAP_ENV) ? &r->snap : NULL);
	proctab_set(en->tab, e, &ev->proc);
	/* The environment is the exec event's alone: the table does not keep it. */
	if (r->snap_got & SNAP_ENV) {
		ev->proc.env = xmemdup(r->snap.env, r->snap.env_len + 1);
		ev->proc.env_len = r->snap.env_len;
		ev->proc.env_truncated = r->snap.env_truncated;
		ev->proc.env_partial = r->snap.env_partial;
	}
	add_parent(en, ev, ev->proc.ppid);
}

/* exit: report what was known, then forget the process. */
static void
enrich_exit(struct enricher *en, const struct capture_rec *r, struct hids_event *ev)
{
	const struct cn_event *k = &r->k;
	struct proctab_entry *e = proctab_lookup(en->tab, k->tgid);

	if (e) {
		process_copy(&ev->proc, &e->p, en->max_args);
		if (e->fork_ts_ns && k->ts_ns > e->fork_ts_ns)
			ev->duration_ns = k->ts_ns - e->fork_ts_ns;
		else if (ev->proc.start_ticks && en->enc->clk_tck > 0) {
			uint64_t start_boot = ev->proc.start_ticks *
			    (1000000000ull / (uint64_t)en->enc->clk_tck);
			uint64_t now_boot = k->ts_ns + (uint64_t)en->mono_to_boot_ns;
			if (now_boot > start_boot)
				ev->duration_ns = now_boot - start_boot;
		}
	} else {
		ev->proc_gone = true;
		ev->proc.start_ticks = 0;
	}
	ev->proc.pid = k->tgid;
	if (k->has_parent && k->ptgid > 0) {
		ev->proc.ppid = k->ptgid;
		ev->proc.known |= PF_PPID;
	}
	if (r->is_thread) {
		ev->is_thread = true;
		ev->duration_ns = 0;
	} else if (e) {
		proctab_remove(en->tab, k->tgid);
	}
	add_parent(en, ev, ev->proc.ppid);
}

/*
 * uid or gid: re-reads all credentials from status (the event has only the
 * real and effective ids); if the process is gone, applies what the event says.
 */
static void
refresh_ids(struct enricher *en, bool alive, const struct cn_event *k, struct process *p)
{
	char buf[4096];
	int n = alive ? procfs_read_file(en->procfd, k->tgid, "status", buf, sizeof(buf)) : -1;

	if (n <= 0 || procfs_parse_status(buf, (size_t)n, p) == -1) {
		if (k->action == EV_UID) {
			p->ids.ruid = k->rid;
			p->ids.euid = p->ids.fsuid = k->eid;
		} else {
			p->ids.rgid = k->rid;
			p->ids.egid = p->ids.fsgid = k->eid;
		}
	}
	p->known |= PF_IDS;
}

/* uid, gid, sid, comm, ptrace, coredump: a change to a known process. */
static void
enrich_change(struct enricher *en, const struct capture_rec *r, struct hids_event *ev)
{
	const struct cn_event *k = &r->k;
	struct proctab_entry *e = entry_for(en, k->tgid, true);
	struct process *p;

	if (e == NULL) {
		ev->proc.pid = k->tgid;
		ev->proc_gone = true;
		p = &ev->proc;
	} else {
		p = &e->p;
	}
	switch (k->action) {
	case EV_UID:
	case EV_GID:
		refresh_ids(en, e != NULL, k, p);
		break;
	case EV_SID:
		p->sid = k->tgid;
		p->pgid = k->tgid;
		if (e && classify_entry(en, p))
			entry_source(en, p, NULL);
		break;
	case EV_COMM:
		memcpy(p->name, k->comm, sizeof(p->name));
		p->known |= PF_NAME;
		break;
	case EV_PTRACE:
		if (k->tracer_tgid > 0) {
			struct proctab_entry *te = entry_for(en, k->tracer_tgid, true);
			if (te)
				process_copy(&ev->tracer, &te->p, en->max_args);
			ev->tracer.pid = k->tracer_tgid;
			ev->has_tracer = true;
		}
		break;
	default:
		break;
	}
	if (e)
		process_copy(&ev->proc, &e->p, en->max_args);
	ev->proc.pid = k->tgid;
	ev->is_thread = r->is_thread;
	if (k->action == EV_COREDUMP && k->has_parent)
		ev->proc.ppid = k->ptgid;
	add_parent(en, ev, ev->proc.ppid);
}

/*
 * Gives a hash that came after its exec event went out to the process
 * in the table, if it is still that process, so that later events (exit)
 * carry it.
 */
void
enrich_late_hash(struct enricher *en, int32_t pid, const char *entity_id,
    const struct process *h)
{
	struct proctab_entry *e = proctab_lookup(en->tab, pid);

	if (e && strcmp(e->p.entity_id, entity_id) == 0 && e->p.hash_status == HASH_STATUS_PENDING)
		hasher_copy_result(&e->p, h);
}

/*
 * Copies a leader of ev->proc (session, group or entry) from the table when
 * the entry with that pid still is that leader: match(cand) says so.
 */
static bool
copy_leader(struct enricher *en, struct hids_event *ev, int32_t pid, struct process *out,
    bool (*match)(const struct process *cand, const struct process *p))
{
	struct proctab_entry *le;

	if (pid <= 0)
		return false;
	if (pid == ev->proc.pid) {
		process_copy(out, &ev->proc, en->max_args);
		return true;
	}
	if ((le = proctab_lookup(en->tab, pid)) == NULL || !match(&le->p, &ev->proc))
		return false;
	process_copy(out, &le->p, en->max_args);
	return true;
}

static bool
is_session_leader_of(const struct process *cand, const struct process *p)
{
	return (cand->known & PF_STAT) && cand->sid == p->sid;
}

static bool
is_group_leader_of(const struct process *cand, const struct process *p)
{
	return (cand->known & PF_STAT) && cand->pgid == p->pgid;
}

static bool
is_entry_leader_of(const struct process *cand, const struct process *p)
{
	return strcmp(cand->entity_id, p->entry.entity_id) == 0;
}

/* Adds the whole session, group and entry leaders the table still knows, and their names. */
static void
add_leaders(struct enricher *en, struct hids_event *ev)
{
	const struct process *p = &ev->proc;
	struct process *l[3] = { &ev->session_leader, &ev->group_leader, &ev->entry_leader };

	if (p->known & PF_STAT) {
		ev->has_session_leader = copy_leader(en, ev, p->sid, l[0], is_session_leader_of);
		ev->has_group_leader = copy_leader(en, ev, p->pgid, l[1], is_group_leader_of);
	}
	if (p->entry.type > ENTRY_UNKNOWN)
		ev->has_entry_leader = copy_leader(en, ev, p->entry.pid, l[2], is_entry_leader_of);
	for (int i = 0; i < 3; i++)
		if (l[i]->known & PF_IDS)
			ev->leader_user_name[i] = names_user(en->names, l[i]->ids.euid, 5 + i);
}

/* Builds the event for one capture record; the caller releases ev. */
void
enrich_record(struct enricher *en, const struct capture_rec *r, struct hids_event *ev)
{
	hids_event_init(ev);
	ev->k = r->k;
	switch (r->k.action) {
	case EV_FORK:
		enrich_fork(en, r, ev);
		break;
	case EV_EXEC:
		enrich_exec(en, r, ev);
		break;
	case EV_EXIT:
		enrich_exit(en, r, ev);
		break;
	default:
		enrich_change(en, r, ev);
		break;
	}
	if (ev->proc.known & PF_IDS) {
		ev->user_name = names_user(en->names, ev->proc.ids.euid, 0);
		ev->group_name = names_group(en->names, ev->proc.ids.egid, 1);
	}
	if (ev->has_parent && (ev->parent.known & PF_IDS)) {
		ev->parent_user_name = names_user(en->names, ev->parent.ids.euid, 2);
		ev->parent_group_name = names_group(en->names, ev->parent.ids.egid, 3);
	}
	if ((ev->proc.known & PF_AUDIT) && ev->proc.audit_uid != AUDIT_UNSET)
		ev->audit_user_name = names_user(en->names, ev->proc.audit_uid, 4);
	add_leaders(en, ev);
}
