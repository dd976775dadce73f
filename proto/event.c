/*
 * event.c: life cycle of struct process and struct hids_event, and the table of
 * event actions with their ECS event.type. No I/O.
 */
#include "event.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static const struct {
	const char *name;
	const char *ecs_type;
	uint32_t kernel_bit;
} actions[EV_ACTION_MAX] = {
	[EV_NONE] = { "none", "info", 0 },
	[EV_FORK] = { "fork", "start", CN_EV_FORK },
	[EV_EXEC] = { "exec", "start", CN_EV_EXEC },
	[EV_UID] = { "uid_change", "change", CN_EV_UID },
	[EV_GID] = { "gid_change", "change", CN_EV_GID },
	[EV_SID] = { "session_id_change", "change", CN_EV_SID },
	[EV_PTRACE] = { "ptrace", "access", CN_EV_PTRACE },
	[EV_COMM] = { "comm", "change", CN_EV_COMM },
	[EV_COREDUMP] = { "coredump", "info", CN_EV_COREDUMP },
	[EV_EXIT] = { "end", "end", CN_EV_EXIT },
	[EV_LOST] = { "lost", "info", 0 },
	[EV_HEARTBEAT] = { "heartbeat", "info", 0 },
	[EV_SUPPRESSED] = { "suppressed", "info", 0 },
};

/* Zeroes a process and marks its numeric fields unknown. */
void
process_init(struct process *p)
{
	memset(p, 0, sizeof(*p));
	p->pid = -1;
	p->ppid = -1;
	p->pgid = p->sid = p->ns_pid = -1;
	p->tty_nr = 0;
}

/* Frees what a process owns and resets it. */
void
process_release(struct process *p)
{
	free(p->executable);
	free(p->cwd);
	free(p->args);
	free(p->cgroup);
	free(p->env);
	process_init(p);
}

/* Deep-copies src into an initialised dst, keeping at most max_args bytes of args. */
void
process_copy(struct process *dst, const struct process *src, size_t max_args)
{
	process_release(dst);
	*dst = *src;
	dst->executable = src->executable ? xstrdup(src->executable) : NULL;
	dst->cwd = src->cwd ? xstrdup(src->cwd) : NULL;
	dst->cgroup = src->cgroup ? xstrdup(src->cgroup) : NULL;
	dst->env = src->env ? xmemdup(src->env, src->env_len + 1) : NULL;
	dst->args = NULL;
	if (src->args != NULL) {
		size_t n = src->args_len;
		if (n > max_args) {
			/* Cut at an argument boundary when one fits. */
			n = max_args;
			while (n > 0 && src->args[n - 1] != '\0')
				n--;
			if (n == 0)
				n = max_args;
			dst->args_truncated = true;
		}
		dst->args = xmalloc(n + 1);
		memcpy(dst->args, src->args, n);
		dst->args[n] = '\0';
		dst->args_len = n;
	}
}

/* Prepares an empty event. */
void
hids_event_init(struct hids_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	process_init(&ev->proc);
	process_init(&ev->parent);
	process_init(&ev->previous);
	process_init(&ev->tracer);
	process_init(&ev->session_leader);
	process_init(&ev->group_leader);
	process_init(&ev->entry_leader);
}

/* Frees what an event owns. */
void
hids_event_release(struct hids_event *ev)
{
	process_release(&ev->proc);
	process_release(&ev->parent);
	process_release(&ev->previous);
	process_release(&ev->tracer);
	process_release(&ev->session_leader);
	process_release(&ev->group_leader);
	process_release(&ev->entry_leader);
}

/* Returns the hids.hash_status name of a status, or NULL for none and done. */
const char *
hash_status_name(enum hash_status s)
{
	static const char *const names[] = {
		[HASH_STATUS_PENDING] = "pending", [HASH_STATUS_TOO_LARGE] = "too_large",
		[HASH_STATUS_BUDGET] = "budget", [HASH_STATUS_ERROR] = "error",
	};
	return (size_t)s < sizeof(names) / sizeof(names[0]) ? names[s] : NULL;
}

