/* fg_getfd: takes a copy of another process's open file with
 * pidfd_getfd(2) (ptrace access to it, no attach, no open) and writes
 * through it, for tests/e2e/test_attack.sh.
 *
 *   fg_getfd PID FD write|mmap TEXT [HOLD]
 *
 * write: write(2) of TEXT at the file's offset, then HOLD seconds alive; mmap: TEXT stored at the
 * start of the file through a shared writable mapping (no longer than the
 * file is; the fd is closed first), which is kept for HOLD seconds (default 0) after it printed
 * "stored". Exit 0 when written, 1 when a step failed (on stderr), 2 on
 * bad arguments. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int die(const char *what)
{
	fprintf(stderr, "fg_getfd: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	size_t n;
	struct stat st;
	int pidfd, fd;

	if (argc < 5 || argc > 6 || (strcmp(argv[3], "write") && strcmp(argv[3], "mmap")))
		return fprintf(stderr, "usage: fg_getfd PID FD write|mmap TEXT [HOLD]\n"), 2;
	n = strlen(argv[4]);
	pidfd = (int)syscall(SYS_pidfd_open, atoi(argv[1]), 0);
	if (pidfd < 0)
		return die("pidfd_open");
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, atoi(argv[2]), 0);
	if (fd < 0)
		return die("pidfd_getfd");
	if (!strcmp(argv[3], "write")) {
		if (write(fd, argv[4], n) != (ssize_t)n)
			return die("write");
		if (argc == 6) /* alive while its modify is read */
			sleep((unsigned)atoi(argv[5]));
		return 0;
	}
	if (fstat(fd, &st) < 0)
		return die("fstat");
	if ((size_t)st.st_size < n)
		n = (size_t)st.st_size;
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return die("mmap");
	close(fd); /* the mapping alone keeps the file */
	memcpy(p, argv[4], n);
	if (msync(p, n, MS_SYNC) < 0)
		return die("msync");
	printf("stored\n");
	fflush(stdout);
	if (argc == 6)
		sleep((unsigned)atoi(argv[5]));
	munmap(p, n);
	return 0;
}
