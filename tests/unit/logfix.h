/* Writers and hosts for the log suites: a made-up writer with a chosen
 * ancestry, and a fixed host, so that lines can be compared field by
 * field. Header-only. */
#ifndef FG_TEST_LOGFIX_H
#define FG_TEST_LOGFIX_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fanguard/log.h"
#include "fanguard/util.h"

__attribute__((unused)) static void add_ancestor(struct fg_proc *p, pid_t pid, const char *exe,
						 const char *comm)
{
	struct fg_ancestor *a = &p->anc[p->n_ancestors++];

	a->pid = pid;
	a->start_time = 1000 + (uint64_t)pid;
	a->exe_off = p->arena_used;
	fg_strlcpy(p->arena + p->arena_used, exe, FG_ARENA_LEN - p->arena_used);
	p->arena_used += (uint32_t)strlen(exe) + 1;
	fg_strlcpy(a->comm, comm, sizeof(a->comm));
}

/* A writer whose every field was read, with three ancestors:
 * vim <- bash <- sshd <- systemd. */
static struct fg_proc *make_proc(void)
{
	struct fg_proc *p = calloc(1, sizeof(*p));

	ck_assert_ptr_nonnull(p);
	p->tid = 4243;
	p->pid = 4242;
	p->ppid = 4100;
	p->uid = 0;
	p->auid = 1000;
	p->sessionid = 3;
	p->start_time = 12345;
	p->known = FG_PROC_ALL;
	fg_strlcpy(p->comm, "vim", sizeof(p->comm));
	fg_strlcpy(p->exe, "/usr/bin/vim", sizeof(p->exe));
	fg_strlcpy(p->cgroup, "/user.slice/user-1000.slice/session-3.scope", sizeof(p->cgroup));
	p->arena_used = 1;
	add_ancestor(p, 4100, "/usr/bin/bash", "bash");
	add_ancestor(p, 900, "/usr/sbin/sshd", "sshd");
	add_ancestor(p, 1, "/usr/lib/systemd/systemd", "systemd");
	return p;
}

/* n ancestors with ~50-byte exe paths, the farthest pid 1. */
__attribute__((unused)) static void deep_ancestry(struct fg_proc *p, unsigned n)
{
	char exe[64];

	p->n_ancestors = 0;
	p->arena_used = 1;
	for (unsigned i = 0; i < n; i++) {
		snprintf(exe, sizeof(exe), "/usr/libexec/some/helper/path/number-%08u", i);
		add_ancestor(p, i + 1 == n ? 1 : (pid_t)(100000 + i), exe, "helper");
	}
}

/* Booted at 2026-11-27T20:23:20Z, 100 ticks a second. */
__attribute__((unused)) static const struct fg_loghost test_host = {
    .name = "host1.example",
    .id = "0123456789abcdef0123456789abcdef",
    .boot_id = "01234567-89ab-cdef-0123-456789abcdef",
    .instance = "0123456789abcdef0123456789abcdef-1f",
    .btime = 1795811000,
    .clk_tck = 100,
};

/* A denied open-write by p into /etc/sudoers.d/evil. */
__attribute__((unused)) static struct fg_event make_event(const struct fg_proc *p)
{
	struct fg_event ev = {
	    .when = {.tv_sec = 1795811400, .tv_nsec = 123456789},
	    .action = "open-write",
	    .outcome = "failure",
	    .decision = "deny",
	    .reason = "no-rule",
	    .mode = "enforce",
	    .subtree = "sudoers",
	    .key = "priv_esc_persist",
	    .path = "/etc/sudoers.d/evil",
	    .proc = p,
	    .has_open = true,
	    .open_flags = 0x241,
	    .open_syscall = "openat",
	    .sequence = 42,
	};
	return ev;
}

/* A file name of PATH_MAX - 1 bytes built to be as expensive as possible
 * to escape: quotes, backslashes, control bytes, invalid UTF-8, C1. */
__attribute__((unused)) static void hostile_name(char *out, size_t size)
{
	static const char piece[] = "\"\\\n\x01\x7f\xff\xc2\x85/\xe2\x82";
	size_t n = strlen("/etc/sudoers.d/");

	memcpy(out, "/etc/sudoers.d/", n);
	for (size_t i = 0; n + 1 < size; i++)
		out[n++] = piece[i % (sizeof(piece) - 1)];
	out[n] = '\0';
}

#endif
