/* Check suite "hold": the fd store messages (to a NOTIFY_SOCKET the test
 * binds), the journal, and takeovers of real fanotify groups whose
 * permission events a dead listener had read: orphans answered from the
 * journal, a sweep without one, a spare group dropped, and the bridge
 * answering reads while holding writes for the next daemon. Needs root
 * (fanotify); never skips. Every opener is a child that dies with the
 * test, and the groups go with the test process, so a failure lets them
 * through rather than leave them blocked. */
#include "fanguard/hold.h"
#include "fanguard/util.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "children.h"

static char tmpdir[64], sub[80], file[96];

static void tmpdir_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fg-hold.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(sub, sizeof(sub), "%s/sub", tmpdir);
	snprintf(file, sizeof(file), "%s/f", sub);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	close(open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
}

static void tmpdir_teardown(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	(void)!system(cmd);
}

static const struct fg_config hold_cfg = {.on_daemon_exit = FG_ONEXIT_HOLD};
static const struct fg_config release_cfg = {.on_daemon_exit = FG_ONEXIT_RELEASE};

/* A NOTIFY_SOCKET of our own: what the daemon would tell systemd. */
static int notify_socket(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", tmpdir);
	unlink(sa.sun_path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setenv("NOTIFY_SOCKET", sa.sun_path, 1);
	return fd;
}

/* One message within 2 s (or none: returns false); its fd in *ret_fd. */
static bool recv_notify(int sock, char *msg, size_t size, int *ret_fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} c;
	struct iovec iov = {.iov_base = msg, .iov_len = size - 1};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof(c.buf)};
	struct pollfd p = {.fd = sock, .events = POLLIN};
	ssize_t n;

	*ret_fd = -1;
	if (poll(&p, 1, 2000) != 1)
		return false;
	n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	ck_assert_int_ge(n, 0);
	msg[n] = '\0';
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_type == SCM_RIGHTS)
			memcpy(ret_fd, CMSG_DATA(cm), sizeof(int));
	return true;
}

static void expect_notify(int sock, const char *want, bool with_fd)
{
	char msg[256];
	int fd;

	ck_assert_msg(recv_notify(sock, msg, sizeof(msg), &fd), "no message '%s'", want);
	ck_assert_str_eq(msg, want);
	ck_assert(with_fd == (fd >= 0));
	if (fd >= 0)
		close(fd);
}

START_TEST(test_fg_hold_setup_journal)
{
	const uint8_t *seen;
	struct fg_hold h;
	struct stat st;
	char msg[256];
	int sock = notify_socket(), jfd, p[2];

	fg_hold_init(&h);
	ck_assert_int_eq(fg_hold_setup(&h, &hold_cfg), 0);
	ck_assert(recv_notify(sock, msg, sizeof(msg), &jfd));
	ck_assert_str_eq(msg, "FDSTORE=1\nFDNAME=fanotify-journal");
	/* What the store keeps: sealed at its size, the same memory. */
	ck_assert_int_ge(jfd, 0);
	ck_assert_int_eq(fstat(jfd, &st), 0);
	ck_assert_uint_eq((size_t)st.st_size, h.jlen);
	ck_assert_int_eq(fcntl(jfd, F_GET_SEALS) & (F_SEAL_GROW | F_SEAL_SHRINK),
			 F_SEAL_GROW | F_SEAL_SHRINK);
	seen = mmap(NULL, h.jlen, PROT_READ, MAP_SHARED, jfd, 0);
	ck_assert_ptr_ne(seen, MAP_FAILED);
	ck_assert_uint_ge(h.j->size, 1024);
	fg_hold_note(h.j, 7, FG_INTENT_WRITE);
	fg_hold_note(h.j, 8, FG_INTENT_READ);
	fg_hold_note(h.j, 9, FG_INTENT_BUSY);
	ck_assert_uint_eq(seen[offsetof(struct fg_hold_journal, ent) + 7], FG_HOLD_WRITE);
	ck_assert_uint_eq(h.j->ent[8], FG_HOLD_READ);
	ck_assert_uint_eq(h.j->ent[9], FG_HOLD_UNKNOWN);
	/* Closing clears the entry first. */
	ck_assert_int_eq(pipe(p), 0);
	fg_hold_note(h.j, p[0], FG_INTENT_WRITE);
	fg_hold_close(h.j, p[0]);
	ck_assert_uint_eq(h.j->ent[p[0]], FG_HOLD_FREE);
	ck_assert_int_eq(fcntl(p[0], F_GETFD), -1);
	close(p[1]);
	ck_assert_uint_eq(h.j->overflow, 0);
	fg_hold_note(h.j, (int)h.j->size, FG_INTENT_READ);
	ck_assert_uint_eq(h.j->overflow, 1);
	munmap((void *)seen, h.jlen);
	close(jfd);
	fg_hold_free(&h);
	close(sock);
}
END_TEST

