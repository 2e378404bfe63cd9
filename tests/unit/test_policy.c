/* policy: the pure decision over a compiled allowlist. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fanguard/config.h"
#include "fanguard/guard.h"
#include "fanguard/policy.h"
#include "fanguard/txscope.h"
#include "fanguard/unitcg.h"
#include "fanguard/util.h"
#include "policytext.h"

static const char *const conf_text = "[fanguard]\n"
				     "mode = enforce\n"
				     "[subtree sudoers]\n"
				     "path = /etc/sudoers.d\n"
				     "key = priv_esc_persist\n"
				     "[subtree nested]\n"
				     "path = /etc/sudoers.d/deep\n"
				     "[subtree policy]\n"
				     "path = /etc/containers/policy.json\n"
				     "[subtree cron]\n"
				     "path = /etc/cron.d\n"
				     "mode = audit\n"
				     "[subtree fanguard-config]\n"
				     "path = /etc/fanguard\n"
				     "[subtree staged-sudoers]\n"
				     "path = /sysroot/ostree/deploy/os/deploy/abc.1/etc/sudoers.d\n"
				     "[subtree loader]\n"
				     "path = /boot/loader\n"
				     "[writer by-exe]\n"
				     "exe = /usr/bin/tool-*\n"
				     "subtrees = sudoers\n"
				     "[writer quiet-one]\n"
				     "exe = /usr/bin/quiet\n"
				     "quiet = yes\n"
				     "[writer by-comm]\n"
				     "comm = agent\n"
				     "uid = 0\n"
				     "[writer admin]\n"
				     "exe = /usr/bin/bash\n"
				     "auid = 1000 1001\n"
				     "[writer unset-auid]\n"
				     "exe = /usr/bin/systemd-tmpfiles\n"
				     "auid = unset\n"
				     "[writer any-auid]\n"
				     "exe = /usr/bin/anyone\n"
				     "auid = *\n"
				     "[writer by-ancestor]\n"
				     "exe = /usr/bin/python3\n"
				     "ancestor = /usr/bin/ansible*\n"
				     "[writer by-parent]\n"
				     "exe = /usr/bin/cp\n"
				     "parent = /usr/bin/make\n"
				     "[writer by-cgroup]\n"
				     "exe = /usr/bin/python3.11\n"
				     "cgroup = /system.slice/cloud-init.service "
				     "/system.slice/cloud-final.service\n"
				     "[writer dup-a]\n"
				     "exe = /usr/bin/cp /usr/bin/cp\n"
				     "uid = 5\n"
				     "[writer mixed]\n"
				     "exe = /usr/bin/cp /opt/*/cp\n"
				     "comm = mixer\n"
				     "[writer policy-admin]\n"
				     "auid = 4242\n"
				     "subtrees = fanguard-config sudoers\n"
				     "[writer cron-person]\n"
				     "auid = 4343\n"
				     "subtrees = sudoers\n"
				     "[writer policy-cli]\n"
				     "exe = /usr/bin/fanguard\n"
				     "auid = admins\n"
				     "subtrees = fanguard-config\n"
				     "[transaction]\n"
				     "exe = /usr/bin/bootc /usr/bin/rpm-ostree\n"
				     /* today's passthrough for the tests of its matching;
				      * test_decide_transaction_scope sets it back */
				     "scope = all\n";

static struct fg_policy pol;
static struct fg_proc *w;

static void setup(void)
{
	policy_from_text(conf_text, &pol);
	w = proc_new(4242, FG_AUID_UNSET, "/usr/bin/evil", "evil");
	w->uid = 1000;
	strcpy(w->cgroup, "/user.slice");
}

static void teardown(void)
{
	fg_policy_free(&pol);
	free(w);
}

/* Appends ancestor (pid, exe) to w, nearest first. */
static void add_anc(pid_t pid, const char *exe)
{
	struct fg_ancestor *a = &w->anc[w->n_ancestors++];

	a->pid = pid;
	a->exe_off = w->arena_used;
	strcpy(w->arena + w->arena_used, exe);
	w->arena_used += (uint32_t)strlen(exe) + 1;
	strcpy(a->comm, "anc");
}

static int sub(const char *name)
{
	return fg_config_find_subtree(&pol.cfg, name);
}

static struct fg_decision decide(const char *subtree)
{
	struct fg_decision d;

	fg_policy_decide(&pol, (unsigned)sub(subtree), w, &d);
	return d;
}

