/* fg_midread PID read|answer MIN_EVENTS TIMEOUT_S: kills fanguardd (PID)
 * with SIGKILL at an exact point of its answering thread, for
 * tests/e2e/test_hold.sh.
 *
 * It finds the daemon's permission group (the fanotify fd of class
 * content in /proc/PID/fdinfo), seizes every thread with ptrace and
 * follows their system calls. Once a read(2) of the group returns at least
 * MIN_EVENTS events:
 *
 *   read    the process is killed at that read's exit: the events are
 *           read, their fds installed, and not one is journaled yet;
 *   answer  it is killed at the entry of the next write(2) to the group,
 *           before the first response of the batch: every event of it is
 *           read, journaled with its intent, and none answered.
 *
 * Prints "events=N" (the batch the daemon died with) and exits 0; 1 when
 * no such read came within TIMEOUT_S (the daemon is killed anyway), 2 on
 * a setup error. Only for x86_64 and other arches with the generic
 * PTRACE_GET_SYSCALL_INFO (5.3+). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define META_LEN 24 /* struct fanotify_event_metadata without info records */

static int read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* The fd of the content-class fanotify group. */
static int find_group(pid_t pid)
{
	char path[320], buf[8192];
	struct dirent *de;
	DIR *d;
	int found = -1;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)pid);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		unsigned flags;
		const char *p;

		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", (int)pid, de->d_name);
		if (de->d_name[0] == '.' || read_text(path, buf, sizeof(buf)) < 0)
			continue;
		p = strstr(buf, "fanotify flags:");
		if (p && sscanf(p, "fanotify flags:%x", &flags) == 1 && (flags & 0x4))
			found = atoi(de->d_name);
	}
	if (d)
		closedir(d);
	return found;
}

#define TASKS_MAX 32

/* Seizes every thread of pid (the answering thread is the one that reads
 * the group; which one that is shows only in what it does). Returns the
 * number seized. */
static int seize_all(pid_t pid, pid_t *tids)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0, status;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	while (d && (de = readdir(d)) && n < TASKS_MAX) {
		pid_t t = (pid_t)atoi(de->d_name);

		if (t <= 0 || ptrace(PTRACE_SEIZE, t, 0, PTRACE_O_TRACESYSGOOD) < 0)
			continue;
		if (ptrace(PTRACE_INTERRUPT, t, 0, 0) < 0 || waitpid(t, &status, __WALL) < 0)
			continue;
		tids[n++] = t;
	}
	if (d)
		closedir(d);
	return n;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Follows the threads' system calls until the kill point, and kills.
 * Returns the batch size it died with, or -1 at the deadline. */
static long follow(pid_t pid, const pid_t *tids, int n, int group, bool at_answer, long min,
		   double deadline)
{
	struct __ptrace_syscall_info si;
	bool in_read[TASKS_MAX] = {false};
	long batch = 0;
	int status;

	for (int i = 0; i < n; i++)
		ptrace(PTRACE_SYSCALL, tids[i], 0, 0);
	while (now() < deadline) {
		pid_t t = waitpid(-1, &status, __WALL);
		int k = 0;

		if (t < 0)
			return -1;
		while (k < n && tids[k] != t)
			k++;
		if (k == n || !WIFSTOPPED(status))
			continue;
		if (WSTOPSIG(status) == (SIGTRAP | 0x80) &&
		    ptrace(PTRACE_GET_SYSCALL_INFO, t, sizeof(si), &si) > 0) {
			if (si.op == PTRACE_SYSCALL_INFO_ENTRY) {
				in_read[k] =
				    si.entry.nr == SYS_read && (int)si.entry.args[0] == group;
				/* answer: before the batch's first response */
				if (batch > 0 && si.entry.nr == SYS_write &&
				    (int)si.entry.args[0] == group)
					break;
			} else if (si.op == PTRACE_SYSCALL_INFO_EXIT && in_read[k]) {
				in_read[k] = false;
				if (getenv("FG_MIDREAD_DEBUG"))
					fprintf(stderr, "read -> %lld\n", (long long)si.exit.rval);
				if (batch == 0 && !si.exit.is_error &&
				    si.exit.rval >= min * META_LEN)
					batch = si.exit.rval / META_LEN;
				if (batch > 0 && !at_answer)
					break; /* read: at the read's exit */
			}
		}
		ptrace(PTRACE_SYSCALL, t, 0, 0);
	}
	if (now() >= deadline)
		return -1;
	kill(pid, SIGKILL);
	return batch;
}

int main(int argc, char **argv)
{
	pid_t pid = argc == 5 ? (pid_t)atoi(argv[1]) : 0, tids[TASKS_MAX];
	bool at_answer = argc == 5 && !strcmp(argv[2], "answer");
	long min = argc == 5 ? atol(argv[3]) : 0, batch;
	double deadline = now() + (argc == 5 ? atof(argv[4]) : 0);
	int group, n;

	if (pid <= 0 || min < 1 || (!at_answer && strcmp(argv[2], "read"))) {
		fprintf(stderr, "usage: fg_midread PID read|answer MIN_EVENTS TIMEOUT_S\n");
		return 2;
	}
	group = find_group(pid);
	n = group >= 0 ? seize_all(pid, tids) : 0;
	if (n == 0) {
		fprintf(stderr, "fg_midread: no permission group or no thread to follow in %d\n",
			(int)pid);
		return 2;
	}
	batch = follow(pid, tids, n, group, at_answer, min, deadline);
	if (batch < 0) {
		kill(pid, SIGKILL);
		fprintf(stderr, "fg_midread: no read of %ld events within the time\n", min);
		return 1;
	}
	printf("events=%ld\n", batch);
	return 0;
}
