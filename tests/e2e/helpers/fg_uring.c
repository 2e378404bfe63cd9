/* fg_uring HOW PATH FIFO: opens PATH O_WRONLY|O_TRUNC through io_uring
 * (IORING_OP_OPENAT forced to an io-wq worker) and writes "uring" to it.
 *   direct  the worker is made inside io_uring_enter (the usual case);
 *   fifo    the worker is made while this thread sleeps in
 *           open(FIFO, O_RDONLY): the openat is linked behind a read of an
 *           empty pipe, a child fills the pipe once this thread is blocked,
 *           and the io_uring task work that queues the openat runs on the
 *           way out of that open. A worker's saved registers are a copy of
 *           its creator's, so its /proc/TID/syscall shows that read-only
 *           open, not its own.
 * Exit 0 when the open and the write worked, 1 when the open was refused with
 * EPERM/EACCES, 2 on any other error. */
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct ring {
	int fd;
	unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

static int ring_setup(struct ring *r)
{
	struct io_uring_params p = {0};
	char *sq, *cq;

	r->fd = (int)syscall(__NR_io_uring_setup, 4, &p);
	if (r->fd < 0)
		return -1;
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
	cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
	r->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || r->sqes == MAP_FAILED)
		return -1;
	r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
	r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	r->sq_array = (unsigned *)(sq + p.sq_off.array);
	r->cq_head = (unsigned *)(cq + p.cq_off.head);
	r->cq_tail = (unsigned *)(cq + p.cq_off.tail);
	r->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	return 0;
}

static struct io_uring_sqe *sqe_get(struct ring *r)
{
	unsigned tail = *r->sq_tail, i = tail & *r->sq_mask;

	memset(&r->sqes[i], 0, sizeof(r->sqes[i]));
	r->sq_array[i] = i;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
	return &r->sqes[i];
}

static int submit(struct ring *r, unsigned n, unsigned wait)
{
	return (int)syscall(__NR_io_uring_enter, r->fd, n, wait, wait ? IORING_ENTER_GETEVENTS : 0,
			    NULL, 0);
}

/* The result of the completion tagged `tag`, waiting for it. */
static int reap(struct ring *r, uint64_t tag)
{
	for (;;) {
		unsigned head = *r->cq_head;

		while (head != __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE)) {
			struct io_uring_cqe *c = &r->cqes[head & *r->cq_mask];
			uint64_t t = c->user_data;
			int res = c->res;

			__atomic_store_n(r->cq_head, ++head, __ATOMIC_RELEASE);
			if (t == tag)
				return res;
		}
		if (submit(r, 0, 1) < 0 && errno != EINTR)
			return -errno;
	}
}

/* The child: waits until the parent sleeps in open(2), fills the pipe,
 * waits a little for the worker's open, then lets the parent's open go. */
static void child(pid_t parent, int pipe_w, const char *fifo)
{
	char path[64], buf[64];
	struct timespec ms = {0, 10 * 1000 * 1000};

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)parent);
	for (int i = 0; i < 500; i++) {
		FILE *f = fopen(path, "re");
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

		if (f)
			fclose(f);
		buf[n] = '\0';
		if (!strncmp(buf, "257 ", 4) || !strncmp(buf, "2 ", 2) || !strncmp(buf, "56 ", 3))
			break;
		nanosleep(&ms, NULL);
	}
	if (write(pipe_w, "x", 1) != 1)
		_exit(2);
	sleep(1);
	int fd = open(fifo, O_WRONLY | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	_exit(0);
}

int main(int argc, char **argv)
{
	static char byte[1];
	struct ring r;
	struct io_uring_sqe *s;
	int pfd[2], res, fd;
	bool fifo;
	pid_t kid = -1;

	if (argc != 4 || (strcmp(argv[1], "direct") && strcmp(argv[1], "fifo"))) {
		fprintf(stderr, "usage: fg_uring direct|fifo PATH FIFO\n");
		return 2;
	}
	fifo = argv[1][0] == 'f';
	if (ring_setup(&r) < 0 || pipe2(pfd, O_CLOEXEC) < 0) {
		fprintf(stderr, "fg_uring: io_uring: %s\n", strerror(errno));
		return 2;
	}
	if (fifo) {
		s = sqe_get(&r);
		s->opcode = IORING_OP_READ;
		s->fd = pfd[0];
		s->addr = (uint64_t)(uintptr_t)byte;
		s->len = 1;
		s->flags = IOSQE_IO_LINK;
		s->user_data = 1;
	}
	s = sqe_get(&r);
	s->opcode = IORING_OP_OPENAT;
	s->fd = AT_FDCWD;
	s->addr = (uint64_t)(uintptr_t)argv[2];
	s->open_flags = O_WRONLY | O_TRUNC | O_CLOEXEC;
	s->flags = IOSQE_ASYNC;
	s->user_data = 2;
	if (fifo) {
		if (mkfifo(argv[3], 0600) < 0 && errno != EEXIST)
			return 2;
		kid = fork();
		if (kid == 0)
			child(getppid(), pfd[1], argv[3]);
	}
	if (submit(&r, fifo ? 2 : 1, 0) < 0) {
		fprintf(stderr, "fg_uring: submit: %s\n", strerror(errno));
		return 2;
	}
	if (fifo) {
		/* the read-only open the worker's registers are copied from */
		fd = open(argv[3], O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			close(fd);
		waitpid(kid, NULL, 0);
	}
	res = reap(&r, 2);
	if (res < 0) {
		fprintf(stderr, "fg_uring %s %s: %s\n", argv[1], argv[2], strerror(-res));
		return res == -EPERM || res == -EACCES ? 1 : 2;
	}
	if (write(res, "uring\n", 6) != 6) {
		fprintf(stderr, "fg_uring: write: %s\n", strerror(errno));
		return 2;
	}
	close(res);
	printf("written\n");
	return 0;
}
