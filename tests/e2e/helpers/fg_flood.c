/* fg_flood WRITERS READERS PATH: that many threads open PATH at once
 * (writers O_WRONLY, readers O_RDONLY), so that a stopped fanguardd finds
 * a backlog of permission events when it continues. Prints
 * "writes_ok=N writes_eperm=N readers_ok=N other=N". */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *target;
static pthread_barrier_t go;
static int writes_ok, writes_eperm, reads_ok, other;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *opener(void *arg)
{
	int flags = arg ? O_WRONLY : O_RDONLY;
	int fd, err;

	pthread_barrier_wait(&go);
	fd = open(target, flags | O_CLOEXEC);
	err = errno;
	pthread_mutex_lock(&lock);
	if (fd >= 0 && arg)
		writes_ok++;
	else if (fd >= 0)
		reads_ok++;
	else if (arg && (err == EPERM || err == EACCES))
		writes_eperm++;
	else {
		other++;
		fprintf(stderr, "%s open: %s\n", arg ? "write" : "read", strerror(err));
	}
	pthread_mutex_unlock(&lock);
	if (fd >= 0)
		close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_attr_t attr;
	pthread_t *t;
	int w, r;

	if (argc != 4)
		return 2;
	w = atoi(argv[1]);
	r = atoi(argv[2]);
	target = argv[3];
	t = calloc((size_t)(w + r), sizeof(*t));
	if (!t || pthread_barrier_init(&go, NULL, (unsigned)(w + r)) != 0)
		return 2;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (int i = 0; i < w + r; i++)
		if (pthread_create(&t[i], &attr, opener, i < w ? (void *)1 : NULL) != 0)
			return 2;
	for (int i = 0; i < w + r; i++)
		pthread_join(t[i], NULL);
	printf("writes_ok=%d writes_eperm=%d reads_ok=%d other=%d\n", writes_ok, writes_eperm,
	       reads_ok, other);
	free(t);
	return 0;
}
