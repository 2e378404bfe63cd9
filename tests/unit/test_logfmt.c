#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "fanguard/logfmt.h"
#include "fanguard/util.h"
#include "logfix.h"
#include "pycheck.h"

static char buf[FG_RECORD_CAP];

static size_t count_char(const char *s, size_t n, char c)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += s[i] == c;
	return k;
}

/* One line: ends in its only newline, NUL after it, at most max bytes. */
static void assert_line(const char *s, size_t n, size_t max)
{
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_le(n, max);
	ck_assert_uint_eq(n, strlen(s));
	ck_assert_int_eq(s[n - 1], '\n');
	ck_assert_uint_eq(count_char(s, n, '\n'), 1);
}

START_TEST(test_fg_log_format_json_full)
{
	_cleanup_free_ struct fg_proc *p = make_proc();
	struct fg_event ev = make_event(p);
	size_t n;
	const char *exprs[] = {
	    "d['@timestamp'] == '2026-11-27T20:30:00.123456Z'",
	    "d['event'] == {'kind':'event','category':['file'],'type':['change','denied'],"
	    "'action':'open-write','outcome':'failure','severity':47,"
	    "'id':'0123456789abcdef0123456789abcdef-1f-42','sequence':42,"
	    "'module':'fanguard','dataset':'fanguard.events'}",
	    "d['log'] == {'level':'warning','syslog':{'severity':{'code':4}}}",
	    "d['tags'] == ['priv_esc_persist']",
	    "d['ecs'] == {'version':'9.5.0-dev'}",
	    "d['host'] == {'name':'host1.example','id':'0123456789abcdef0123456789abcdef',"
	    "'boot':{'id':'01234567-89ab-cdef-0123-456789abcdef'}}",
	    "d['fanguard']['decision'] == 'deny' and d['fanguard']['reason'] == 'no-rule'",
	    "d['fanguard']['mode'] == 'enforce' and d['fanguard']['subtree'] == 'sudoers'",
	    "d['fanguard']['key'] == 'priv_esc_persist' and 'rule' not in d['fanguard']",
	    "d['fanguard']['session_id'] == '3' and 'count' not in d['fanguard']",
	    "d['fanguard']['cgroup'] == '/user.slice/user-1000.slice/session-3.scope'",
	    "d['fanguard']['transaction'] == {'pid':77,'executable':'/usr/bin/bootc'}",
	    "d['fanguard']['resolution'] == 'partial'",
	    "d['fanguard']['instance'] == '0123456789abcdef0123456789abcdef-1f'",
	    "d['fanguard']['open'] == {'flags':'0x241','syscall':'openat'}",
	    "d['file'] == {'path':'/etc/sudoers.d/evil'}",
	    "d['process']['pid'] == 4242 and d['process']['thread'] == {'id':4243}",
	    "d['process']['executable'] == '/usr/bin/vim' and d['process']['name'] == 'vim'",
	    /* boot at ...20:23:20 plus 12345 ticks of 1/100 s */
	    "d['process']['start'] == '2026-11-27T20:25:23.450000Z'",
	    "d['process']['parent'] == {'pid':4100,'executable':'/usr/bin/bash','name':'bash',"
	    "'start':'2026-11-27T20:24:11.000000Z'}",
	    "[a['pid'] for a in d['fanguard']['ancestry']] == [4100, 900, 1]",
	    "d['fanguard']['ancestry'][2] == {'pid':1,'executable':'/usr/lib/systemd/systemd',"
	    "'name':'systemd'}",
	    "'ancestry_truncated' not in d['fanguard'] and 'truncated' not in d['fanguard']",
	    "'ancestry' not in d['process'] and 'open' not in d and 'truncated' not in d",
	    "d['user'] == {'id':'0','audit':{'id':'1000'}}",
	    "'message' not in d and 'hex' not in d['fanguard']",
	    "list(d)[:6] == ['@timestamp','event','log','tags','file','user']",
	    "list(d['fanguard'])[-1] == 'ancestry'",
	    NULL,
	};

	ev.tx_pid = 77;
	ev.tx_exe = "/usr/bin/bootc";
	ev.proc_partial = true;
	n = fg_log_format(&test_host, &ev, FG_FMT_JSON, 7500, buf);
	assert_line(buf, n, 7500);
	ck_assert_int_eq(py_check(buf, n, exprs), 0);
}
END_TEST