static const char *rule_name(const struct fg_decision *d)
{
	return d->rule >= 0 ? pol.cfg.writers[d->rule].name : "(none)";
}

static const char *decided_rule(const char *subtree)
{
	struct fg_decision d = decide(subtree);

	return rule_name(&d);
}

START_TEST(test_match_path_longest_prefix_and_boundary)
{
	ck_assert_int_eq(fg_policy_match_path(&pol, "/etc/sudoers.d/x"), sub("sudoers"));
	ck_assert_int_eq(fg_policy_match_path(&pol, "/etc/sudoers.d/deep/x"), sub("nested"));
	ck_assert_int_eq(fg_policy_match_path(&pol, "/etc/sudoers.d"), sub("sudoers"));
	ck_assert_int_eq(fg_policy_match_path(&pol, "/etc/sudoers.dx/y"), -1);
	ck_assert_int_eq(fg_policy_match_path(&pol, "/etc/sudoers"), -1);
	ck_assert_int_eq(fg_policy_match_path(&pol, "/etc/containers/policy.json"), sub("policy"));
	ck_assert_int_eq(fg_policy_match_path(&pol, "/etc/containers/policy.json.tmp"), -1);
	ck_assert_int_eq(fg_policy_match_path(&pol, "/etc/containers/other"), -1);
}
END_TEST

START_TEST(test_decide_no_rule_denies)
{
	struct fg_decision d = decide("sudoers");

	ck_assert_int_eq(d.verdict, FG_VERDICT_DENY);
	ck_assert_int_eq(d.reason, FG_REASON_NO_RULE);
	ck_assert_int_eq(d.rule, -1);
	ck_assert_int_eq(d.mode, FG_MODE_ENFORCE);
}
END_TEST

START_TEST(test_decide_exe_glob_and_subtrees)
{
	strcpy(w->exe, "/usr/bin/tool-a");
	struct fg_decision d = decide("sudoers");
	ck_assert_int_eq(d.verdict, FG_VERDICT_ALLOW);
	ck_assert_str_eq(rule_name(&d), "by-exe");
	/* the rule names only sudoers */
	ck_assert_int_eq(decide("cron").verdict, FG_VERDICT_DENY);
	ck_assert_str_eq(fg_policy_rule_mismatch(&pol, 0, (unsigned)sub("cron"), w), "subtrees");
	/* FNM_PATHNAME: '*' does not cross '/' */
	strcpy(w->exe, "/usr/bin/tool-a/../../../tmp/x");
	ck_assert_int_eq(decide("sudoers").verdict, FG_VERDICT_DENY);
	strcpy(w->exe, "/usr/bin/tool-dir/evil");
	ck_assert_int_eq(decide("sudoers").verdict, FG_VERDICT_DENY);
	ck_assert_str_eq(fg_policy_rule_mismatch(&pol, 0, (unsigned)sub("sudoers"), w), "exe");
}
END_TEST

START_TEST(test_decide_comm_and_uid_both_needed)
{
	strcpy(w->comm, "agent");
	w->uid = 1000;
	ck_assert_int_eq(decide("sudoers").verdict, FG_VERDICT_DENY);
	ck_assert_str_eq(fg_policy_rule_mismatch(&pol, 2, (unsigned)sub("sudoers"), w), "uid");
	w->uid = 0;
	ck_assert_str_eq(decided_rule("sudoers"), "by-comm");
}
END_TEST

START_TEST(test_decide_auid_numbers_unset_and_any)
{
	strcpy(w->exe, "/usr/bin/bash");
	w->auid = FG_AUID_UNSET;
	ck_assert_int_eq(decide("sudoers").verdict, FG_VERDICT_DENY);
	ck_assert_str_eq(fg_policy_rule_mismatch(&pol, 3, (unsigned)sub("sudoers"), w), "auid");
	w->auid = 1001;
	struct fg_decision d = decide("sudoers");
	ck_assert_str_eq(rule_name(&d), "admin");
	w->auid = 1002;
	ck_assert_int_eq(decide("sudoers").verdict, FG_VERDICT_DENY);

	strcpy(w->exe, "/usr/bin/systemd-tmpfiles");
	w->auid = FG_AUID_UNSET;
	d = decide("sudoers");
	ck_assert_str_eq(rule_name(&d), "unset-auid");
	w->auid = 0; /* a logged-in root running it: not the boot-time service */
	ck_assert_int_eq(decide("sudoers").verdict, FG_VERDICT_DENY);

	strcpy(w->exe, "/usr/bin/anyone");
	w->auid = 77;
	d = decide("sudoers");
	ck_assert_str_eq(rule_name(&d), "any-auid");
}
END_TEST

