/* fg_open HOW PATH: one way of opening PATH for the bypass tests. Opens
 * for writing write "x"; exit 0 when the operation worked, 1 when it was
 * refused with EPERM/EACCES, 2 on any other error. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

struct how {
	uint64_t flags, mode, resolve;
};

static int open_how(const char *how, const char *path)
{
	struct how h = {0};

	if (!strcmp(how, "creat"))
		return (int)syscall(SYS_creat, path, 0644);
	if (!strcmp(how, "rdwr"))
		return open(path, O_RDWR);
	if (!strcmp(how, "trunc"))
		return open(path, O_WRONLY | O_TRUNC);
	if (!strcmp(how, "append"))
		return open(path, O_WRONLY | O_APPEND);
	if (!strcmp(how, "read"))
		return open(path, O_RDONLY);
	if (!strcmp(how, "openat2-w") || !strcmp(how, "openat2-r")) {
		h.flags = how[8] == 'w' ? O_WRONLY | O_CREAT : O_RDONLY;
		h.mode = how[8] == 'w' ? 0644 : 0;
		return (int)syscall(SYS_openat2, AT_FDCWD, path, &h, sizeof(h));
	}
	if (!strcmp(how, "truncate"))
		return truncate(path, 0) == 0 ? 1000 : -1;
	errno = EINVAL;
	return -1;
}

int main(int argc, char **argv)
{
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: fg_open "
				"creat|rdwr|trunc|append|read|openat2-w|openat2-r|truncate PATH\n");
		return 2;
	}
	fd = open_how(argv[1], argv[2]);
	if (fd < 0) {
		fprintf(stderr, "fg_open %s %s: %s\n", argv[1], argv[2], strerror(errno));
		return errno == EPERM || errno == EACCES ? 1 : 2;
	}
	if (fd != 1000 && strcmp(argv[1], "read") && strcmp(argv[1], "openat2-r") &&
	    write(fd, "x", 1) != 1)
		return 2;
	return 0;
}
