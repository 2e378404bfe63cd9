/* ident: verifying who a writer is. The parsers and the pure checks over
 * buffers, the policy's use of verified facts (content conditions, the
 * transaction known by content, failed facts), the digest of a file, and
 * one real verification: of this very process. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fanguard/config.h"
#include "fanguard/digest.h"
#include "fanguard/ident.h"
#include "fanguard/policy.h"
#include "fanguard/util.h"
#include "policytext.h"

/* SHA-256 of "abc" (FIPS 180-2, appendix B.1). */
#define ABC_SHA	  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define OTHER_SHA "0000000000000000000000000000000000000000000000000000000000000001"

static struct fg_policy pol;
static struct fg_proc *w;

static void load(const char *text)
{
	policy_from_text(text, &pol);
}

static const char *const conf_text = "[subtree sudoers]\n"
				     "path = /etc/sudoers.d\n"
				     "[writer pinned]\n"
				     "exe = /usr/bin/agent\n"
				     "sha256 = " ABC_SHA "\n"
				     "[writer by-content]\n"
				     "sha256 = " OTHER_SHA "\n"
				     "[writer admin]\n"
				     "exe = /usr/bin/bash\n"
				     "auid = 1000\n"
				     "[writer service]\n"
				     "exe = /usr/bin/tmpfiles\n"
				     "auid = unset\n"
				     "[writer by-ancestor]\n"
				     "exe = /usr/bin/cp\n"
				     "ancestor = /usr/bin/ansible\n"
				     /* the subtrees here are no deployment roots:
				      * scope = all keeps the passthrough there */
				     "[transaction]\n"
				     "exe = /usr/bin/bootc\n"
				     "scope = all\n";

static void setup(void)
{
	load(conf_text);
	w = calloc(1, sizeof(*w));
	ck_assert_ptr_nonnull(w);
	w->tid = w->pid = 4242;
	w->auid = w->sessionid = FG_AUID_UNSET;
	w->known = FG_PROC_ALL;
	w->arena_used = 1;
}

static void teardown(void)
{
	fg_policy_free(&pol);
	free(w);
}

static void set_sha(struct fg_trustinfo *t, const char *hex)
{
	for (unsigned i = 0; i < 32; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		t->sha256[i] = (uint8_t)v;
	}
	t->dig |= FG_DIG_SHA256 | FG_DIG_LOOKED;
}

static void add_ancestor(const char *exe)
{
	struct fg_ancestor *a = &w->anc[w->n_ancestors++];

	memset(a, 0, sizeof(*a));
	a->pid = 100 + (pid_t)w->n_ancestors;
	a->exe_off = w->arena_used;
	strcpy(w->arena + w->arena_used, exe);
	w->arena_used += (uint32_t)strlen(exe) + 1;
}

static struct fg_decision decide(void)
{
	struct fg_decision d;

	fg_policy_decide(&pol, 0, w, &d);
	return d;
}

/* ---- /proc/PID/maps */

START_TEST(test_parse_map_lines)
{
	static const char file[] = "7f8a29808000-7f8a2995e000 r-xp 00026000 fe:00 332835           "
				   "          /usr/lib/x86_64-linux-gnu/libc.so.6";
	static const char anon[] = "55f91cf2a000-55f91cf2b000 r-xp 00000000 00:00 0 ";
	static const char vdso[] =
	    "7ffd9c9f0000-7ffd9c9f2000 r-xp 00000000 00:00 0                          [vdso]";
	struct fg_map m;

	ck_assert_int_eq(fg_ident_parse_map(file, strlen(file), &m), 0);
	ck_assert(m.exec);
	ck_assert_uint_eq(m.major, 0xfe);
	ck_assert_uint_eq(m.minor, 0);
	ck_assert_uint_eq(m.ino, 332835);
	ck_assert_uint_eq(m.lo, 0x7f8a29808000ULL);
	ck_assert_int_eq((int)m.path_len, (int)strlen("/usr/lib/x86_64-linux-gnu/libc.so.6"));
	ck_assert_int_eq(fg_ident_parse_map(anon, strlen(anon), &m), 0);
	ck_assert_uint_eq(m.ino, 0);
	ck_assert_uint_eq(m.path_len, 0);
	ck_assert_int_eq(fg_ident_parse_map(vdso, strlen(vdso), &m), 0);
	ck_assert(m.path_len == 6 && !memcmp(m.path, "[vdso]", 6));
	ck_assert_int_eq(fg_ident_parse_map("", 0, &m), -EINVAL);
	ck_assert_int_eq(fg_ident_parse_map("zz-1 r-xp 0 0:0 0", 17, &m), -EINVAL);
	ck_assert_int_eq(fg_ident_parse_map("1-2 r-x", 7, &m), -EINVAL);
}
END_TEST

