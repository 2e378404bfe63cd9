/* The status socket, served from the daemon's poll loop. Nothing here may
 * block: the loop also answers permission events, and an opener waits on
 * each of those. So every fd is non-blocking, a reply is written as far as
 * the socket takes it and the rest on POLLOUT, clients are capped, and a
 * client that does not send its request in time is dropped. */
#include "fanguard/status.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fanguard/util.h"

static int make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	fg_strlcpy(dir, path, sizeof(dir));
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int lookup_group(const char *name, gid_t *ret)
{
	struct group *gr;

	errno = 0;
	gr = getgrnam(name);
	if (!gr)
		return errno ? -errno : -ENOENT;
	*ret = gr->gr_gid;
	return 0;
}

static int bind_socket(struct fg_status_server *srv, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;
	mode_t mode = srv->have_group ? 0660 : 0600;
	mode_t old;
	int r;

	if (fg_strlcpy(sa.sun_path, path, sizeof(sa.sun_path)) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A socket left by a daemon that was killed would make bind fail. */
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	/* The umask closes the window between bind and chmod. */
	old = umask(0777 & ~mode);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0)
		return -errno;
	if (chmod(path, mode) < 0 || (srv->have_group && chown(path, 0, srv->group) < 0) ||
	    listen(fd, FG_STATUS_CLIENTS_MAX) < 0) {
		r = -errno;
		unlink(path);
		return r;
	}
	srv->fd = fd;
	fd = -1;
	return 0;
}

int fg_status_open(struct fg_status_server *srv, const char *path, const char *group)
{
	int r;

	memset(srv, 0, sizeof(*srv));
	srv->fd = -1;
	for (unsigned i = 0; i < FG_STATUS_CLIENTS_MAX; i++)
		srv->c[i].fd = -1;
	if (group && *group) {
		r = lookup_group(group, &srv->group);
		if (r < 0)
			return r;
		srv->have_group = true;
	}
	srv->scratch = malloc(FG_STATUS_BUF);
	if (!srv->scratch)
		return -ENOMEM;
	r = make_parent(path);
	if (r >= 0)
		r = bind_socket(srv, path);
	if (r < 0) {
		free(srv->scratch);
		srv->scratch = NULL;
		return r;
	}
	fg_strlcpy(srv->path, path, sizeof(srv->path));
	return 0;
}

static void drop(struct fg_status_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

void fg_status_close(struct fg_status_server *srv)
{
	if (!srv->scratch)
		return; /* never opened, or closed already */
	for (unsigned i = 0; i < FG_STATUS_CLIENTS_MAX; i++)
		drop(&srv->c[i]);
	if (srv->fd >= 0) {
		close(srv->fd);
		unlink(srv->path);
	}
	srv->fd = -1;
	free(srv->scratch);
	srv->scratch = NULL;
}

void fg_status_pollfds(const struct fg_status_server *srv, struct pollfd *p)
{
	p[0] = (struct pollfd){.fd = srv->fd, .events = POLLIN};
	for (unsigned i = 0; i < FG_STATUS_CLIENTS_MAX; i++) {
		const struct fg_status_client *c = &srv->c[i];
		p[1 + i] = (struct pollfd){.fd = c->fd, .events = c->out ? POLLOUT : POLLIN};
	}
}

int fg_status_timeout_ms(const struct fg_status_server *srv, uint64_t now_ns)
{
	uint64_t next = UINT64_MAX;

	for (unsigned i = 0; i < FG_STATUS_CLIENTS_MAX; i++)
		if (srv->c[i].fd >= 0 && srv->c[i].deadline_ns < next)
			next = srv->c[i].deadline_ns;
	if (next == UINT64_MAX)
		return -1;
	return next <= now_ns ? 0 : (int)((next - now_ns) / 1000000ULL + 1);
}

/* Supplementary groups are only in /proc/PID/status ("Groups:"). */
static bool proc_has_group(pid_t pid, gid_t gid)
{
	char path[64], buf[4096], *p;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	n = fg_read_small(AT_FDCWD, path, buf, sizeof(buf));
	if (n < 0 || !(p = strstr(buf, "\nGroups:")))
		return false;
	p += strlen("\nGroups:");
	while (*p && *p != '\n') {
		char *end;
		unsigned long g = strtoul(p, &end, 10);

		if (end == p)
			break;
		if ((gid_t)g == gid)
			return true;
		p = end;
	}
	return false;
}

bool fg_status_peer_allowed(const struct fg_status_server *srv, uid_t uid, gid_t gid, pid_t pid)
{
	if (uid == 0)
		return true;
	if (!srv->have_group)
		return false;
	return gid == srv->group || proc_has_group(pid, srv->group);
}

/* The reply goes out as far as the socket takes it now; the rest waits for
 * POLLOUT. Returns true when the client is done (all sent, or gone). */
static bool flush(struct fg_status_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0)
			return errno != EAGAIN && errno != EINTR;
		c->out_off += (size_t)w;
	}
	return true;
}

