/* A compiled policy from an INI text, for the suites that decide against
 * one (policy, explain). Header-only; check.h's asserts end the test on
 * any failure. */
#ifndef FG_TEST_POLICYTEXT_H
#define FG_TEST_POLICYTEXT_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fanguard/config.h"
#include "fanguard/policy.h"
#include "fanguard/proc.h"

/* text through a temp file into fg_config_load, then fg_policy_compile
 * into *ret, which the caller frees with fg_policy_free. */
static inline void policy_from_text(const char *text, struct fg_policy *ret)
{
	char path[] = "/tmp/fg-policytext-XXXXXX";
	int fd = mkstemp(path);
	struct fg_config cfg;
	struct fg_diag diag = {0};

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ck_assert_msg(fg_config_load(&cfg, path, &diag) == 0, "%s", diag.n ? diag.msg[0] : "?");
	unlink(path);
	ck_assert_int_eq(fg_policy_compile(ret, &cfg), 0);
}

/* A writer for those decisions: pid (and tid) pid, login uid auid, exe and
 * comm as given, uid 0, no ancestors. The caller frees it. */
static inline struct fg_proc *proc_new(pid_t pid, uint32_t auid, const char *exe, const char *comm)
{
	struct fg_proc *p = calloc(1, sizeof(*p));

	ck_assert_ptr_nonnull(p);
	p->pid = p->tid = pid;
	p->auid = auid;
	snprintf(p->exe, sizeof(p->exe), "%s", exe);
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	p->arena_used = 1;
	return p;
}

#endif
