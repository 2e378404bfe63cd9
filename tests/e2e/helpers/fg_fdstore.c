/* fg_fdstore: a small service manager with systemd's fd store, for
 * tests/e2e/test_hold.sh (and hosts without systemd).
 *
 *   fg_fdstore -d DIR [-r always|on-failure|no] [-s RESTART_MS] [-m STORE_MAX]
 *              [-n NOFILE] [-t TIMEOUT_S] [-b BURST] -- CMD [ARG...]
 *
 * It runs CMD as the main process of a Type=notify service: NOTIFY_SOCKET
 * is DIR/notify.sock, and only the main pid is listened to (NotifyAccess=
 * main). It takes READY=1, FDSTORE=1 with FDNAME= and the fds passed with
 * it (at most STORE_MAX, duplicates of a stored fd dropped, as systemd
 * does) and FDSTOREREMOVE=1 with FDNAME=. When CMD exits it is started
 * again after RESTART_MS (Restart= semantics: on-failure restarts after a
 * non-zero exit or a kill by any signal but HUP, INT, TERM and PIPE), with
 * the stored fds at 3, 4, ... and LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID
 * set, and FDSTORE=STORE_MAX, RLIMIT_NOFILE=NOFILE if given (LimitNOFILE=). More
 * than BURST starts in 10 s fail the service (StartLimitBurst=). When the
 * service stops for good (no restart, failed, stopped) the store is
 * dropped, as systemd does with FileDescriptorStorePreserve=restart.
 *
 * Signals: TERM/INT stop (SIGTERM to CMD, SIGKILL after 5 s, store
 * dropped, exit 0), USR1 restarts (SIGTERM, the store kept: systemctl
 * restart), HUP is passed to CMD (reload). After TIMEOUT_S (default 120)
 * CMD is killed, the store dropped and it exits 124. CMD gets SIGKILL when
 * fg_fdstore dies, so nothing it held outlives the test.
 *
 * DIR/pid holds the main pid while one runs; DIR/events gets one line per
 * event, "<unix time, microseconds> <event> key=value...": start, ready,
 * fdstore, fdstoreremove, refused, exit, release, give-up. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kcmp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STORE_CAP 64
#define NAME_MAX_ 64
#define MSG_MAX	  4096
#define BURST_NS  (10 * 1000000000ULL)

enum restart { R_NO, R_ON_FAILURE, R_ALWAYS };

struct stored {
	int fd;
	char name[NAME_MAX_];
};

static struct {
	const char *dir;
	enum restart restart;
	long restart_ms, store_max, nofile, timeout_s, burst;
	char **cmd;
	struct stored store[STORE_CAP];
	unsigned n_store;
	pid_t main;
	FILE *events;
	uint64_t starts[32];
	unsigned n_starts;
} s = {.restart = R_ON_FAILURE, .restart_ms = 100, .store_max = 8, .timeout_s = 120, .burst = 10};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

__attribute__((format(printf, 2, 3))) static void event(const char *what, const char *fmt, ...)
{
	struct timespec ts;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(s.events, "%lld%06ld %s ", (long long)ts.tv_sec, ts.tv_nsec / 1000, what);
	va_start(ap, fmt);
	vfprintf(s.events, fmt, ap);
	va_end(ap);
	fputc('\n', s.events);
	fflush(s.events);
}

static void write_pid(pid_t pid)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/pid", s.dir);
	snprintf(tmp, sizeof(tmp), "%s/pid.tmp", s.dir);
	if (!pid) {
		unlink(path);
		return;
	}
	f = fopen(tmp, "we");
	if (!f)
		return;
	fprintf(f, "%d\n", (int)pid);
	fclose(f);
	rename(tmp, path);
}

static bool same_file(int a, int b)
{
	pid_t me = getpid();

	return syscall(SYS_kcmp, me, me, KCMP_FILE, a, b) == 0;
}

static void store_add(int fd, const char *name)
{
	for (unsigned i = 0; i < s.n_store; i++)
		if (same_file(s.store[i].fd, fd)) {
			close(fd);
			event("refused", "name=%s reason=duplicate", name);
			return;
		}
	if (s.n_store >= (unsigned)s.store_max || s.n_store >= STORE_CAP) {
		close(fd);
		event("refused", "name=%s reason=store-full max=%ld", name, s.store_max);
		return;
	}
	s.store[s.n_store].fd = fd;
	snprintf(s.store[s.n_store].name, NAME_MAX_, "%s", name);
	s.n_store++;
	event("fdstore", "name=%s total=%u", name, s.n_store);
}

static void store_remove(const char *name)
{
	unsigned k = 0, removed = 0;

	for (unsigned i = 0; i < s.n_store; i++) {
		if (!strcmp(s.store[i].name, name)) {
			close(s.store[i].fd);
			removed++;
		} else {
			s.store[k++] = s.store[i];
		}
	}
	s.n_store = k;
	event("fdstoreremove", "name=%s removed=%u total=%u", name, removed, s.n_store);
}

static void store_drop(const char *why)
{
	unsigned n = s.n_store;

	for (unsigned i = 0; i < s.n_store; i++)
		close(s.store[i].fd);
	s.n_store = 0;
	event("release", "fds=%u why=%s", n, why);
}

/* One line's value if it starts with key ("FDNAME="), else NULL. */
static const char *field(const char *msg, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);

	for (const char *l = msg; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, key, klen) == 0) {
			size_t n = strcspn(l + klen, "\n");
			snprintf(buf, size, "%.*s", (int)(n < size ? n : size - 1), l + klen);
			return buf;
		}
	}
	return NULL;
}

