/*
 * entry.c: the entry leader of a process, the first process of the chain
 * through which work came onto the host, with entry_meta.type as ECS and
 * Elastic Defend name it. A session leader starts a new entry when its
 * parent is sshd (sshd), ssm-session-worker (ssm), teleport, kubelet, a
 * container runtime (container) or init (a service: init), or when it sits
 * on a virtual terminal (terminal) or the console (console); the first
 * process of a container's cgroup is a container entry whatever its
 * parent. Everything else inherits its parent's entry at fork, and keeps
 * it across exec. Not for reading /proc or the table: enrich.c and
 * proctab.c hand in the process and its parent.
 */
#include "entry.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define ENTRY_IP_TEXT 64	/* bytes of SSH_CONNECTION's first field looked at */

/* Returns the last path component of the executable, else the comm name. */
const char *
entry_basename(const struct process *p)
{
	const char *s;

	if ((p->known & PF_EXE) && p->executable && p->executable[0]) {
		s = strrchr(p->executable, '/');
		return s ? s + 1 : p->executable;
	}
	return (p->known & PF_NAME) ? p->name : "";
}

/* Says whether s begins with prefix. */
static bool
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Says whether a program is a container runtime's own process (never an entry of its own). */
static bool
is_runtime(const char *b)
{
	return starts_with(b, "runc") || starts_with(b, "crun") ||
	    starts_with(b, "containerd-shim") || starts_with(b, "conmon");
}

/* Makes p its own entry leader of type t. */
static void
entry_self(struct process *p, enum entry_type t)
{
	memset(&p->entry, 0, sizeof(p->entry));
	p->entry.pid = p->pid;
	p->entry.type = (uint8_t)t;
	memcpy(p->entry.entity_id, p->entity_id, sizeof(p->entry.entity_id));
}

/* Returns the entry type a session leader starts, or ENTRY_NONE when it starts none. */
static enum entry_type
entry_of_session_leader(const struct process *p, const struct process *parent)
{
	unsigned maj = ((unsigned)p->tty_nr >> 8) & 0xfff;
	unsigned min = ((unsigned)p->tty_nr & 0xff) | (((unsigned)p->tty_nr >> 12) & 0xfff00);
	const char *b = entry_basename(p), *pb;

	if (p->tty_nr != 0 && maj == 4 && min < 64)
		return ENTRY_TERMINAL;	/* /dev/ttyN: a login on a virtual terminal */
	if (p->tty_nr != 0 && maj == 5 && min == 1)
		return ENTRY_CONSOLE;
	if (parent == NULL || is_runtime(b) || starts_with(b, "pause"))
		return ENTRY_NONE;
	pb = entry_basename(parent);
	if (strcmp(pb, "ssm-session-worker") == 0 && maj >= 136 && maj <= 143)
		return ENTRY_SSM;
	if (strcmp(pb, "sshd") == 0 && strcmp(b, "sshd") != 0)
		return ENTRY_SSHD;
	if (strcmp(pb, "teleport") == 0 && strcmp(b, "teleport") != 0)
		return ENTRY_TELEPORT;
	if (strcmp(pb, "kubelet") == 0)
		return ENTRY_KUBELET;
	if (is_runtime(pb))
		return ENTRY_CONTAINER;
	if (parent->pid == 1)
		return ENTRY_INIT;
	return ENTRY_NONE;
}

/*
 * Sets p->entry from p (its stat, executable, cgroup and entity id read)
 * and its parent (NULL when the table does not know it). Returns true when
 * p starts a new sshd entry: the caller then looks up its SSH_CONNECTION.
 */
bool
entry_classify(struct process *p, const struct process *parent)
{
	enum entry_type t = ENTRY_NONE;

	if (p->pid == 1) {
		entry_self(p, ENTRY_INIT);
		return false;
	}
	if (p->pid == 2 || p->ppid == 2) {
		/* A kernel thread came from no entry. */
		memset(&p->entry, 0, sizeof(p->entry));
		return false;
	}
	if ((p->known & PF_CONTAINER) && p->container_id[0] &&
	    (parent == NULL || !(parent->known & PF_CONTAINER) ||
	    strcmp(parent->container_id, p->container_id) != 0))
		t = ENTRY_CONTAINER;
	else if ((p->known & PF_STAT) && p->sid == p->pid)
		t = entry_of_session_leader(p, parent);
	if (t != ENTRY_NONE) {
		entry_self(p, t);
		return t == ENTRY_SSHD;
	}
	/* What the process inherited at fork stays; its own old entry does not. */
	if (p->entry.type > ENTRY_UNKNOWN && p->entry.pid > 0 && p->entry.pid != p->pid)
		return false;
	if (parent != NULL && parent->entry.type != ENTRY_NONE)
		p->entry = parent->entry;
	else {
		memset(&p->entry, 0, sizeof(p->entry));
		p->entry.type = ENTRY_UNKNOWN;
	}
	return false;
}

/*
 * Takes entry_meta.source.ip from an SSH_CONNECTION value ("client_ip
 * client_port server_ip server_port"). Returns 0, or -1 when its first
 * field is no IPv4 or IPv6 address.
 */
int
entry_set_source(struct entry_ref *e, const char *ssh_connection)
{
	char ip[ENTRY_IP_TEXT];
	size_t n = strcspn(ssh_connection, " ");

	if (n == 0 || n >= sizeof(ip))
		return -1;
	memcpy(ip, ssh_connection, n);
	ip[n] = '\0';
	if (inet_pton(AF_INET, ip, e->ip) == 1)
		e->ip_family = AF_INET;
	else if (inet_pton(AF_INET6, ip, e->ip) == 1)
		e->ip_family = AF_INET6;
	else {
		e->ip_family = 0;
		return -1;
	}
	return 0;
}