START_TEST(test_fg_log_format_json_auid_unset)
{
	_cleanup_free_ struct fg_proc *p = make_proc();
	struct fg_event ev = make_event(p);
	size_t n;
	const char *exprs[] = {
	    "d['user']['audit']['id'] == 'unset'",
	    "d['fanguard']['session_id'] == 'unset'",
	    "d['fanguard']['open'] == {'flags':'0x1','nr':999}",
	    "d['fanguard']['resolution'] == 'full'",
	    NULL,
	};

	p->auid = FG_AUID_UNSET;
	p->sessionid = FG_AUID_UNSET;
	ev.open_flags = 1;
	ev.open_syscall = NULL;
	ev.open_nr = 999;
	n = fg_log_format(&test_host, &ev, FG_FMT_JSON, 7500, buf);
	ck_assert_int_eq(py_check(buf, n, exprs), 0);
}
END_TEST

/* Invalid UTF-8 becomes U+FFFD in the ECS field and the bytes go under
 * fanguard.hex: an ECS field never grows a sibling. */
START_TEST(test_fg_log_format_json_hostile_path)
{
	_cleanup_free_ struct fg_proc *p = make_proc();
	struct fg_event ev = make_event(p);
	size_t n;
	const char *exprs[] = {
	    "d['file'] == {'path':'/etc/sudoers.d/a\\nb\"c\\ufffd\\r'}",
	    "bytes.fromhex(d['fanguard']['hex']['file_path']) == "
	    "b'/etc/sudoers.d/a\\nb\"c\\xff\\r'",
	    "d['process']['name'] == 'x\\ny' and list(d['fanguard']['hex']) == ['file_path']",
	    NULL,
	};

	ev.path = "/etc/sudoers.d/a\nb\"c\xff\r";
	fg_strlcpy(p->comm, "x\ny", sizeof(p->comm));
	n = fg_log_format(&test_host, &ev, FG_FMT_JSON, 7500, buf);
	assert_line(buf, n, 7500);
	ck_assert_int_eq(py_check(buf, n, exprs), 0);
}
END_TEST

/* A writer 300 processes deep: the nearest and the farthest ancestors
 * stay, the middle goes and is counted, and the line is whole. */
START_TEST(test_fg_log_format_json_deep_ancestry)
{
	_cleanup_free_ struct fg_proc *p = make_proc();
	struct fg_event ev = make_event(p);
	size_t n;
	const char *exprs[] = {
	    "d['fanguard']['truncated'] is True and 'truncated_fields' not in d['fanguard']",
	    "len(d['fanguard']['ancestry']) + d['fanguard']['ancestry_truncated'] == 300",
	    "len(d['fanguard']['ancestry']) > 60",
	    "d['fanguard']['ancestry'][0]['pid'] == 100000 and "
	    "d['fanguard']['ancestry'][-1]['pid'] == 1",
	    "len(d['fanguard']['ancestry']) % 2 == 0",
	    "[a['pid'] for a in d['fanguard']['ancestry']][:len(d['fanguard']['ancestry'])//2] == "
	    "list(range(100000, 100000 + len(d['fanguard']['ancestry'])//2))",
	    "d['fanguard']['ancestry'][-2]['pid'] == 100298",
	    "d['process']['parent']['pid'] == 100000 and d['file']['path'] == "
	    "'/etc/sudoers.d/evil'",
	    "d['user']['audit']['id'] == '1000' and 'truncated' not in d",
	    NULL,
	};

	deep_ancestry(p, 300);
	n = fg_log_format(&test_host, &ev, FG_FMT_JSON, 7500, buf);
	assert_line(buf, n, 7500);
	/* Cap the ancestry at what fits: one more pair would not. */
	ck_assert_uint_gt(n, 7500 - 2 * 80);
	ck_assert_int_eq(py_check(buf, n, exprs), 0);
}
END_TEST

/* The worst a writer can make: a PATH_MAX name and exe full of what costs
 * six bytes to escape, not UTF-8, 300 ancestors, at every max_line from
 * the smallest. Always one valid object within max_line, saying what was
 * shortened; the same bytes every time. */