/* Returns the name of capability bit (CAP_CHOWN for 0), or NULL past the known ones. */
const char *
cap_name(unsigned bit)
{
	static const char *const names[] = {
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
		"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
		"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
		"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
		"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
		"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
		"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
		"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
		"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
		"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
		"CAP_CHECKPOINT_RESTORE",
	};
	return bit < sizeof(names) / sizeof(names[0]) ? names[bit] : NULL;
}

/* Returns the event.action name of an action. */
const char *
ev_action_name(enum ev_action a)
{
	return a < EV_ACTION_MAX ? actions[a].name : "none";
}

/* Returns the ECS event.type of an action. */
const char *
ev_action_type(enum ev_action a)
{
	return a < EV_ACTION_MAX ? actions[a].ecs_type : "info";
}

/* The names of the kernel's actions before they followed Elastic Defend's. */
static const struct {
	const char *name;
	enum ev_action action;
} old_names[] = {
	{ "exit", EV_EXIT }, { "uid", EV_UID }, { "gid", EV_GID }, { "sid", EV_SID },
};

/* Maps an action name to its value; -1 when unknown. */
int
ev_action_parse(const char *name, enum ev_action *out)
{
	for (int a = EV_FORK; a <= EV_EXIT; a++) {
		if (strcmp(name, actions[a].name) == 0) {
			*out = (enum ev_action)a;
			return 0;
		}
	}
	return -1;
}

/* Maps an action's name before this version (exit, uid, gid, sid) to its value; -1 when it is none. */
int
ev_action_parse_old(const char *name, enum ev_action *out)
{
	for (size_t i = 0; i < sizeof(old_names) / sizeof(old_names[0]); i++) {
		if (strcmp(name, old_names[i].name) == 0) {
			*out = old_names[i].action;
			return 0;
		}
	}
	return -1;
}

/* Returns the kernel's filter bit for an action, 0 for the agent's own. */
uint32_t
ev_action_kernel_bit(enum ev_action a)
{
	return a < EV_ACTION_MAX ? actions[a].kernel_bit : 0;
}

/* Returns the entry_meta.type value of an entry type; NULL for none. */
const char *
entry_type_name(enum entry_type t)
{
	static const char *const names[ENTRY_TYPE_MAX] = {
		[ENTRY_UNKNOWN] = "unknown", [ENTRY_INIT] = "init", [ENTRY_SSHD] = "sshd",
		[ENTRY_SSM] = "ssm", [ENTRY_KUBELET] = "kubelet", [ENTRY_TELEPORT] = "teleport",
		[ENTRY_TERMINAL] = "terminal", [ENTRY_CONSOLE] = "console",
		[ENTRY_CONTAINER] = "container",
	};
	return (unsigned)t < ENTRY_TYPE_MAX ? names[t] : NULL;
}

/* Returns the container.runtime value of a runtime; NULL for none. */
const char *
container_runtime_name(enum container_runtime r)
{
	static const char *const names[RUNTIME_MAX] = {
		[RUNTIME_DOCKER] = "docker", [RUNTIME_CONTAINERD] = "containerd",
		[RUNTIME_CRIO] = "cri-o", [RUNTIME_PODMAN] = "podman",
	};
	return (unsigned)r < RUNTIME_MAX ? names[r] : NULL;
}

static const struct agent_stat_desc stat_descs[] = {
#define AGENT_STATS_DESC(n, k, g, h) { #n, h, offsetof(struct agent_stats, n), k, g },
	AGENT_STATS_LIST(AGENT_STATS_DESC)
#undef AGENT_STATS_DESC
};

/* Returns the counters of AGENT_STATS_LIST in order, and their number. */
const struct agent_stat_desc *
agent_stats_list(size_t *count)
{
	*count = sizeof(stat_descs) / sizeof(stat_descs[0]);
	return stat_descs;
}

/* Says whether the counters of group g apply to this agent. */
bool
agent_stats_has_group(const struct agent_stats *s, enum stat_group g)
{
	switch (g) {
	case STAT_FORWARDING:
		return s->forwarding;
	case STAT_SPOOLING:
		return s->spooling;
	case STAT_ALWAYS:
		break;
	}
	return true;
}

/* Reads the counter d describes. */
uint64_t
agent_stats_value(const struct agent_stats *s, const struct agent_stat_desc *d)
{
	uint64_t v;
	memcpy(&v, (const char *)s + d->offset, sizeof(v));
	return v;
}