START_TEST(test_decide_ancestor_and_parent)
{
	strcpy(w->exe, "/usr/bin/python3");
	add_anc(10, "/usr/bin/bash");
	ck_assert_int_eq(decide("sudoers").verdict, FG_VERDICT_DENY);
	ck_assert_str_eq(fg_policy_rule_mismatch(&pol, 6, (unsigned)sub("sudoers"), w), "ancestor");
	add_anc(9, "/usr/bin/ansible-playbook");
	add_anc(1, "/usr/lib/systemd/systemd");
	struct fg_decision d = decide("sudoers");
	ck_assert_str_eq(rule_name(&d), "by-ancestor");

	teardown();
	setup();
	strcpy(w->exe, "/usr/bin/cp");
	add_anc(20, "/usr/bin/bash");
	add_anc(19, "/usr/bin/make");
	/* make is an ancestor, not the parent */
	ck_assert_int_eq(decide("sudoers").verdict, FG_VERDICT_DENY);
	ck_assert_str_eq(fg_policy_rule_mismatch(&pol, 7, (unsigned)sub("sudoers"), w), "parent");
	strcpy(w->arena + w->anc[0].exe_off, "/usr/bin/make");
	ck_assert_str_eq(decided_rule("sudoers"), "by-parent");
}
END_TEST

START_TEST(test_decide_cgroup_exact)
{
	strcpy(w->exe, "/usr/bin/python3.11");
	w->cgroup_unit = FG_CGU_UNIT;
	strcpy(w->cgroup, "/system.slice/cloud-final.service");
	ck_assert_str_eq(decided_rule("sudoers"), "by-cgroup");
	/* a name the rule does not list, however like the listed ones */
	const char *const others[] = {"/system.slice/cloud-evil.service",
				      "/system.slice/cloud-init.service/sub",
				      "/system.slice/cloud-init.servic",
				      "/user.slice/user-0.slice/session-1.scope",
				      "/system.slice/system-x.slice/cloud-init.service",
				      ""};
	for (size_t i = 0; i < FG_ARRAY_SIZE(others); i++) {
		strcpy(w->cgroup, others[i]);
		struct fg_decision d = decide("sudoers");
		ck_assert_int_eq(d.verdict, FG_VERDICT_DENY);
		ck_assert_int_eq(d.reason, FG_REASON_NO_RULE);
		ck_assert_str_eq(fg_policy_rule_mismatch(&pol, 8, (unsigned)sub("sudoers"), w),
				 "cgroup");
	}
}
END_TEST

/* The name is right but the cgroup is not a unit systemd started: no
 * match, and the denial says so and is an alert. */
START_TEST(test_decide_cgroup_unverified)
{
	strcpy(w->exe, "/usr/bin/python3.11");
	strcpy(w->cgroup, "/system.slice/cloud-init.service");
	w->cgroup_unit = FG_CGU_FORGED;
	struct fg_decision d = decide("sudoers");
	ck_assert_int_eq(d.verdict, FG_VERDICT_DENY);
	ck_assert_int_eq(d.reason, FG_REASON_CGROUP_UNVERIFIED);
	ck_assert(d.alert);
	ck_assert_str_eq(fg_policy_rule_mismatch(&pol, 8, (unsigned)sub("sudoers"), w),
			 "cgroup-unverified");
	/* never checked (no policy owner to check it) counts as unverified */
	w->cgroup_unit = FG_CGU_UNCHECKED;
	ck_assert_str_eq(fg_policy_rule_mismatch(&pol, 8, (unsigned)sub("sudoers"), w),
			 "cgroup-unverified");
	ck_assert_int_eq(decide("sudoers").verdict, FG_VERDICT_DENY);
	/* a forged cgroup is an alert even when another rule allows the write */
	strcpy(w->exe, "/usr/bin/bash");
	w->auid = 1000;
	w->cgroup_unit = FG_CGU_FORGED;
	d = decide("sudoers");
	ck_assert_str_eq(rule_name(&d), "admin");
	ck_assert(d.alert);
	w->cgroup_unit = FG_CGU_UNIT;
	ck_assert(!decide("sudoers").alert);
}
END_TEST