static const char maps_clean[] =
    "55d0c0000000-55d0c0001000 r--p 00000000 08:01 100 /opt/agent/bin/agent\n"
    "55d0c0001000-55d0c0002000 r-xp 00001000 08:01 100 /opt/agent/bin/agent\n"
    "7f0000000000-7f0000100000 r-xp 00000000 08:01 200 /usr/lib/libc.so.6\n"
    "7f0000200000-7f0000201000 rw-p 00000000 00:00 0 \n"
    "7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                          [vdso]\n"
    "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

static struct fg_maps_scan scan(const char *text, size_t chunk)
{
	struct fg_maps_scan s = {.pol = &pol, .exe_major = 8, .exe_minor = 1, .exe_ino = 100};

	for (size_t off = 0; off < strlen(text); off += chunk) {
		size_t n = strlen(text) - off < chunk ? strlen(text) - off : chunk;
		fg_ident_scan_maps(&s, text + off, n);
	}
	fg_ident_scan_maps(&s, text, 0);
	return s;
}

START_TEST(test_scan_maps_clean_in_any_chunks)
{
	static const size_t chunks[] = {4096, 1, 7, 64};

	for (size_t i = 0; i < FG_ARRAY_SIZE(chunks); i++) {
		struct fg_maps_scan s = scan(maps_clean, chunks[i]);
		ck_assert_msg(s.exe_mapped && s.problem == 0, "chunk %zu: problem %u (%s)",
			      chunks[i], s.problem, s.detail);
		ck_assert_str_eq(s.first_exec, "/opt/agent/bin/agent");
	}
}
END_TEST

START_TEST(test_scan_maps_findings)
{
	static const struct {
		const char *text;
		bool mapped;
		uint8_t problem;
		const char *detail;
	} cases[] = {
	    /* the image moved into anonymous memory, the exe swapped */
	    {"55d0c0001000-55d0c0002000 r-xp 00000000 00:00 0 \n"
	     "7f0000000000-7f0000100000 r-xp 00000000 08:01 200 /usr/lib/libc.so.6\n",
	     false, FG_IDP_ANON_CODE, "(anonymous)"},
	    /* the claimed exe mapped too, the code still anonymous */
	    {"55d0c0001000-55d0c0002000 r-xp 00000000 00:00 0 \n"
	     "7e0000000000-7e0000001000 r-xp 00000000 08:01 100 /opt/agent/bin/agent\n",
	     true, FG_IDP_ANON_CODE, "(anonymous)"},
	    /* a preloaded library */
	    {"55d0c0001000-55d0c0002000 r-xp 00001000 08:01 100 /opt/agent/bin/agent\n"
	     "7f0000000000-7f0000001000 r-xp 00000000 08:01 300 /tmp/evil.so\n",
	     true, FG_IDP_FOREIGN_CODE, "/tmp/evil.so"},
	    /* a memfd */
	    {"55d0c0001000-55d0c0002000 r-xp 00001000 08:01 100 /opt/agent/bin/agent\n"
	     "7f0000000000-7f0000001000 r-xp 00000000 00:01 7 /memfd:x (deleted)\n",
	     true, FG_IDP_FOREIGN_CODE, "/memfd:x (deleted)"},
	    /* a deleted library under /usr is not the image's any more */
	    {"55d0c0001000-55d0c0002000 r-xp 00001000 08:01 100 /opt/agent/bin/agent\n"
	     "7f0000000000-7f0000001000 r-xp 00000000 08:01 301 /usr/lib/libz.so (deleted)\n",
	     true, FG_IDP_FOREIGN_CODE, "/usr/lib/libz.so (deleted)"},
	    /* /usrx is not under /usr */
	    {"55d0c0001000-55d0c0002000 r-xp 00001000 08:01 100 /opt/agent/bin/agent\n"
	     "7f0000000000-7f0000001000 r-xp 00000000 08:01 302 /usrx/lib.so\n",
	     true, FG_IDP_FOREIGN_CODE, "/usrx/lib.so"},
	    /* a named anonymous mapping is anonymous */
	    {"55d0c0001000-55d0c0002000 r-xp 00001000 08:01 100 /opt/agent/bin/agent\n"
	     "7f0000000000-7f0000001000 rwxp 00000000 00:00 0 [anon:jit]\n",
	     true, FG_IDP_ANON_CODE, "[anon:jit]"},
	    /* data mappings of anything are not code */
	    {"55d0c0001000-55d0c0002000 r-xp 00001000 08:01 100 /opt/agent/bin/agent\n"
	     "7f0000000000-7f0000001000 rw-p 00000000 08:01 300 /tmp/data\n",
	     true, 0, ""},
	};

	for (size_t i = 0; i < FG_ARRAY_SIZE(cases); i++) {
		struct fg_maps_scan s = scan(cases[i].text, 5);
		ck_assert_msg(s.exe_mapped == cases[i].mapped, "case %zu: mapped", i);
		ck_assert_msg(s.problem == cases[i].problem, "case %zu: problem %u", i, s.problem);
		ck_assert_msg(!strcmp(s.detail, cases[i].detail), "case %zu: detail '%s'", i,
			      s.detail);
	}
}
END_TEST