START_TEST(test_fg_log_format_json_hostile_pathmax)
{
	static const size_t lines[] = {FG_MAX_LINE_MIN, 4096, 7500, 8192, FG_LINE_CAP};
	static char name[PATH_MAX], again[FG_LINE_CAP + 1];
	_cleanup_free_ struct fg_proc *p = make_proc();
	struct fg_event ev = make_event(p);
	const char *exprs[] = {
	    "d['fanguard']['truncated'] is True",
	    "'file.path' in d['fanguard']['truncated_fields']",
	    "'process.executable' in d['fanguard']['truncated_fields']",
	    "d['fanguard']['ancestry_truncated'] == 300 and 'ancestry' not in d['fanguard']",
	    "d['event']['action'] == 'open-write' and d['fanguard']['decision'] == 'deny'",
	    "d['tags'] == ['priv_esc_persist'] and d['user']['audit']['id'] == '1000'",
	    "d['file']['path'].startswith('/etc/sudoers.d/\"\\\\\\n\\x01\\x7f\\ufffd')",
	    "bytes.fromhex(d['fanguard']['hex']['file_path'])[:17] == "
	    "b'/etc/sudoers.d/\"\\\\'",
	    NULL,
	};

	hostile_name(name, sizeof(name));
	fg_strlcpy(p->exe, name, sizeof(p->exe));
	deep_ancestry(p, 300);
	ev.path = name;
	ev.message = name;
	for (size_t i = 0; i < FG_ARRAY_SIZE(lines); i++) {
		size_t n = fg_log_format(&test_host, &ev, FG_FMT_JSON, lines[i], buf);

		assert_line(buf, n, lines[i]);
		ck_assert_int_eq(py_check(buf, n, exprs), 0);
		ck_assert_uint_eq(fg_log_format(&test_host, &ev, FG_FMT_JSON, lines[i], again), n);
		ck_assert_int_eq(memcmp(buf, again, n), 0);
	}
}
END_TEST

/* Identity fields appear only when they were read. */
START_TEST(test_fg_log_format_json_gone)
{
	_cleanup_free_ struct fg_proc *p = make_proc();
	struct fg_event ev = make_event(p);
	size_t n;
	const char *gone[] = {
	    "'user' not in d and d['process'] == {'thread':{'id':4243}}",
	    "d['fanguard']['resolution'] == 'gone' and 'session_id' not in d['fanguard']",
	    "'cgroup' not in d['fanguard'] and 'ancestry' not in d['fanguard']",
	    NULL,
	};
	const char *partial[] = {
	    "d['user'] == {'id':'0'} and 'audit' not in d['user']",
	    "d['process'] == {'pid':4242,'thread':{'id':4243},'name':'vim',"
	    "'start':'2026-11-27T20:25:23.450000Z','parent':{'pid':4100}}",
	    "d['fanguard']['resolution'] == 'partial' and 'session_id' not in d['fanguard']",
	    NULL,
	};

	/* What removed-empty and a writer that exited before any read look
	 * like: only the thread id the kernel gave. */
	memset(p, 0, offsetof(struct fg_proc, anc));
	p->tid = 4243;
	p->pid = 4243;
	p->uid = UINT32_MAX;
	p->auid = FG_AUID_UNSET;
	ev.proc_partial = true;
	n = fg_log_format(&test_host, &ev, FG_FMT_JSON, 7500, buf);
	ck_assert_ptr_null(strstr(buf, "4294967295"));
	ck_assert_int_eq(py_check(buf, n, gone), 0);

	/* stat and status read, then the task went: no loginuid, no exe. */
	p->pid = 4242;
	p->ppid = 4100;
	p->uid = 0;
	p->start_time = 12345;
	fg_strlcpy(p->comm, "vim", sizeof(p->comm));
	p->known = FG_PROC_STAT | FG_PROC_STATUS;
	n = fg_log_format(&test_host, &ev, FG_FMT_JSON, 7500, buf);
	ck_assert_int_eq(py_check(buf, n, partial), 0);
}
END_TEST