static void on_message(int sock)
{
	char msg[MSG_MAX + 1], name[NAME_MAX_], tmp[16];
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} c;
	struct iovec iov = {.iov_base = msg, .iov_len = MSG_MAX};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = c.buf,
			    .msg_controllen = sizeof(c.buf)};
	struct ucred *cred = NULL;
	int fds[16], n_fds = 0;
	ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);

	if (n < 0)
		return;
	msg[n] = '\0';
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		if (cm->cmsg_type == SCM_CREDENTIALS)
			cred = (struct ucred *)CMSG_DATA(cm);
		if (cm->cmsg_type == SCM_RIGHTS) {
			int k = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			memcpy(fds + n_fds, CMSG_DATA(cm), sizeof(int) * (size_t)k);
			n_fds += k;
		}
	}
	/* NotifyAccess=main */
	if (!cred || !s.main || cred->pid != s.main) {
		for (int i = 0; i < n_fds; i++)
			close(fds[i]);
		event("refused", "pid=%d reason=not-main", cred ? (int)cred->pid : -1);
		return;
	}
	if (field(msg, "READY=", tmp, sizeof(tmp)) && !strcmp(tmp, "1"))
		event("ready", "pid=%d", (int)s.main);
	if (!field(msg, "FDNAME=", name, sizeof(name)))
		snprintf(name, sizeof(name), "stored");
	if (field(msg, "FDSTOREREMOVE=", tmp, sizeof(tmp)) && !strcmp(tmp, "1"))
		store_remove(name);
	if (field(msg, "FDSTORE=", tmp, sizeof(tmp)) && !strcmp(tmp, "1")) {
		for (int i = 0; i < n_fds; i++)
			store_add(fds[i], name);
		n_fds = 0;
	}
	for (int i = 0; i < n_fds; i++)
		close(fds[i]);
}