START_TEST(test_pagemap_modified)
{
	const uint64_t present = 1ULL << 63, swapped = 1ULL << 62, file = 1ULL << 61;
	const uint64_t clean[] = {present | file | 123, 0, present | file, 0};
	const uint64_t written[] = {present | file, present | 77};
	const uint64_t out[] = {present | file, swapped | 5};
	struct fg_maps_scan s = scan(maps_clean, 3);

	ck_assert(!fg_ident_pagemap_modified(clean, FG_ARRAY_SIZE(clean)));
	ck_assert(fg_ident_pagemap_modified(written, FG_ARRAY_SIZE(written)));
	ck_assert(fg_ident_pagemap_modified(out, FG_ARRAY_SIZE(out)));
	/* the exe's and libc's executable ranges are kept, not the vdso's */
	ck_assert_uint_eq(s.n_code, 2);
	ck_assert_uint_eq(s.code[1].lo, 0x7f0000000000ULL);
	ck_assert_uint_eq(s.code[1].hi, 0x7f0000100000ULL);
}
END_TEST

START_TEST(test_scan_maps_trusted_filesystem)
{
	struct fg_devnum dev = {8, 2};
	struct fg_maps_scan s;

	/* /usr is on 8:2: a /usr path on 8:1 comes from somewhere else (a
	 * bind mount in another mount namespace reads the same). */
	pol.trusted_devs = &dev;
	pol.n_trusted_devs = 1;
	s = scan(maps_clean, 4096);
	pol.trusted_devs = NULL;
	pol.n_trusted_devs = 0;
	ck_assert_uint_eq(s.problem, FG_IDP_FOREIGN_CODE);
	ck_assert_str_eq(s.detail, "/usr/lib/libc.so.6");
}
END_TEST

/* ---- the environment and the session */

START_TEST(test_find_injection)
{
	static const char env[] = "HOME=/root\0LD_PRELOAD=\0XLD_AUDIT=x\0LD_AUDIT=/tmp/a.so\0";
	static const char libpath[] = "A=1\0LD_LIBRARY_PATH=/tmp\0";
	static const char clean[] = "PATH=/usr/bin\0LD_PRELOADX=1\0";
	const char *hit = NULL;

	ck_assert_uint_eq(fg_ident_find_injection(env, sizeof(env) - 1, &hit), 18);
	ck_assert(!strncmp(hit, "LD_AUDIT=/tmp/a.so", 18));
	ck_assert_uint_eq(fg_ident_find_injection(libpath, sizeof(libpath) - 1, &hit), 20);
	ck_assert_uint_eq(fg_ident_find_injection(clean, sizeof(clean) - 1, &hit), 0);
	ck_assert_uint_eq(fg_ident_find_injection("", 0, &hit), 0);
}
END_TEST