START_TEST(test_names_cgroup_literal)
{
	ck_assert(fg_policy_names_cgroup(&pol, "/system.slice/cloud-init.service"));
	ck_assert(fg_policy_names_cgroup(&pol, "/system.slice/cloud-final.service"));
	ck_assert(!fg_policy_names_cgroup(&pol, "/system.slice/cloud-evil.service"));
	ck_assert(!fg_policy_names_cgroup(&pol, "/system.slice"));
	ck_assert(!fg_policy_names_cgroup(&pol, ""));
	ck_assert(pol.uses_cgroup);
}
END_TEST

/* fanguard's own subtree: reached only by naming it, enforced in audit
 * mode too, closed to the transaction, and a denial there is an alert. */
START_TEST(test_decide_self_subtree)
{
	unsigned self = (unsigned)sub("fanguard-config");
	struct fg_decision d;

	ck_assert_uint_eq(pol.self_mask, 1ULL << self);
	/* rules with no `subtrees` reach every subtree but this one */
	strcpy(w->exe, "/usr/bin/bash");
	w->auid = 1000;
	ck_assert_str_eq(decided_rule("cron"), "admin");
	d = decide("fanguard-config");
	ck_assert_int_eq(d.verdict, FG_VERDICT_DENY);
	ck_assert(d.alert);
	ck_assert_str_eq(fg_policy_rule_mismatch(&pol, 3, self, w), "subtrees");
	/* the rule that names it */
	w->auid = 4242;
	d = decide("fanguard-config");
	ck_assert_str_eq(rule_name(&d), "policy-admin");
	ck_assert(!d.alert);
	/* audit mode does not reach it */
	pol.cfg.mode = FG_MODE_AUDIT;
	ck_assert_int_eq(decide("fanguard-config").mode, FG_MODE_ENFORCE);
	ck_assert_int_eq(decide("sudoers").mode, FG_MODE_AUDIT);
	ck_assert_int_eq(fg_policy_mode(&pol, self), FG_MODE_ENFORCE);
	/* nor does the transaction */
	w->auid = 1000;
	add_anc(29, "/usr/bin/bootc");
	ck_assert_int_eq(decide("sudoers").reason, FG_REASON_TRANSACTION);
	d = decide("fanguard-config");
	ck_assert_int_eq(d.verdict, FG_VERDICT_DENY);
	ck_assert_int_eq(d.reason, FG_REASON_NO_RULE);
	ck_assert(d.alert);
	/* a denial elsewhere is no alert */
	teardown();
	setup();
	ck_assert(!decide("sudoers").alert);
}
END_TEST

START_TEST(test_decide_first_match_wins)
{
	/* by-comm (rule 2) and admin (rule 3) both match: file order decides */
	strcpy(w->exe, "/usr/bin/bash");
	strcpy(w->comm, "agent");
	w->uid = 0;
	w->auid = 1000;
	struct fg_decision d = decide("sudoers");
	ck_assert_int_eq(d.rule, 2);
	ck_assert_int_eq(d.reason, FG_REASON_RULE);
}
END_TEST

START_TEST(test_decide_transaction_passthrough)
{
	/* a writer under bootc, two levels up, is a transaction */
	add_anc(30, "/usr/bin/sh");
	add_anc(29, "/usr/bin/bootc");
	add_anc(1, "/usr/lib/systemd/systemd");
	struct fg_decision d = decide("cron");
	ck_assert_int_eq(d.verdict, FG_VERDICT_ALLOW);
	ck_assert_int_eq(d.reason, FG_REASON_TRANSACTION);
	ck_assert_int_eq(d.tx_anc, 1);
	/* the outermost transaction process is the root */
	teardown();
	setup();
	add_anc(40, "/usr/bin/rpm-ostree");
	add_anc(39, "/usr/bin/bootc");
	ck_assert_int_eq(decide("sudoers").tx_anc, 1);
	/* the writer itself */
	teardown();
	setup();
	strcpy(w->exe, "/usr/bin/rpm-ostree");
	ck_assert_int_eq(decide("sudoers").tx_anc, -1);
	ck_assert_int_eq(decide("sudoers").reason, FG_REASON_TRANSACTION);
}
END_TEST