/* In the child: the stored fds at 3.., the environment, the limits. */
static void exec_child(const char *sock_path, pid_t parent)
{
	char names[STORE_CAP * NAME_MAX_] = "", num[32];
	int tmp[STORE_CAP];
	struct rlimit rl = {.rlim_cur = (rlim_t)s.nofile, .rlim_max = (rlim_t)s.nofile};

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	for (unsigned i = 0; i < s.n_store; i++)
		tmp[i] = fcntl(s.store[i].fd, F_DUPFD_CLOEXEC, 3 + STORE_CAP);
	for (unsigned i = 0; i < s.n_store; i++) {
		if (tmp[i] < 0 || dup2(tmp[i], 3 + (int)i) < 0)
			_exit(127);
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? ":" : "",
			 s.store[i].name);
	}
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	unsetenv("LISTEN_PID");
	if (s.n_store) {
		snprintf(num, sizeof(num), "%u", s.n_store);
		setenv("LISTEN_FDS", num, 1);
		setenv("LISTEN_FDNAMES", names, 1);
		snprintf(num, sizeof(num), "%d", (int)getpid());
		setenv("LISTEN_PID", num, 1);
	}
	snprintf(num, sizeof(num), "%ld", s.store_max);
	setenv("FDSTORE", num, 1);
	setenv("NOTIFY_SOCKET", sock_path, 1);
	if (s.nofile && setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		perror("fg_fdstore: setrlimit");
		_exit(127);
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvp(s.cmd[0], s.cmd);
	perror("fg_fdstore: exec");
	_exit(127);
}

/* Returns false when the start limit is hit (the unit fails). */
static bool start(const char *sock_path)
{
	uint64_t now = mono_ns();
	unsigned recent = 0;
	pid_t parent = getpid(), pid;

	if (s.n_starts < 32)
		s.starts[s.n_starts++] = now;
	else {
		memmove(s.starts, s.starts + 1, sizeof(s.starts) - sizeof(s.starts[0]));
		s.starts[31] = now;
	}
	for (unsigned i = 0; i < s.n_starts; i++)
		recent += now - s.starts[i] < BURST_NS;
	if (recent > (unsigned)s.burst)
		return false;
	pid = fork();
	if (pid == 0)
		exec_child(sock_path, parent);
	if (pid < 0)
		return false;
	s.main = pid;
	write_pid(pid);
	event("start", "pid=%d fds=%u", (int)pid, s.n_store);
	return true;
}

static bool clean_exit(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status) == 0;
	return WIFSIGNALED(status) && (WTERMSIG(status) == SIGHUP || WTERMSIG(status) == SIGINT ||
				       WTERMSIG(status) == SIGTERM || WTERMSIG(status) == SIGPIPE);
}