START_TEST(test_fg_log_format_json_daemon_event)
{
	struct fg_event ev = {.action = "daemon-start",
			      .outcome = "failure",
			      .mode = "enforce",
			      .message = "self-test failed"};
	size_t n;
	const char *exprs[] = {
	    "d['@timestamp'] == '1970-01-01T00:00:00.000000Z'",
	    "d['event'] == {'kind':'event','category':['process'],'type':['start','error'],"
	    "'action':'daemon-start','outcome':'failure','severity':85,"
	    "'module':'fanguard','dataset':'fanguard.events'}",
	    "d['log']['level'] == 'critical' and d['message'] == 'self-test failed'",
	    "d['fanguard'] == {'mode':'enforce'}",
	    "'process' not in d and 'user' not in d and 'file' not in d and 'tags' not in d",
	    "'host' not in d and d['ecs']['version'] == '9.5.0-dev'",
	    NULL,
	};

	n = fg_log_format(NULL, &ev, FG_FMT_JSON, 7500, buf);
	ck_assert_int_eq(py_check(buf, n, exprs), 0);
}
END_TEST

START_TEST(test_fg_log_format_json_lost)
{
	struct fg_lost l = {.count = 8, .first = 5, .last = 20, .n = 3};
	struct fg_event ev = {
	    .action = "log-dropped", .outcome = "failure", .count = 8, .lost = &l};
	size_t n;
	const char *exprs[] = {
	    "d['fanguard']['lost'] == {'count':8,'first':5,'last':20,'ranges':'5-9,12,18-19'}",
	    "d['fanguard']['count'] == 8 and d['log']['level'] == 'error'",
	    NULL,
	};

	l.r[0].from = 5, l.r[0].to = 9;
	l.r[1].from = l.r[1].to = 12;
	l.r[2].from = 18, l.r[2].to = 19;
	n = fg_log_format(&test_host, &ev, FG_FMT_JSON, 7500, buf);
	ck_assert_int_eq(py_check(buf, n, exprs), 0);
}
END_TEST

START_TEST(test_fg_log_format_text)
{
	_cleanup_free_ struct fg_proc *p = make_proc();
	struct fg_event ev = make_event(p);
	size_t n;

	p->auid = FG_AUID_UNSET;
	ev.rule = "editors";
	ev.path = "/etc/sudoers.d/a b\n\"c\xff";
	n = fg_log_format(&test_host, &ev, FG_FMT_TEXT, 7500, buf);
	ck_assert_str_eq(buf, "fanguard: seq=42 action=open-write decision=deny reason=no-rule "
			      "mode=enforce subtree=sudoers key=priv_esc_persist "
			      "path=\"/etc/sudoers.d/a b\\n\\\"c\\ufffd\" pid=4242 tid=4243 "
			      "exe=\"/usr/bin/vim\" comm=\"vim\" uid=0 auid=unset ppid=4100 "
			      "pexe=\"/usr/bin/bash\" rule=editors flags=0x241 syscall=openat\n");
	ck_assert_uint_eq(n, strlen(buf));
	/* What was not read is not printed. */
	p->known = FG_PROC_STAT;
	n = fg_log_format(&test_host, &ev, FG_FMT_TEXT, 7500, buf);
	ck_assert_ptr_null(strstr(buf, " uid="));
	ck_assert_ptr_null(strstr(buf, "auid="));
	ck_assert_ptr_null(strstr(buf, "exe=\"/usr/bin/vim\""));
	ck_assert_ptr_null(strstr(buf, " pid="));
}
END_TEST

START_TEST(test_fg_log_format_text_truncated)
{
	static char msg[FG_MAX_LINE_MIN + 10];
	struct fg_event ev = {.action = "daemon-start", .message = msg};
	size_t n;

	memset(msg, 'm', sizeof(msg) - 1);
	n = fg_log_format(NULL, &ev, FG_FMT_TEXT, FG_MAX_LINE_MIN, buf);
	ck_assert_str_eq(buf, "fanguard: action=daemon-start truncated=true\n");
	ck_assert_uint_eq(n, strlen(buf));
}
END_TEST

