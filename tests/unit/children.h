/* Children for the unit suites that drive real processes: each dies with
 * the test process (PR_SET_PDEATHSIG), so a failed assertion never leaves
 * one behind, and is killed and reaped by pid. Header-only. */
#ifndef FG_TEST_CHILDREN_H
#define FG_TEST_CHILDREN_H

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t fork_child(void)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
	}
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

#endif