/* Waits up to 5 s for the main process after SIGTERM, then kills it. */
static int stop_main(int sig)
{
	int status = 0;
	bool gone = false;

	if (!s.main)
		return 0;
	kill(s.main, sig);
	for (int i = 0; i < 500 && !gone; i++) {
		gone = waitpid(s.main, &status, WNOHANG) == s.main;
		if (!gone)
			usleep(10000);
	}
	if (!gone) {
		kill(s.main, SIGKILL);
		waitpid(s.main, &status, 0);
	}
	event("exit", "pid=%d status=%s:%d", (int)s.main, WIFEXITED(status) ? "exited" : "killed",
	      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	s.main = 0;
	write_pid(0);
	return status;
}

static int usage(void)
{
	fprintf(stderr, "usage: fg_fdstore -d DIR [-r always|on-failure|no] [-s MS] [-m MAX] "
			"[-n NOFILE] [-t SECONDS] [-b BURST] -- CMD [ARG...]\n");
	return 2;
}

static int parse(int argc, char **argv)
{
	int o;

	while ((o = getopt(argc, argv, "+d:r:s:m:n:t:b:")) != -1) {
		char *end = NULL;
		long v = optarg ? strtol(optarg, &end, 10) : 0;
		bool num = end && *end == '\0' && v >= 0;

		if (o == 'd')
			s.dir = optarg;
		else if (o == 'r')
			s.restart = !strcmp(optarg, "always")	    ? R_ALWAYS
				    : !strcmp(optarg, "no")	    ? R_NO
				    : !strcmp(optarg, "on-failure") ? R_ON_FAILURE
								    : (enum restart) - 1;
		else if (num && o == 's')
			s.restart_ms = v;
		else if (num && o == 'm')
			s.store_max = v;
		else if (num && o == 'n' && v >= 64)
			s.nofile = v;
		else if (num && o == 't' && v > 0)
			s.timeout_s = v;
		else if (num && o == 'b' && v > 0)
			s.burst = v;
		else
			return -1;
	}
	if (!s.dir || optind >= argc || (int)s.restart < 0)
		return -1;
	s.cmd = argv + optind;
	return 0;
}

static int setup(struct sockaddr_un *sa, int *ret_sock, int *ret_sig)
{
	char path[PATH_MAX];
	sigset_t set;
	int one = 1;

	snprintf(path, sizeof(path), "%s/events", s.dir);
	s.events = fopen(path, "ae");
	if (!s.events || snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/notify.sock", s.dir) >=
			     (int)sizeof(sa->sun_path))
		return -1;
	sa->sun_family = AF_UNIX;
	unlink(sa->sun_path);
	*ret_sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (*ret_sock < 0 || bind(*ret_sock, (struct sockaddr *)sa, sizeof(*sa)) < 0 ||
	    setsockopt(*ret_sock, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
		return -1;
	sigemptyset(&set);
	for (int sig = 1; sig < 32; sig++)
		if (sig == SIGTERM || sig == SIGINT || sig == SIGUSR1 || sig == SIGHUP ||
		    sig == SIGCHLD)
			sigaddset(&set, sig);
	sigprocmask(SIG_BLOCK, &set, NULL);
	*ret_sig = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return *ret_sig < 0 ? -1 : 0;
}

/* The main process exited: restart it, or stop for good. Returns -1 to go
 * on, else the exit code. */
static int on_exit_status(int status, bool restart_asked, uint64_t *ret_restart_at)
{
	bool failed = !clean_exit(status);

	event("exit", "pid=%d status=%s:%d", (int)s.main, WIFEXITED(status) ? "exited" : "killed",
	      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	s.main = 0;
	write_pid(0);
	if (restart_asked || s.restart == R_ALWAYS || (s.restart == R_ON_FAILURE && failed)) {
		*ret_restart_at =
		    mono_ns() + (restart_asked ? 0 : (uint64_t)s.restart_ms * 1000000ULL);
		return -1;
	}
	store_drop(failed ? "failed" : "inactive");
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = {0};
	uint64_t deadline, restart_at = 0;
	bool restart_asked = false;
	int sock, sig;

	if (parse(argc, argv) < 0)
		return usage();
	if (setup(&sa, &sock, &sig) < 0) {
		perror("fg_fdstore: setup");
		return 2;
	}
	deadline = mono_ns() + (uint64_t)s.timeout_s * 1000000000ULL;
	if (!start(sa.sun_path))
		return 2;
	for (;;) {
		uint64_t now = mono_ns(),
			 next = restart_at && restart_at < deadline ? restart_at : deadline;
		struct pollfd pf[2] = {{.fd = sock, .events = POLLIN},
				       {.fd = sig, .events = POLLIN}};
		struct signalfd_siginfo si;

		if (now >= deadline) {
			stop_main(SIGKILL);
			store_drop("timeout");
			return 124;
		}
		if (restart_at && now >= restart_at) {
			restart_at = 0;
			restart_asked = false;
			if (!start(sa.sun_path)) {
				event("give-up", "reason=start-limit burst=%ld", s.burst);
				store_drop("failed");
				return 1;
			}
		}
		poll(pf, 2, (int)((next > now ? next - now : 0) / 1000000ULL + 1));
		if (pf[0].revents)
			on_message(sock);
		while (pf[1].revents && read(sig, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			int status;

			if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
				stop_main(SIGTERM);
				store_drop("stopped");
				return 0;
			}
			if (si.ssi_signo == SIGHUP && s.main)
				kill(s.main, SIGHUP);
			if (si.ssi_signo == SIGUSR1 && s.main) {
				restart_asked = true;
				kill(s.main, SIGTERM);
			}
			while (s.main && waitpid(s.main, &status, WNOHANG) == s.main) {
				int rc = on_exit_status(status, restart_asked, &restart_at);
				if (rc >= 0)
					return rc;
			}
		}
	}
}
