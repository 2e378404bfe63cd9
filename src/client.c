#include "fanguard/client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fanguard/status.h"
#include "fanguard/util.h"

#define REPLY_TIMEOUT_MS 10000

void fg_client_print_diag(const struct fg_diag *diag)
{
	for (unsigned i = 0; i < diag->n; i++)
		fprintf(stderr, "%s\n", diag->msg[i]);
	if (diag->dropped)
		fprintf(stderr, "(%u more errors)\n", diag->dropped);
}

/* --socket, else the status_socket of an explicit --config, else the fixed
 * default. Without --config nothing is read: the default config lives in
 * /etc/fanguard, a guarded subtree, and status must answer even when the
 * daemon cannot (or the config is broken). */
static void socket_path(const struct fg_client_opts *o, char *out, size_t size)
{
	struct fg_config cfg;
	struct fg_diag *diag;

	fg_strlcpy(out, FG_STATUS_SOCKET_DEFAULT, size);
	if (o->socket) {
		fg_strlcpy(out, o->socket, size);
		return;
	}
	if (!o->config)
		return;
	diag = calloc(1, sizeof(*diag));
	if (diag && fg_config_load(&cfg, o->config, diag) == 0) {
		fg_strlcpy(out, cfg.status_socket, size);
		fg_config_free(&cfg);
	}
	free(diag);
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;
	int r;

	if (fg_strlcpy(sa.sun_path, path, sizeof(sa.sun_path)) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	r = fd;
	fd = -1;
	return r;
}

/* Reads until the daemon closes, into a growing buffer. Returns 0 or -errno. */
static int read_reply(int fd, char **ret, size_t *ret_len)
{
	size_t len = 0, cap = 64 * 1024;
	_cleanup_free_ char *buf = malloc(cap + 1);
	struct pollfd p = {.fd = fd, .events = POLLIN};

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;
		int k = poll(&p, 1, REPLY_TIMEOUT_MS);

		if (k == 0)
			return -ETIMEDOUT;
		if (k < 0 && errno != EINTR)
			return -errno;
		if (len == cap) {
			char *nb = realloc(buf, 2 * cap + 1);
			if (!nb)
				return -ENOMEM;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		/* The daemon closing on a request it did not read (a refused
		 * peer) shows as a reset after its answer: that is the end. */
		if (n < 0 && errno == ECONNRESET && len > 0)
			break;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -errno;
		if (n == 0)
			break;
		if (n > 0)
			len += (size_t)n;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	buf = NULL;
	return 0;
}

static int not_running(const char *path, const char *why)
{
	fprintf(stderr,
		"fanguard: fanguardd is not running (%s: %s).\n"
		"WARNING: writes to the protected subtrees are NOT being guarded.\n",
		path, why);
	return FG_EXIT_NOT_RUNNING;
}

/* Sends req and returns the reply in *ret (status line and body), or an
 * exit code when there is no usable reply (already explained on stderr). */
int fg_client_ask(const struct fg_client_opts *o, const char *req, char **ret)
{
	char path[108], line[FG_STATUS_REQ_MAX + 2];
	_cleanup_close_ int fd = -1;
	size_t len = 0;
	int r;

	socket_path(o, path, sizeof(path));
	fd = connect_to(path);
	if (fd == -EACCES || fd == -EPERM) {
		fprintf(stderr, "fanguard: %s: permission denied (root or status_group only)\n",
			path);
		return FG_EXIT_DENIED;
	}
	if (fd < 0)
		return not_running(path, strerror(-fd));
	snprintf(line, sizeof(line), "%s\n", req);
	/* A refused peer gets its answer and the close at once, so the send
	 * may fail: what the daemon said is still there to read. */
	(void)!send(fd, line, strlen(line), MSG_NOSIGNAL);
	r = read_reply(fd, ret, &len);
	if (r < 0 || len == 0 || !memchr(*ret, '\n', len)) {
		if (r == 0)
			free(*ret);
		*ret = NULL;
		return not_running(path, r < 0 ? strerror(-r) : "no reply");
	}
	if (!strncmp(*ret, "ERR permission denied", 21)) {
		fprintf(stderr,
			"fanguard: %s: the daemon refused this user (root or status_group only)\n",
			path);
		free(*ret);
		*ret = NULL;
		return FG_EXIT_DENIED;
	}
	return 0;
}
