/* Checking log output with python3's own JSON parser, for the log suites.
 * Header-only. */
#ifndef FG_TEST_PYCHECK_H
#define FG_TEST_PYCHECK_H

#include <check.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs argv (argv[0] looked up in PATH) with s (n bytes) on its stdin;
 * returns its exit status, 128 when it did not exit. */
__attribute__((unused)) static int py_pipe(const char *const *argv, const char *s, size_t n)
{
	int fds[2], status;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fds[0], 0);
		close(fds[0]);
		close(fds[1]);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[0]);
	for (size_t off = 0; off < n;) {
		ssize_t w = write(fds[1], s + off, n - off);
		ck_assert_int_gt(w, 0);
		off += (size_t)w;
	}
	close(fds[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Parses s as one JSON object (d) and evaluates each expression; returns
 * 0 when all hold (a failing one is printed with the object). */
__attribute__((unused)) static int py_check(const char *s, size_t n, const char *const *exprs)
{
	static const char script[] = "import json,sys\n"
				     "raw=sys.stdin.buffer.read()\n"
				     "d=json.loads(raw.decode('utf-8'))\n"
				     "bad=[e for e in sys.argv[1:] if not eval(e)]\n"
				     "if bad: print('failed:', bad, raw[:3000], file=sys.stderr)\n"
				     "sys.exit(1 if bad else 0)\n";
	const char *argv[40] = {"python3", "-c", script};
	int k = 3;

	for (; exprs && *exprs && k < 39; exprs++)
		argv[k++] = *exprs;
	return py_pipe(argv, s, n);
}

#endif