START_TEST(test_decide_transaction_never_by_comm)
{
	strcpy(w->comm, "bootc");
	add_anc(50, "/tmp/bootc");
	ck_assert_str_eq(w->comm, "bootc");
	ck_assert_int_eq(decide("sudoers").verdict, FG_VERDICT_DENY);
	ck_assert_int_eq(fg_policy_transaction(&pol, w), -2);
}
END_TEST

/* scope = deployments (the default): the passthrough holds in deployment
 * roots and where the upgrade writes, and anything else a transaction tool
 * writes is up to the rules. */
START_TEST(test_decide_transaction_scope)
{
	struct fg_decision d;

	pol.cfg.transaction.scope = FG_TX_SCOPE_DEPLOYMENTS;
	add_anc(29, "/usr/bin/bootc");
	d = decide("staged-sudoers");
	ck_assert_int_eq(d.reason, FG_REASON_TRANSACTION);
	ck_assert(!d.tx_outside);
	ck_assert_int_eq(decide("loader").reason, FG_REASON_TRANSACTION);
	/* the running subtree: no rule allows, and the log says why */
	d = decide("sudoers");
	ck_assert_int_eq(d.verdict, FG_VERDICT_DENY);
	ck_assert_int_eq(d.reason, FG_REASON_NO_RULE);
	ck_assert(d.tx_outside);
	/* a rule still allows there, whoever the ancestor is */
	strcpy(w->exe, "/usr/bin/tool-x");
	d = decide("sudoers");
	ck_assert_int_eq(d.reason, FG_REASON_RULE);
	ck_assert(!d.tx_outside);
	/* no transaction tool involved: nothing to say */
	w->n_ancestors = 0;
	strcpy(w->exe, "/usr/bin/evil");
	ck_assert(!decide("cron").tx_outside);
	/* fanguard's own stays closed, and is no scope matter */
	strcpy(w->exe, "/usr/bin/bootc");
	d = decide("fanguard-config");
	ck_assert_int_eq(d.verdict, FG_VERDICT_DENY);
	ck_assert(!d.tx_outside);
	/* the path test itself, at component boundaries */
	ck_assert(fg_tx_in_scope(&pol.cfg, "/sysroot/state/deploy/x/etc"));
	ck_assert(fg_tx_in_scope(&pol.cfg, "/run/ostree/staged-deployment"));
	ck_assert(fg_tx_in_scope(&pol.cfg, "/boot"));
	ck_assert(!fg_tx_in_scope(&pol.cfg, "/sysrootx/etc"));
	ck_assert(!fg_tx_in_scope(&pol.cfg, "/bootx"));
	ck_assert(!fg_tx_in_scope(&pol.cfg, "/etc/sudoers.d"));
	ck_assert(!fg_tx_in_scope(&pol.cfg, "/run/ostreex/a"));
	ck_assert(fg_tx_in_scope(&pol.cfg, "/run/reboot-required"));
	ck_assert(!fg_tx_in_scope(&pol.cfg, "/run/reboot-required.d/x"));
	pol.cfg.transaction.scope = FG_TX_SCOPE_ALL;
	ck_assert(fg_tx_in_scope(&pol.cfg, "/etc/sudoers.d"));
	ck_assert_int_eq(decide("sudoers").reason, FG_REASON_TRANSACTION);
}
END_TEST

START_TEST(test_decide_modes_and_quiet)
{
	struct fg_decision d = decide("cron");

	ck_assert_int_eq(d.verdict, FG_VERDICT_DENY);
	ck_assert_int_eq(d.mode, FG_MODE_AUDIT); /* the subtree's own mode */
	ck_assert_int_eq(decide("sudoers").mode, FG_MODE_ENFORCE);
	pol.cfg.mode = FG_MODE_AUDIT;
	ck_assert_int_eq(decide("sudoers").mode, FG_MODE_AUDIT);
	strcpy(w->exe, "/usr/bin/quiet");
	d = decide("sudoers");
	ck_assert_int_eq(d.verdict, FG_VERDICT_ALLOW);
	ck_assert(d.quiet);
}
END_TEST

