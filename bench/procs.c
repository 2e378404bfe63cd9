/* Every process fgbench starts is killed by pid when it ends, whichever way
 * it ends: a normal exit, an error, Ctrl-C, or being killed itself (the
 * children ask the kernel for SIGKILL when their parent dies). */
#include "bench.h"

#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CHILDREN 64

static pid_t children[MAX_CHILDREN];
static pid_t owner; /* only the process that installed the cleanup runs it */
static char tmpdir[4096];
static bool keep_tmp;

static void track(pid_t pid, bool add)
{
	for (unsigned i = 0; i < MAX_CHILDREN; i++) {
		if (add && children[i] == 0) {
			children[i] = pid;
			return;
		}
		if (!add && children[i] == pid) {
			children[i] = 0;
			return;
		}
	}
}

static void kill_all(void)
{
	for (unsigned i = 0; i < MAX_CHILDREN; i++) {
		if (children[i] <= 0)
			continue;
		kill(children[i], SIGKILL);
		waitpid(children[i], NULL, 0);
		children[i] = 0;
	}
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)type;
	(void)f;
	remove(path);
	return 0;
}

static void cleanup(void)
{
	if (getpid() != owner)
		return;
	kill_all();
	if (tmpdir[0] && !keep_tmp)
		nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	else if (tmpdir[0])
		fprintf(stderr, "fgbench: kept %s\n", tmpdir);
	tmpdir[0] = '\0';
}

static void on_signal(int sig)
{
	/* Kill first (async-signal-safe); exit() then removes the temp dir.
	 * The main path spends its time in syscalls, not in malloc, so running
	 * the atexit work from here is an acceptable risk for a benchmark. */
	kill_all();
	if (sig == SIGALRM)
		fprintf(stderr, "fgbench: watchdog expired\n");
	exit(128 + sig);
}

void cleanup_install(const char *dir, bool keep)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGALRM};
	struct sigaction sa = {.sa_handler = on_signal};

	owner = getpid();
	keep_tmp = keep;
	if (dir)
		snprintf(tmpdir, sizeof(tmpdir), "%s", dir);
	atexit(cleanup);
	sigemptyset(&sa.sa_mask);
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

pid_t child_fork(void)
{
	pid_t parent = getpid(), pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* The parent may already be gone by the time the request is
		 * made: check, or the child would outlive it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		for (unsigned i = 0; i < MAX_CHILDREN; i++)
			children[i] = 0; /* not ours to kill */
		struct sigaction sa = {.sa_handler = SIG_DFL};
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		sigaction(SIGALRM, &sa, NULL);
		alarm(0);
		return 0;
	}
	track(pid, true);
	return pid;
}

static int status_code(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int child_wait(pid_t pid, int timeout_s)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0), st = 0;
	struct pollfd p = {.fd = pfd, .events = POLLIN};
	int r = pfd < 0 ? 1 : poll(&p, 1, timeout_s * 1000);

	if (pfd >= 0)
		close(pfd);
	if (r == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		track(pid, false);
		return -ETIMEDOUT;
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	track(pid, false);
	return status_code(st);
}

bool child_running(pid_t pid, int *ret_status)
{
	int st = 0;

	if (waitpid(pid, &st, WNOHANG) == 0)
		return true;
	track(pid, false);
	if (ret_status)
		*ret_status = status_code(st);
	return false;
}

void child_stop(pid_t pid, int timeout_s)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	if (child_wait(pid, timeout_s) == -ETIMEDOUT)
		fprintf(stderr, "fgbench: pid %d ignored SIGTERM, killed\n", (int)pid);
}