/* Returns false when there was nothing to accept. */
static bool accept_one(struct fg_status_server *srv, uint64_t now_ns)
{
	static const char denied[] = "ERR permission denied\n";
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct fg_status_client *slot = NULL;
	int fd = accept4(srv->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    !fg_status_peer_allowed(srv, cred.uid, cred.gid, cred.pid)) {
		srv->refused++;
		(void)!send(fd, denied, sizeof(denied) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
		return true;
	}
	for (unsigned i = 0; i < FG_STATUS_CLIENTS_MAX && !slot; i++)
		if (srv->c[i].fd < 0)
			slot = &srv->c[i];
	if (!slot) {
		srv->turned_away++;
		close(fd);
		return true;
	}
	slot->fd = fd;
	slot->deadline_ns = now_ns + FG_STATUS_IDLE_MS * 1000000ULL;
	return true;
}

static int parse_request(char *req, enum fg_status_req *ret, char **ret_args)
{
	*ret_args = req + strlen(req);
	if (!strncmp(req, "explain ", 8) || !strcmp(req, "last") || !strncmp(req, "last ", 5)) {
		*ret = req[0] == 'e' ? FG_REQ_EXPLAIN : FG_REQ_LAST;
		*ret_args = req + (req[0] == 'e' ? 8 : 4);
		*ret_args += **ret_args == ' ';
		return 0;
	}
	if (!strcmp(req, "status json") || !strcmp(req, "status"))
		*ret = FG_REQ_STATUS_JSON;
	else if (!strcmp(req, "status text"))
		*ret = FG_REQ_STATUS_TEXT;
	else if (!strcmp(req, "reload"))
		*ret = FG_REQ_RELOAD;
	else
		return -EINVAL;
	return 0;
}

/* Builds the reply once the request line is complete. */
static void answer_client(struct fg_status_server *srv, struct fg_status_client *c,
			  fg_status_answer_fn answer, void *ctx)
{
	static const char bad[] =
	    "ERR unknown request (want: status json, status text, reload, explain, last)\n";
	enum fg_status_req req;
	char *args;
	size_t n;

	if (parse_request(c->req, &req, &args) < 0) {
		memcpy(srv->scratch, bad, sizeof(bad));
		n = sizeof(bad) - 1;
	} else {
		n = answer(ctx, req, args, srv->scratch, FG_STATUS_BUF);
	}
	c->out = malloc(n ? n : 1);
	if (!c->out) {
		drop(c);
		return;
	}
	memcpy(c->out, srv->scratch, n);
	c->out_len = n;
	/* A client that stops reading its reply gets as long as a silent one. */
	c->deadline_ns = fg_now_ns() + FG_STATUS_IDLE_MS * 1000000ULL;
	if (flush(c))
		drop(c);
}

static void read_client(struct fg_status_server *srv, struct fg_status_client *c,
			fg_status_answer_fn answer, void *ctx)
{
	ssize_t n =
	    recv(c->fd, c->req + c->req_len, FG_STATUS_REQ_MAX + 1 - c->req_len, MSG_DONTWAIT);
	char *nl;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop(c);
		return;
	}
	c->req_len += (size_t)n;
	c->req[c->req_len] = '\0';
	nl = memchr(c->req, '\n', c->req_len);
	if (!nl) {
		if (c->req_len > FG_STATUS_REQ_MAX)
			drop(c); /* over the cap without a request: not a client of ours */
		return;
	}
	*nl = '\0';
	if (nl > c->req && nl[-1] == '\r')
		nl[-1] = '\0';
	answer_client(srv, c, answer, ctx);
}

void fg_status_dispatch(struct fg_status_server *srv, const struct pollfd *p, uint64_t now_ns,
			fg_status_answer_fn answer, void *ctx)
{
	for (unsigned i = 0; i < FG_STATUS_CLIENTS_MAX; i++) {
		struct fg_status_client *c = &srv->c[i];
		short rev = p[1 + i].revents;

		if (c->fd < 0 || p[1 + i].fd != c->fd)
			continue; /* slot changed since the pollfds were filled */
		if (c->out && (rev & (POLLOUT | POLLERR | POLLHUP)) && flush(c))
			drop(c);
		else if (!c->out && (rev & (POLLIN | POLLERR | POLLHUP)))
			read_client(srv, c, answer, ctx);
		else if (c->deadline_ns <= now_ns)
			drop(c); /* silent, or not reading its reply */
	}
	if (p[0].revents & POLLIN)
		for (unsigned k = 0; k < FG_STATUS_CLIENTS_MAX + 1; k++)
			if (!accept_one(srv, now_ns))
				break;
}