START_TEST(test_first_ancestry_free_and_known)
{
	struct fg_decision full, known;
	unsigned st = (unsigned)sub("sudoers");

	strcpy(w->exe, "/usr/bin/tool-x");
	ck_assert_int_eq(fg_policy_first_ancestry_free(&pol, st, w), 0);
	/* only an ancestor rule could allow python3: the walk is needed */
	strcpy(w->exe, "/usr/bin/python3");
	ck_assert_int_eq(fg_policy_first_ancestry_free(&pol, st, w), -1);
	add_anc(9, "/usr/bin/ansible-playbook");
	fg_policy_decide(&pol, st, w, &full);
	fg_policy_decide_known(&pol, st, w, fg_policy_first_ancestry_free(&pol, st, w), &known);
	ck_assert_int_eq(known.rule, full.rule);
	ck_assert_int_eq(known.verdict, FG_VERDICT_ALLOW);
	/* nothing allows evil: the same deny either way */
	strcpy(w->exe, "/usr/bin/evil");
	ck_assert_int_eq(fg_policy_first_ancestry_free(&pol, st, w), -1);
	fg_policy_decide_known(&pol, st, w, -1, &known);
	ck_assert_int_eq(known.verdict, FG_VERDICT_DENY);
	/* a transaction ancestor still wins over a known rule */
	strcpy(w->exe, "/usr/bin/tool-x");
	add_anc(1, "/usr/bin/bootc");
	fg_policy_decide_known(&pol, st, w, 0, &known);
	ck_assert_int_eq(known.reason, FG_REASON_TRANSACTION);
}
END_TEST

/* The first rule in file order whose conditions all hold, by brute force. */
static int scan_first(unsigned st, bool ancestry_free_only)
{
	for (unsigned i = 0; i < pol.cfg.n_writers; i++) {
		const struct fg_writer_cfg *r = &pol.cfg.writers[i];
		if (ancestry_free_only && (r->ancestor.n || r->parent.n))
			continue;
		if (!fg_policy_rule_mismatch(&pol, i, st, w))
			return (int)i;
	}
	return -1;
}

START_TEST(test_decide_index_equals_full_scan)
{
	static const char *const exes[] = {"/usr/bin/tool-x",
					   "/usr/bin/quiet",
					   "/usr/bin/bash",
					   "/usr/bin/systemd-tmpfiles",
					   "/usr/bin/anyone",
					   "/usr/bin/python3",
					   "/usr/bin/cp",
					   "/usr/bin/python3.11",
					   "/opt/x/cp",
					   "/usr/bin/evil",
					   "",
					   "/usr/bin/bootc",
					   "/usr/bin/tool-",
					   "/usr/bin/cp (deleted)"};
	static const char *const comms[] = {"agent", "mixer", "evil"};
	static const uint32_t uids[] = {0, 5, 1000};
	static const uint32_t auids[] = {1000, FG_AUID_UNSET, 7};
	unsigned checked = 0;

	for (unsigned e = 0; e < FG_ARRAY_SIZE(exes); e++)
		for (unsigned c = 0; c < FG_ARRAY_SIZE(comms); c++)
			for (unsigned u = 0; u < FG_ARRAY_SIZE(uids); u++)
				for (unsigned a = 0; a < FG_ARRAY_SIZE(auids) * 2; a++)
					for (unsigned st = 0; st < pol.cfg.n_subtrees; st++) {
						struct fg_decision d;
						int want;

						strcpy(w->exe, exes[e]);
						strcpy(w->comm, comms[c]);
						w->uid = uids[u];
						w->auid = auids[a % FG_ARRAY_SIZE(auids)];
						w->n_ancestors = 0;
						w->arena_used = 1;
						if (a >= FG_ARRAY_SIZE(auids)) {
							add_anc(30, "/usr/bin/make");
							add_anc(20, "/usr/bin/ansible-playbook");
						}
						fg_policy_decide(&pol, st, w, &d);
						want = fg_policy_transaction(&pol, w) != -2
							   ? -1
							   : scan_first(st, false);
						ck_assert_msg(
						    d.rule == want,
						    "exe '%s' comm %s uid %u subtree %u: rule %d, "
						    "full scan %d",
						    exes[e], comms[c], uids[u], st, d.rule, want);
						ck_assert_int_eq(
						    fg_policy_first_ancestry_free(&pol, st, w),
						    scan_first(st, true));
						checked++;
					}
	ck_assert_uint_gt(checked, 1000);
}
END_TEST