START_TEST(test_fg_hold_note_batch)
{
	struct fanotify_event_metadata ev[3] = {0};
	struct fg_hold h;
	int sock = notify_socket(), fd;
	char msg[256];

	fg_hold_init(&h);
	ck_assert_int_eq(fg_hold_setup(&h, &hold_cfg), 0);
	ck_assert(recv_notify(sock, msg, sizeof(msg), &fd));
	close(fd);
	for (int i = 0; i < 3; i++) {
		ev[i].event_len = sizeof(ev[i]);
		ev[i].vers = FANOTIFY_METADATA_VERSION;
		ev[i].fd = i == 2 ? FAN_NOFD : 20 + i;
	}
	fg_hold_reading(h.j, true);
	ck_assert_uint_eq(h.j->reading, 1);
	fg_hold_note_batch(h.j, ev, sizeof(ev));
	ck_assert_uint_eq(h.j->reading, 0);
	ck_assert_uint_eq(h.j->ent[20], FG_HOLD_UNKNOWN);
	ck_assert_uint_eq(h.j->ent[21], FG_HOLD_UNKNOWN);
	ck_assert_uint_eq(h.j->ent[22], FG_HOLD_FREE);
	/* A failed read (len < 0) only clears the flag. */
	fg_hold_reading(h.j, true);
	fg_hold_note_batch(h.j, ev, -1);
	ck_assert_uint_eq(h.j->reading, 0);
	fg_hold_free(&h);
	close(sock);
}
END_TEST

START_TEST(test_fg_hold_store_names)
{
	struct fg_hold h;
	int sock = notify_socket(), fd;
	char msg[256];

	fg_hold_init(&h);
	ck_assert_int_eq(fg_hold_setup(&h, &hold_cfg), 0);
	ck_assert(recv_notify(sock, msg, sizeof(msg), &fd));
	close(fd);
	/* First group, then a reload's: names alternate, the old one goes. */
	ck_assert_int_eq(fg_hold_store(&h, 0), 0);
	expect_notify(sock, "FDSTORE=1\nFDNAME=fanotify", true);
	fg_hold_complete(&h);
	ck_assert_str_eq(h.j->complete, "fanotify");
	ck_assert_str_eq(fg_hold_state(&h), "held");
	ck_assert_int_eq(fg_hold_store(&h, 0), 0);
	expect_notify(sock, "FDSTORE=1\nFDNAME=fanotify-next", true);
	ck_assert_str_eq(h.j->complete, "fanotify"); /* not complete yet */
	fg_hold_complete(&h);
	fg_hold_retired(&h);
	expect_notify(sock, "FDSTOREREMOVE=1\nFDNAME=fanotify", false);
	/* A refused reload takes its group back out. */
	ck_assert_int_eq(fg_hold_store(&h, 0), 0);
	expect_notify(sock, "FDSTORE=1\nFDNAME=fanotify", true);
	fg_hold_unstore(&h);
	expect_notify(sock, "FDSTOREREMOVE=1\nFDNAME=fanotify", false);
	ck_assert_str_eq(h.cur, "fanotify-next");
	fg_hold_free(&h);
	/* Release mode stores nothing; hold without a socket says so. */
	fg_hold_init(&h);
	ck_assert_int_eq(fg_hold_setup(&h, &release_cfg), 0);
	ck_assert_int_eq(fg_hold_store(&h, 0), 0);
	ck_assert(!recv_notify(sock, msg, sizeof(msg), &fd));
	ck_assert_str_eq(fg_hold_state(&h), "released");
	unsetenv("NOTIFY_SOCKET");
	ck_assert_int_eq(fg_hold_setup(&h, &hold_cfg), -ENOTCONN);
	ck_assert_str_eq(fg_hold_state(&h), "NOT HELD (no NOTIFY_SOCKET)");
	fg_hold_free(&h);
	close(sock);
}
END_TEST