START_TEST(test_session_ok)
{
	ck_assert(fg_ident_session_ok(1000, 7, "/user.slice/user-1000.slice/session-7.scope"));
	ck_assert(fg_ident_session_ok(1000, 7, "/x/user.slice/user-1000.slice/session-7.scope/y"));
	ck_assert(!fg_ident_session_ok(1000, 7, "/user.slice/user-1000.slice/session-77.scope"));
	ck_assert(!fg_ident_session_ok(1000, 77, "/user.slice/user-1000.slice/session-7.scope"));
	ck_assert(!fg_ident_session_ok(1001, 7, "/user.slice/user-1000.slice/session-7.scope"));
	ck_assert(!fg_ident_session_ok(1000, 7, "/user.slice/user-1000.slice/user@1000.service"));
	ck_assert(!fg_ident_session_ok(1000, 7, "/system.slice/cron.service"));
	ck_assert(!fg_ident_session_ok(1000, FG_AUID_UNSET, "/user.slice/user-1000.slice"));
	ck_assert(!fg_ident_session_ok(FG_AUID_UNSET, 7, "/"));
	/* the scope's own path, for its invocation id */
	ck_assert_uint_eq(fg_ident_session_scope(1000, 7, "/x/user-1000.slice/session-7.scope/y"),
			  strlen("/x/user-1000.slice/session-7.scope"));
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(fg_ident_reason(FG_IDP_EXE_UNMAPPED), "exe-unverified");
	ck_assert_str_eq(fg_ident_reason(FG_IDP_PRELOAD), "code-untrusted");
	ck_assert_str_eq(fg_ident_reason(FG_IDP_TRACED), "code-untrusted");
	ck_assert_str_eq(fg_ident_reason(FG_IDP_NO_SESSION), "auid-unverified");
	ck_assert_str_eq(fg_ident_reason(FG_IDP_DIGEST), "digest-mismatch");
	ck_assert(fg_ident_problem_is_exe(FG_IDP_EXE_OTHER_FS));
	ck_assert(!fg_ident_problem_is_exe(FG_IDP_ANON_CODE));
	for (unsigned i = 0; i < FG_IDP_N; i++)
		ck_assert_ptr_nonnull(fg_ident_problem_name(i));
	ck_assert_str_eq(fg_ident_method_name(FG_METHOD_VERITY), "fs-verity");
}
END_TEST

/* ---- the policy over verified facts */

START_TEST(test_policy_sha256_condition)
{
	strcpy(w->exe, "/usr/bin/agent");
	/* not hashed: no match, unless ident.c is deciding (it then hashes) */
	ck_assert_str_eq(fg_policy_rule_mismatch(&pol, 0, 0, w), "sha256");
	w->verifying = true;
	ck_assert_ptr_null(fg_policy_rule_mismatch(&pol, 0, 0, w));
	w->verifying = false;
	set_sha(&w->trust, ABC_SHA);
	ck_assert_ptr_null(fg_policy_rule_mismatch(&pol, 0, 0, w));
	ck_assert_int_eq(decide().rule, 0);
	set_sha(&w->trust, OTHER_SHA);
	ck_assert_str_eq(fg_policy_rule_mismatch(&pol, 0, 0, w), "sha256");
	/* by content alone, whatever the path */
	strcpy(w->exe, "/tmp/renamed-copy");
	ck_assert_int_eq(decide().rule, 1);
	w->trust.dig = FG_DIG_FAILED;
	ck_assert_int_eq(decide().verdict, FG_VERDICT_DENY);
}
END_TEST

START_TEST(test_policy_failed_facts)
{
	strcpy(w->exe, "/usr/bin/bash");
	w->auid = 1000;
	ck_assert_int_eq(decide().rule, 2);
	w->trust.auid = FG_TRUST_FAILED;
	ck_assert_str_eq(fg_policy_rule_mismatch(&pol, 2, 0, w), "auid");
	w->trust.auid = FG_TRUST_OK;
	w->trust.exe = FG_TRUST_FAILED;
	ck_assert_str_eq(fg_policy_rule_mismatch(&pol, 2, 0, w), "exe");
	w->trust.exe = FG_TRUST_OK;
	w->trust.code = FG_TRUST_FAILED;
	ck_assert_str_eq(fg_policy_rule_mismatch(&pol, 2, 0, w), "code");
	/* "unset" needs no session */
	memset(&w->trust, 0, sizeof(w->trust));
	strcpy(w->exe, "/usr/bin/tmpfiles");
	w->auid = FG_AUID_UNSET;
	w->trust.auid = FG_TRUST_FAILED;
	ck_assert_int_eq(decide().rule, 3);
	/* an ancestor whose exe failed does not count */
	memset(&w->trust, 0, sizeof(w->trust));
	strcpy(w->exe, "/usr/bin/cp");
	add_ancestor("/usr/bin/ansible");
	ck_assert_int_eq(decide().rule, 4);
	w->anc[0].trust.exe = FG_TRUST_FAILED;
	ck_assert_int_eq(decide().verdict, FG_VERDICT_DENY);
}
END_TEST