START_TEST(test_people_rule_and_admins)
{
	struct fg_decision d;
	struct fg_need needs[4];
	int cli = -1;

	for (unsigned i = 0; i < pol.cfg.n_writers; i++)
		if (!strcmp(pol.cfg.writers[i].name, "policy-cli"))
			cli = (int)i;
	ck_assert_int_ge(cli, 0);
	/* only policy-admin and cron-person allow people: admin names an
	 * exe, any-auid "*" */
	for (unsigned i = 0; i < pol.cfg.n_writers; i++)
		ck_assert_int_eq(fg_policy_people_rule(&pol.cfg.writers[i]),
				 !strcmp(pol.cfg.writers[i].name, "policy-admin") ||
				     !strcmp(pol.cfg.writers[i].name, "cron-person"));
	ck_assert(fg_policy_is_admin(&pol, 4242));
	/* a person allowed one subtree (not fanguard's own) is no admin: the
	 * CLI would let her install a rule allowing her everything */
	ck_assert(!fg_policy_is_admin(&pol, 4343));
	ck_assert(!fg_policy_is_admin(&pol, 1000));
	ck_assert(!fg_policy_is_admin(&pol, FG_AUID_UNSET));
	/* the fanguard CLI of an admin: `auid = admins` */
	strcpy(w->exe, "/usr/bin/fanguard");
	w->auid = 4242;
	ck_assert_ptr_null(
	    fg_policy_rule_mismatch(&pol, (unsigned)cli, (unsigned)sub("fanguard-config"), w));
	ck_assert(fg_policy_login_rule(&pol, (unsigned)cli, 4242));
	fg_policy_decide(&pol, (unsigned)sub("fanguard-config"), w, &d);
	ck_assert_int_eq(d.verdict, FG_VERDICT_ALLOW);
	/* its login uid must be verified, as any other named login uid */
	ck_assert_uint_ge(fg_policy_needs(&pol, (unsigned)sub("fanguard-config"), w, &d, needs, 4),
			  1);
	ck_assert(needs[0].what & FG_NEED_AUID);
	w->trust.auid = FG_TRUST_FAILED;
	ck_assert_str_eq(
	    fg_policy_rule_mismatch(&pol, (unsigned)cli, (unsigned)sub("fanguard-config"), w),
	    "auid");
	w->trust.auid = FG_TRUST_UNCHECKED;
	/* another login uid, or none, is no admin */
	w->auid = 1000;
	ck_assert_str_eq(
	    fg_policy_rule_mismatch(&pol, (unsigned)cli, (unsigned)sub("fanguard-config"), w),
	    "auid");
	ck_assert(!fg_policy_login_rule(&pol, (unsigned)cli, 1000));
	w->auid = 4343;
	ck_assert_str_eq(
	    fg_policy_rule_mismatch(&pol, (unsigned)cli, (unsigned)sub("fanguard-config"), w),
	    "auid");
	w->auid = FG_AUID_UNSET;
	fg_policy_decide(&pol, (unsigned)sub("fanguard-config"), w, &d);
	ck_assert_int_eq(d.verdict, FG_VERDICT_DENY);
	/* another exe of the admin is not the CLI rule's */
	w->auid = 4242;
	strcpy(w->exe, "/usr/bin/cp");
	ck_assert_str_eq(
	    fg_policy_rule_mismatch(&pol, (unsigned)cli, (unsigned)sub("fanguard-config"), w),
	    "exe");
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("decide");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_match_path_longest_prefix_and_boundary);
	tcase_add_test(tc, test_decide_no_rule_denies);
	tcase_add_test(tc, test_decide_exe_glob_and_subtrees);
	tcase_add_test(tc, test_decide_comm_and_uid_both_needed);
	tcase_add_test(tc, test_decide_auid_numbers_unset_and_any);
	tcase_add_test(tc, test_decide_ancestor_and_parent);
	tcase_add_test(tc, test_decide_cgroup_exact);
	tcase_add_test(tc, test_decide_cgroup_unverified);
	tcase_add_test(tc, test_names_cgroup_literal);
	tcase_add_test(tc, test_decide_self_subtree);
	tcase_add_test(tc, test_decide_first_match_wins);
	tcase_add_test(tc, test_decide_transaction_passthrough);
	tcase_add_test(tc, test_decide_transaction_never_by_comm);
	tcase_add_test(tc, test_decide_transaction_scope);
	tcase_add_test(tc, test_decide_modes_and_quiet);
	tcase_add_test(tc, test_first_ancestry_free_and_known);
	tcase_add_test(tc, test_decide_index_equals_full_scan);
	tcase_add_test(tc, test_people_rule_and_admins);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(policy_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
