/* fg_readers N PATH [SECONDS]: N threads open PATH read-only at the same
 * moment (once, or over and over for SECONDS), then it prints
 * "ok=A eperm=B other=C" and exits 0 only when every open succeeded. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static const char *path;
static double seconds;
static pthread_barrier_t start;
static unsigned long ok, eperm, other;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *reader(void *arg)
{
	double until;

	(void)arg;
	pthread_barrier_wait(&start);
	until = now() + seconds;
	do {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			__atomic_fetch_add(&ok, 1, __ATOMIC_RELAXED);
		} else if (errno == EPERM) {
			__atomic_fetch_add(&eperm, 1, __ATOMIC_RELAXED);
		} else {
			__atomic_fetch_add(&other, 1, __ATOMIC_RELAXED);
		}
	} while (now() < until);
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 2 ? (unsigned)strtoul(argv[1], NULL, 10) : 0, made = 0;
	pthread_t *t = calloc(n ? n : 1, sizeof(*t));
	pthread_attr_t attr;

	if (argc < 3 || !n || !t) {
		fprintf(stderr, "usage: fg_readers N PATH [SECONDS]\n");
		free(t);
		return 2;
	}
	path = argv[2];
	seconds = argc > 3 ? strtod(argv[3], NULL) : 0;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_barrier_init(&start, NULL, n + 1);
	for (; made < n; made++)
		if (pthread_create(&t[made], &attr, reader, NULL) != 0)
			break;
	if (made < n) {
		fprintf(stderr, "fg_readers: only %u threads\n", made);
		return 2; /* the barrier never opens: the caller's timeout ends us */
	}
	pthread_barrier_wait(&start);
	for (unsigned i = 0; i < made; i++)
		pthread_join(t[i], NULL);
	free(t);
	printf("ok=%lu eperm=%lu other=%lu\n", ok, eperm, other);
	return eperm || other ? 1 : 0;
}
