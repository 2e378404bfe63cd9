/* fg_bypass HOW PATH: writes PATH without a write(2) that raises
 * FAN_MODIFY, through an fd it opens at once (before the daemon under test
 * starts). It opens PATH and:
 *   mmap  maps it shared and writable and closes the fd (only the mapping
 *         holds the file), prints "ready", waits for a line on stdin,
 *         stores "mapped" through the mapping and unmaps it;
 *   aio   prints "ready", waits for a line, writes "aio" with Linux AIO
 *         (io_submit), not write(2), and closes the fd;
 * then prints "done" and stays alive 2 s more so that its identity can
 * still be read. Exit 0 when the write landed, 2 otherwise. */
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static char *map;

static int store_mmap(void)
{
	memcpy(map, "mapped", 6);
	msync(map, 4096, MS_SYNC);
	return munmap(map, 4096);
}

static int store_aio(int fd)
{
	static const char data[] = "aio   ";
	aio_context_t ctx = 0;
	struct iocb cb = {0}, *cbs[1] = {&cb};
	struct io_event ev;
	int r = -1;

	if (syscall(SYS_io_setup, 1, &ctx) < 0)
		return -1;
	cb.aio_fildes = (uint32_t)fd;
	cb.aio_lio_opcode = IOCB_CMD_PWRITE;
	cb.aio_buf = (uint64_t)(uintptr_t)data;
	cb.aio_nbytes = sizeof(data) - 1;
	if (syscall(SYS_io_submit, ctx, 1, cbs) == 1 &&
	    syscall(SYS_io_getevents, ctx, 1, 1, &ev, NULL) == 1 && ev.res > 0)
		r = 0;
	syscall(SYS_io_destroy, ctx);
	return r;
}

int main(int argc, char **argv)
{
	char line[16];
	int fd, r;

	if (argc != 3 || (strcmp(argv[1], "mmap") && strcmp(argv[1], "aio"))) {
		fprintf(stderr, "usage: fg_bypass mmap|aio PATH\n");
		return 2;
	}
	fd = open(argv[2], argv[1][0] == 'm' ? O_RDWR : O_WRONLY);
	if (fd < 0) {
		perror(argv[2]);
		return 2;
	}
	if (argv[1][0] == 'm') {
		map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
		if (map == MAP_FAILED) {
			perror("mmap");
			return 2;
		}
	}
	printf("ready\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 2;
	if (argv[1][0] == 'm') {
		r = store_mmap();
	} else {
		r = store_aio(fd);
		close(fd);
	}
	printf("%s\n", r == 0 ? "done" : "failed");
	fflush(stdout);
	nanosleep(&(struct timespec){.tv_sec = 2}, NULL);
	return r == 0 ? 0 : 2;
}