START_TEST(test_policy_transaction_by_content)
{
	struct fg_decision d;
	uint8_t txd[1][32];

	strcpy(w->exe, "/usr/bin/sh");
	add_ancestor("/tmp/bootc-copy (deleted)");
	set_sha(&w->anc[0].trust, ABC_SHA);
	ck_assert_int_eq(decide().verdict, FG_VERDICT_DENY);
	/* the digests taken at load of the listed tools */
	memcpy(txd[0], w->anc[0].trust.sha256, 32);
	pol.tx_digests = txd;
	pol.n_tx_digests = 1;
	d = decide();
	ck_assert_int_eq(d.reason, FG_REASON_TRANSACTION);
	ck_assert_int_eq(d.tx_anc, 0);
	/* inside the trusted prefix a path is a path: not by content */
	w->arena_used = 1;
	w->n_ancestors = 0;
	add_ancestor("/usr/bin/other");
	set_sha(&w->anc[0].trust, ABC_SHA);
	ck_assert_int_eq(decide().verdict, FG_VERDICT_DENY);
	/* the real tool by path, verified or not yet */
	w->arena_used = 1;
	w->n_ancestors = 0;
	add_ancestor("/usr/bin/bootc");
	ck_assert_int_eq(decide().reason, FG_REASON_TRANSACTION);
	w->anc[0].trust.code = FG_TRUST_FAILED;
	ck_assert_int_eq(decide().verdict, FG_VERDICT_DENY);
	pol.tx_digests = NULL;
	pol.n_tx_digests = 0;
}
END_TEST

START_TEST(test_policy_needs)
{
	struct fg_need n[8];
	struct fg_decision d;

	strcpy(w->exe, "/usr/bin/bash");
	w->auid = 1000;
	d = decide();
	ck_assert_uint_eq(fg_policy_needs(&pol, 0, w, &d, n, 8), 1);
	ck_assert_int_eq(n[0].who, -1);
	ck_assert_uint_eq(n[0].what, FG_NEED_EXE | FG_NEED_CODE | FG_NEED_AUID);
	strcpy(w->exe, "/usr/bin/cp");
	w->auid = FG_AUID_UNSET;
	add_ancestor("/usr/bin/make");
	add_ancestor("/usr/bin/ansible");
	d = decide();
	ck_assert_uint_eq(fg_policy_needs(&pol, 0, w, &d, n, 8), 2);
	ck_assert_int_eq(n[1].who, 1);
	ck_assert_uint_eq(n[1].what, FG_NEED_EXE | FG_NEED_CODE);
	add_ancestor("/usr/bin/bootc");
	d = decide();
	ck_assert_int_eq(d.reason, FG_REASON_TRANSACTION);
	ck_assert_uint_eq(fg_policy_needs(&pol, 0, w, &d, n, 8), 2);
	ck_assert_int_eq(n[0].who, 2); /* the root first */
	ck_assert_int_eq(n[1].who, -1);
	ck_assert_uint_eq(n[1].what, FG_NEED_CODE);
	d.verdict = FG_VERDICT_DENY;
	ck_assert_uint_eq(fg_policy_needs(&pol, 0, w, &d, n, 8), 0);
}
END_TEST

/* ---- digests and a real verification */

START_TEST(test_digest_of_a_file)
{
	char path[] = "/tmp/fg-digest-XXXXXX";
	int fd = mkstemp(path);
	struct fg_digest d;
	struct fg_trustinfo t = {0};

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "abc", 3), 3);
	ck_assert_int_eq(fg_digest_setup(), 0);
	ck_assert_int_eq(fg_digest_fd(fd, false, &d), 0);
	/* no fs-verity on /tmp: the content is hashed even when not asked */
	ck_assert(d.dig & FG_DIG_SHA256);
	ck_assert(!(d.dig & FG_DIG_VERITY));
	memcpy(t.sha256, d.sha256, 32);
	t.dig = FG_DIG_SHA256;
	set_sha(&w->trust, ABC_SHA);
	ck_assert(!memcmp(w->trust.sha256, t.sha256, 32));
	close(fd);
	fd = open("/proc/self/status", O_RDONLY);
	ck_assert_int_lt(fg_digest_fd(fd, true, &d), 0); /* not a regular file */
	close(fd);
	unlink(path);
}
END_TEST