START_TEST(test_fg_log_format_journal_fields)
{
	_cleanup_free_ struct fg_proc *p = make_proc();
	struct fg_event ev = make_event(p);
	const char *want[] = {"PRIORITY=4",
			      "SYSLOG_IDENTIFIER=fanguardd",
			      "FANGUARD_ACTION=open-write",
			      "FANGUARD_DECISION=deny",
			      "FANGUARD_KEY=priv_esc_persist",
			      "FANGUARD_SUBTREE=sudoers",
			      "FANGUARD_SEQUENCE=42",
			      "FANGUARD_PATH=/etc/sudoers.d/evil",
			      "FANGUARD_PID=4242",
			      "FANGUARD_EXE=/usr/bin/vim",
			      "FANGUARD_AUID=unset"};
	const char *exprs[] = {"d['fanguard']['decision'] == 'deny'", NULL};
	size_t n, i = 0, k = 0;

	p->auid = FG_AUID_UNSET;
	n = fg_log_format_journal(&test_host, &ev, 7500, buf, sizeof(buf));
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(buf[n - 1], '\0');
	for (; k < FG_ARRAY_SIZE(want); k++) {
		ck_assert_str_eq(buf + i, want[k]);
		i += strlen(buf + i) + 1;
	}
	ck_assert_int_eq(strncmp(buf + i, "MESSAGE={", 9), 0);
	ck_assert_uint_eq(i + strlen(buf + i) + 1, n);
	ck_assert_int_eq(py_check(buf + i + 8, strlen(buf + i + 8), exprs), 0);
}
END_TEST

/* Odd bytes never reach a journal field raw (journald would store a byte
 * array): the escaped form, and the bytes in hex. A detected change is
 * PRIORITY=1 there as in syslog. */
START_TEST(test_fg_log_format_journal_odd_path)
{
	static char name[PATH_MAX];
	_cleanup_free_ struct fg_proc *p = make_proc();
	struct fg_event ev = make_event(p);
	const char *path = NULL, *hex = NULL, *msg = NULL;
	size_t n;

	ev.path = "/etc/sudoers.d/a\nb\xff";
	ev.decision = "detected";
	ev.action = "modify";
	n = fg_log_format_journal(&test_host, &ev, 7500, buf, sizeof(buf));
	ck_assert_str_eq(buf, "PRIORITY=1");
	for (size_t i = 0; i < n; i += strlen(buf + i) + 1) {
		if (!strncmp(buf + i, "FANGUARD_PATH=", 14))
			path = buf + i + 14;
		else if (!strncmp(buf + i, "FANGUARD_PATH_HEX=", 18))
			hex = buf + i + 18;
		else if (!strncmp(buf + i, "MESSAGE=", 8))
			msg = buf + i + 8;
	}
	ck_assert_str_eq(path, "/etc/sudoers.d/a\\nb\\ufffd");
	ck_assert_str_eq(hex, "2f6574632f7375646f6572732e642f610a62ff");
	ck_assert_ptr_nonnull(msg);
	/* The worst path still leaves MESSAGE whole and within max_line. */
	hostile_name(name, sizeof(name));
	ev.path = name;
	deep_ancestry(p, 300);
	n = fg_log_format_journal(&test_host, &ev, 7500, buf, sizeof(buf));
	for (size_t i = 0; i < n; i += strlen(buf + i) + 1)
		if (!strncmp(buf + i, "MESSAGE=", 8))
			msg = buf + i + 8;
	ck_assert_uint_le(strlen(msg) + 1, 7500);
	{
		const char *exprs[] = {"d['fanguard']['truncated'] is True", NULL};
		ck_assert_int_eq(py_check(msg, strlen(msg), exprs), 0);
	}
}
END_TEST

static Suite *logfmt_suite(void)
{
	Suite *s = suite_create("logfmt");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fg_log_format_json_full);
	tcase_add_test(tc, test_fg_log_format_json_auid_unset);
	tcase_add_test(tc, test_fg_log_format_json_hostile_path);
	tcase_add_test(tc, test_fg_log_format_json_deep_ancestry);
	tcase_add_test(tc, test_fg_log_format_json_hostile_pathmax);
	tcase_add_test(tc, test_fg_log_format_json_gone);
	tcase_add_test(tc, test_fg_log_format_json_daemon_event);
	tcase_add_test(tc, test_fg_log_format_json_lost);
	tcase_add_test(tc, test_fg_log_format_text);
	tcase_add_test(tc, test_fg_log_format_text_truncated);
	tcase_add_test(tc, test_fg_log_format_journal_fields);
	tcase_add_test(tc, test_fg_log_format_journal_odd_path);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(logfmt_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
