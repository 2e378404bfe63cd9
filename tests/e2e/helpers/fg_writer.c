/* fg_writer: writers with awkward shapes for tests/e2e/test_races.sh.
 *
 *   fg_writer open PATH TEXT        open(O_WRONLY|O_CREAT|O_TRUNC), write, exit
 *   fg_writer thread PATH TEXT      the same from a second thread, while the
 *                                   main thread is blocked in read(2) on a pipe
 *   fg_writer chain DEPTH CMD ARG.. fork DEPTH levels deep, the leaf execs CMD
 *
 * open and thread print one line, "pid=P tid=T errno=E", after the attempt,
 * so that the test can find the writer's log line. Exit status: 0 written,
 * 1 refused with EPERM, 2 any other failure. chain exits with the leaf's
 * status. The tests copy this binary under other names to give a writer an
 * executable path that a rule names. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct attempt {
	const char *path;
	const char *text;
	pid_t tid;
	int err;     /* 0 when the text was written */
	int wake_fd; /* written once the attempt is over */
};

static int report(const struct attempt *a)
{
	printf("pid=%d tid=%d errno=%d\n", (int)getpid(), (int)a->tid, a->err);
	fflush(stdout);
	return a->err == 0 ? 0 : a->err == EPERM ? 1 : 2;
}

static void try_write(struct attempt *a)
{
	size_t len = strlen(a->text);
	int fd;

	a->tid = (pid_t)syscall(SYS_gettid);
	fd = open(a->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		a->err = errno;
		return;
	}
	a->err = write(fd, a->text, len) == (ssize_t)len ? 0 : errno ? errno : EIO;
	if (close(fd) < 0 && a->err == 0)
		a->err = errno;
}

/* True once /proc shows the main thread inside read(2). The whole point of
 * the thread case is that the daemon must look at the opening thread's
 * syscall, not the main thread's: so the main thread has to be provably
 * somewhere else when the open happens. /proc/self/syscall is the thread
 * group leader's, which is the main thread; unlike /proc/self/task/TID it
 * also works in a pid namespace whose /proc is the host's. */
static int main_in_read(void)
{
	char buf[256];
	ssize_t n;
	int fd;

	fd = open("/proc/self/syscall", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "running" would parse as 0, which is read(2) on x86_64. */
	return buf[0] >= '0' && buf[0] <= '9' && strtol(buf, NULL, 10) == SYS_read;
}

static void *opener_thread(void *arg)
{
	struct attempt *a = arg;
	const struct timespec tick = {0, 1000000};
	char c = 1;

	/* Up to 5 s for the main thread to reach read(); it takes microseconds. */
	for (int i = 0; i < 5000 && !main_in_read(); i++)
		nanosleep(&tick, NULL);
	if (main_in_read())
		try_write(a);
	else
		a->err = ETIMEDOUT;
	/* Wakes the main thread; only now may it leave its read(). */
	if (write(a->wake_fd, &c, 1) != 1)
		a->err = a->err ? a->err : EPIPE;
	return NULL;
}

static int run_thread(struct attempt *a)
{
	int pfd[2], r;
	pthread_t th;
	char c;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		perror("fg_writer: pipe2");
		return 2;
	}
	a->wake_fd = pfd[1];
	r = pthread_create(&th, NULL, opener_thread, a);
	if (r != 0) {
		fprintf(stderr, "fg_writer: pthread_create: %s\n", strerror(r));
		return 2;
	}
	/* The unrelated blocking syscall the daemon must not mistake for the
	 * open: /proc/PID/syscall of the process shows this read. */
	while (read(pfd[0], &c, 1) < 0 && errno == EINTR)
		;
	pthread_join(th, NULL);
	close(pfd[0]);
	close(pfd[1]);
	return report(a);
}

static int run_chain(long depth, char **cmd)
{
	pid_t child;
	int st;

	if (depth == 0) {
		execvp(cmd[0], cmd);
		perror("fg_writer: execvp");
		_exit(127);
	}
	child = fork();
	if (child < 0) {
		perror("fg_writer: fork");
		return 2;
	}
	if (child == 0)
		_exit(run_chain(depth - 1, cmd));
	while (waitpid(child, &st, 0) < 0)
		if (errno != EINTR)
			return 2;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	struct attempt a = {0};

	if (argc == 4 && !strcmp(argv[1], "open")) {
		a.path = argv[2];
		a.text = argv[3];
		try_write(&a);
		return report(&a);
	}
	if (argc == 4 && !strcmp(argv[1], "thread")) {
		a.path = argv[2];
		a.text = argv[3];
		return run_thread(&a);
	}
	if (argc >= 4 && !strcmp(argv[1], "chain")) {
		char *end;
		long depth = strtol(argv[2], &end, 10);
		if (*end || depth < 0 || depth > 4096) {
			fprintf(stderr, "fg_writer: chain depth '%s' is not 0..4096\n", argv[2]);
			return 2;
		}
		return run_chain(depth, argv + 3);
	}
	fprintf(stderr, "usage: fg_writer open|thread PATH TEXT\n"
			"       fg_writer chain DEPTH CMD [ARG...]\n");
	return 2;
}