START_TEST(test_decide_this_process)
{
	char self[PATH_MAX], conf[PATH_MAX + 128];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	struct fg_ident ix = {0};
	struct fg_decision d;
	uint64_t ticket = 0;

	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	fg_policy_free(&pol);
	snprintf(conf, sizeof(conf), "[subtree s]\npath = /etc/sudoers.d\n[writer me]\nexe = %s\n",
		 self);
	load(conf);
	ix.scratch = malloc(sizeof(*ix.scratch));
	ck_assert_int_eq(fg_proc_resolve(getpid(), w), 0);
	ck_assert_int_eq(fg_ident_decide(&ix, &pol, 0, w, -2, false, &d, &ticket), FG_IDENT_DONE);
	/* this test's image lies outside /usr, its libraries inside */
	ck_assert_msg(d.verdict == FG_VERDICT_ALLOW, "problem %s: %s",
		      fg_ident_problem_name(w->finding.problem), w->finding.detail);
	ck_assert_int_eq(w->trust.exe, FG_TRUST_OK);
	ck_assert_int_eq(w->trust.code, FG_TRUST_OK);
	ck_assert_int_eq(w->finding.method, FG_METHOD_PATH);
	free(ix.scratch);
}
END_TEST

/* ---- the keys */

static int load_text(const char *text, struct fg_config *cfg, struct fg_diag *diag)
{
	char path[] = "/tmp/fg-ident-XXXXXX";
	int fd = mkstemp(path), r;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	r = fg_config_load(cfg, path, diag);
	unlink(path);
	return r;
}

START_TEST(test_config_keys)
{
	struct fg_config cfg;
	struct fg_diag diag = {0};

	ck_assert_int_eq(load_text("[subtree s]\npath = /etc/s\n[writer w]\nsha256 = " ABC_SHA "\n",
				   &cfg, &diag),
			 0);
	/* a digest alone is a condition; the prefix defaults to /usr */
	ck_assert_uint_eq(cfg.writers[0].sha256.n, 1);
	ck_assert_uint_eq(cfg.trusted_prefix.n, 1);
	ck_assert_str_eq(cfg.trusted_prefix.v[0], "/usr");
	fg_config_free(&cfg);
	ck_assert_int_eq(
	    load_text("[fanguard]\ntrusted_prefix = /usr /opt/vendor\n"
		      "[subtree s]\npath = /etc/s\n[transaction]\nexe = /usr/bin/bootc\n"
		      "sha256 = BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD\n",
		      &cfg, &diag),
	    0);
	ck_assert_uint_eq(cfg.trusted_prefix.n, 2);
	ck_assert_str_eq(cfg.transaction.sha256.v[0], ABC_SHA); /* lower case */
	fg_config_free(&cfg);
	ck_assert_int_eq(load_text("[subtree s]\npath = /etc/s\n[writer w]\nexe = /usr/bin/x\n"
				   "sha256 = abc\n",
				   &cfg, &diag),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(diag.msg[0], ":5: sha256: 'abc' is not a SHA-256 digest"));
	memset(&diag, 0, sizeof(diag));
	ck_assert_int_eq(load_text("[fanguard]\ntrusted_prefix = usr\n[subtree s]\npath = /etc/s\n",
				   &cfg, &diag),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(diag.msg[0], ":2: trusted_prefix"));
}
END_TEST

static Suite *ident_suite(void)
{
	Suite *s = suite_create("ident");
	TCase *tc = tcase_create("ident");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_parse_map_lines);
	tcase_add_test(tc, test_scan_maps_clean_in_any_chunks);
	tcase_add_test(tc, test_scan_maps_findings);
	tcase_add_test(tc, test_scan_maps_trusted_filesystem);
	tcase_add_test(tc, test_pagemap_modified);
	tcase_add_test(tc, test_find_injection);
	tcase_add_test(tc, test_session_ok);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_policy_sha256_condition);
	tcase_add_test(tc, test_policy_failed_facts);
	tcase_add_test(tc, test_policy_transaction_by_content);
	tcase_add_test(tc, test_policy_needs);
	tcase_add_test(tc, test_digest_of_a_file);
	tcase_add_test(tc, test_decide_this_process);
	tcase_add_test(tc, test_config_keys);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ident_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