/* Nothing the successor's start needs may be held: PID 1 reading a unit
 * would wait on a group nobody answers, and could not restart us. */
static const char *setup_with(const char *path)
{
	static struct fg_hold h;
	static bool used;
	struct fg_subtree_cfg t = {.name = "t", .path = (char *)path};
	struct fg_config cfg = {.on_daemon_exit = FG_ONEXIT_HOLD, .subtrees = &t, .n_subtrees = 1};

	if (used)
		fg_hold_free(&h);
	used = true;
	fg_hold_init(&h);
	unsetenv("NOTIFY_SOCKET");
	fg_hold_setup(&h, &cfg);
	ck_assert(h.asked);
	return fg_hold_state(&h);
}

START_TEST(test_fg_hold_setup_refuses_vital_paths)
{
	char exe[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	ck_assert_str_eq(setup_with("/etc/sudoers.d"), "NOT HELD (no NOTIFY_SOCKET)");
	ck_assert_str_eq(setup_with("/etc/systemdx"), "NOT HELD (no NOTIFY_SOCKET)");
	ck_assert_ptr_nonnull(strstr(setup_with("/etc/systemd/system"), "/etc/systemd, which PID 1"));
	ck_assert_ptr_nonnull(strstr(setup_with("/etc"), "covers /etc/systemd"));
	ck_assert_ptr_nonnull(strstr(setup_with("/"), "covers /etc/systemd"));
	ck_assert_ptr_nonnull(strstr(setup_with("/etc/ld.so.preload"), "every exec"));
	ck_assert_ptr_nonnull(strstr(setup_with("/etc/ld.so.conf.d"), "every exec"));
	ck_assert_int_gt(n, 0);
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	*slash = '\0';
	ck_assert_ptr_nonnull(strstr(setup_with(exe), "covers fanguardd itself"));
}
END_TEST

START_TEST(test_fg_hold_takeover_nothing_stored)
{
	struct fg_hold h;

	unsetenv("LISTEN_FDS");
	fg_hold_init(&h);
	ck_assert_int_eq(fg_hold_takeover(&h), 0);
	ck_assert_uint_eq(h.tk.groups, 0);
	ck_assert_ptr_null(h.bridge);
	fg_hold_free(&h);
}
END_TEST

/* ---- takeovers of real groups ---- */

static int new_group(void)
{
	int g = fanotify_init(FAN_CLOEXEC | FAN_NONBLOCK | FAN_CLASS_CONTENT | FAN_REPORT_TID |
				  FAN_UNLIMITED_QUEUE | FAN_UNLIMITED_MARKS,
			      O_RDONLY | O_LARGEFILE | O_CLOEXEC);

	ck_assert_int_ge(g, 0);
	ck_assert_int_eq(fanotify_mark(g, FAN_MARK_ADD, FAN_OPEN_PERM | FAN_EVENT_ON_CHILD,
				       AT_FDCWD, sub),
			 0);
	return g;
}

/* A child that opens file: exit 0 opened, 1 EPERM, 2 anything else. */
static pid_t opener(int flags)
{
	pid_t pid = fork_child();

	if (pid == 0) {
		int fd = open(file, flags | O_CLOEXEC);
		_exit(fd >= 0 ? 0 : errno == EPERM ? 1 : 2);
	}
	return pid;
}

/* Its exit code within 5 s, or -1 while it still waits. */
static int opener_result(pid_t pid, int ms)
{
	int status;

	for (int i = 0; i < ms; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
		usleep(1000);
	}
	return -1;
}

/* A listener that reads n events of g, reports (pid, fd) of each on a
 * pipe and dies without answering: n orphans. */
static void orphan(int g, unsigned n, pid_t *ret_pid, int *ret_fd)
{
	int p[2];
	pid_t l;

	ck_assert_int_eq(pipe(p), 0);
	l = fork_child();
	if (l == 0) {
		struct fanotify_event_metadata md;
		for (unsigned got = 0; got < n;) {
			struct pollfd pf = {.fd = g, .events = POLLIN};
			if (poll(&pf, 1, 5000) != 1 || read(g, &md, sizeof(md)) != sizeof(md))
				_exit(1);
			(void)!write(p[1], &md.pid, sizeof(md.pid));
			(void)!write(p[1], &md.fd, sizeof(md.fd));
			got++;
		}
		_exit(0);
	}
	for (unsigned i = 0; i < n; i++) {
		ck_assert_int_eq(read(p[0], &ret_pid[i], sizeof(pid_t)), sizeof(pid_t));
		ck_assert_int_eq(read(p[0], &ret_fd[i], sizeof(int)), sizeof(int));
	}
	ck_assert_int_eq(opener_result(l, 5000), 0);
	close(p[0]);
	close(p[1]);
}

struct successor {
	pid_t pid;
	int ctl; /* write a byte: it frees what it took and exits */
	int r;
	struct fg_hold_takeover tk;
	char cur[FG_HOLD_NAME_MAX];
};

/* A successor in a child: fds at 3.. with names (LISTEN_FDNAMES), takes
 * them over, reports, keeps its bridge running until told to go. */
static void successor(struct successor *s, const int *fds, unsigned n, const char *names)
{
	int rep[2], ctl[2];
	pid_t pid;

	ck_assert_int_eq(pipe(rep), 0);
	ck_assert_int_eq(pipe(ctl), 0);
	s->pid = fork_child();
	if (s->pid == 0) {
		int hi[8], out = fcntl(rep[1], F_DUPFD, 100), in = fcntl(ctl[0], F_DUPFD, 100);
		struct fg_hold h;
		char buf[16], c;

		for (unsigned i = 0; i < n; i++)
			hi[i] = fcntl(fds[i], F_DUPFD, 100);
		for (unsigned i = 0; i < n; i++)
			dup2(hi[i], 3 + (int)i);
		snprintf(buf, sizeof(buf), "%u", n);
		setenv("LISTEN_FDS", buf, 1);
		snprintf(buf, sizeof(buf), "%d", (int)getpid());
		setenv("LISTEN_PID", buf, 1);
		setenv("LISTEN_FDNAMES", names, 1);
		unsetenv("NOTIFY_SOCKET");
		fg_hold_init(&h);
		s->r = fg_hold_takeover(&h);
		s->tk = h.tk;
		memcpy(s->cur, h.cur, sizeof(s->cur));
		(void)!write(out, s, sizeof(*s));
		(void)!read(in, &c, 1);
		fg_hold_free(&h);
		_exit(0);
	}
	close(rep[1]);
	close(ctl[0]);
	pid = s->pid; /* the report is the child's copy, where it was 0 */
	ck_assert_int_eq(read(rep[0], s, sizeof(*s)), sizeof(*s));
	s->pid = pid;
	s->ctl = ctl[1];
	close(rep[0]);
}

static void successor_end(struct successor *s)
{
	int rc;

	(void)!write(s->ctl, "x", 1);
	close(s->ctl);
	rc = opener_result(s->pid, 5000);
	if (rc != 0)
		reap(s->pid);
	ck_assert_int_eq(rc, 0);
}

/* A journal as a daemon would have left it (made through the store
 * protocol, so it is the real layout). */
static struct fg_hold *journal(int sock)
{
	static struct fg_hold h;
	char msg[256];
	int fd;

	fg_hold_init(&h);
	ck_assert_int_eq(fg_hold_setup(&h, &hold_cfg), 0);
	ck_assert(recv_notify(sock, msg, sizeof(msg), &fd));
	close(fd);
	return &h;
}

START_TEST(test_fg_hold_takeover_journal)
{
	int sock = notify_socket(), g = new_group(), fds[2], fd[2];
	pid_t w = opener(O_WRONLY), r = opener(O_RDONLY), pid[2];
	struct fg_hold *j = journal(sock);
	struct successor s;

	orphan(g, 2, pid, fd);
	for (int i = 0; i < 2; i++)
		fg_hold_note(j->j, fd[i], pid[i] == w ? FG_INTENT_WRITE : FG_INTENT_READ);
	ck_assert_int_eq(opener_result(w, 200), -1); /* nobody answered: it waits */
	fds[0] = g;
	fds[1] = j->jfd;
	successor(&s, fds, 2, "fanotify:fanotify-journal");
	ck_assert_int_eq(s.r, 1);
	ck_assert_uint_eq(s.tk.groups, 1);
	ck_assert(s.tk.journal);
	ck_assert_ptr_null(s.tk.sweep_why);
	ck_assert_uint_eq(s.tk.allowed, 1);
	ck_assert_uint_eq(s.tk.denied, 1);
	ck_assert_uint_eq(s.tk.stale, 0);
	ck_assert_str_eq(s.cur, "fanotify");
	ck_assert_int_eq(opener_result(w, 5000), 1); /* the write orphan: denied */
	ck_assert_int_eq(opener_result(r, 5000), 0); /* the read orphan: allowed */
	/* The journal was reset and the takeover counted, for the next one. */
	ck_assert_uint_eq(j->j->ent[fd[0]], FG_HOLD_FREE);
	ck_assert_uint_eq(j->j->takeovers, 1);
	/* The bridge: a read is let in, a write is held for the policy. */
	w = opener(O_WRONLY);
	r = opener(O_RDONLY);
	ck_assert_int_eq(opener_result(r, 5000), 0);
	ck_assert_int_eq(opener_result(w, 300), -1);
	/* This successor dies before its answering thread ran: the held
	 * write is journaled, and the next one denies it. */
	successor_end(&s);
	ck_assert_int_eq(opener_result(w, 200), -1);
	successor(&s, fds, 2, "fanotify:fanotify-journal");
	ck_assert_uint_eq(s.tk.denied, 1);
	ck_assert_int_eq(opener_result(w, 5000), 1);
	successor_end(&s);
	close(g);
	fg_hold_free(j);
	close(sock);
}
END_TEST

START_TEST(test_fg_hold_takeover_sweep)
{
	int sock = notify_socket(), g = new_group(), fds[2], fd[2];
	pid_t w = opener(O_WRONLY), r = opener(O_RDONLY), pid[2];
	struct successor s;

	orphan(g, 2, pid, fd);
	/* No journal: every number up to the fd limit is denied. */
	successor(&s, &g, 1, "fanotify");
	ck_assert_uint_eq(s.tk.groups, 1);
	ck_assert_str_eq(s.tk.sweep_why, "no journal came with the group");
	ck_assert_uint_eq(s.tk.sweep_hits, 2);
	ck_assert_uint_ge(s.tk.swept, 1024);
	ck_assert_int_eq(opener_result(w, 5000), 1);
	ck_assert_int_eq(opener_result(r, 5000), 1);
	successor_end(&s);
	/* Died inside a read: the journal knows one orphan, the sweep the other. */
	{
		struct fg_hold *j = journal(sock);
		w = opener(O_WRONLY);
		r = opener(O_RDONLY);
		orphan(g, 2, pid, fd);
		fg_hold_note(j->j, pid[0] == r ? fd[0] : fd[1], FG_INTENT_READ);
		fg_hold_reading(j->j, true);
		fds[0] = j->jfd;
		fds[1] = g;
		successor(&s, fds, 2, "fanotify-journal:fanotify");
		ck_assert_str_eq(s.tk.sweep_why, "the daemon died during a read");
		ck_assert_uint_eq(s.tk.allowed, 1);
		ck_assert_uint_eq(s.tk.sweep_hits, 1);
		ck_assert_int_eq(opener_result(r, 5000), 0);
		ck_assert_int_eq(opener_result(w, 5000), 1);
		successor_end(&s);
		fg_hold_free(j);
	}
	close(g);
	close(sock);
}
END_TEST

START_TEST(test_fg_hold_takeover_two_groups)
{
	int sock = notify_socket(), a = new_group(), b = new_group(), p[2], fds[4];
	struct fg_hold *j = journal(sock);
	struct successor s;

	/* Killed during a reload after the new group was complete: that one
	 * stays; the other goes. Something that is no group is refused. */
	memcpy(j->j->complete, "fanotify-next", sizeof("fanotify-next"));
	ck_assert_int_eq(pipe(p), 0);
	fds[0] = j->jfd;
	fds[1] = a;
	fds[2] = b;
	fds[3] = p[0];
	successor(&s, fds, 4, "fanotify-journal:fanotify:fanotify-next:fanotify");
	ck_assert_int_eq(s.r, 2);
	ck_assert_uint_eq(s.tk.groups, 2);
	ck_assert_uint_eq(s.tk.dropped, 1);
	ck_assert_uint_eq(s.tk.rejected, 1);
	ck_assert_str_eq(s.cur, "fanotify-next");
	successor_end(&s);
	close(p[0]);
	close(p[1]);
	close(a);
	close(b);
	fg_hold_free(j);
	close(sock);
}
END_TEST

#ifndef FG_HAVE_SYSTEMD
/* A build without libsystemd speaks no store protocol: hold is a config
 * error there (test_config), and this module refuses to store. */
START_TEST(test_fg_hold_without_libsystemd)
{
	struct fg_hold h;
	int sock = notify_socket();

	fg_hold_init(&h);
	ck_assert_int_eq(fg_hold_takeover(&h), 0);
	ck_assert_int_eq(fg_hold_setup(&h, &hold_cfg), -EOPNOTSUPP);
	ck_assert_str_eq(fg_hold_state(&h), "NOT HELD (the store refused it)");
	fg_hold_free(&h);
	close(sock);
}
END_TEST
#endif

static Suite *hold_suite(void)
{
	Suite *s = suite_create("hold");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_set_timeout(tc, 30);
#ifndef FG_HAVE_SYSTEMD
	tcase_add_test(tc, test_fg_hold_without_libsystemd);
	tcase_add_test(tc, test_fg_hold_setup_refuses_vital_paths);
	suite_add_tcase(s, tc);
	return s;
#endif
	tcase_add_test(tc, test_fg_hold_setup_journal);
	tcase_add_test(tc, test_fg_hold_note_batch);
	tcase_add_test(tc, test_fg_hold_store_names);
	tcase_add_test(tc, test_fg_hold_setup_refuses_vital_paths);
	tcase_add_test(tc, test_fg_hold_takeover_nothing_stored);
	tcase_add_test(tc, test_fg_hold_takeover_journal);
	tcase_add_test(tc, test_fg_hold_takeover_sweep);
	tcase_add_test(tc, test_fg_hold_takeover_two_groups);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hold_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
