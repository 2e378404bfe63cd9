/* What a denied create leaves behind. The kernel creates a file before it
 * asks about the open, so a denied O_CREAT leaves an empty file. It is
 * removed when it is certain that this open made it: the notification
 * thread saw the same thread create the same inode, and it is still empty
 * with one name. Either side may be seen first. The answering thread only
 * hands the denial over; the notification thread looks at the path. */
#include "fanguard/guard.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fanguard/util.h"

static bool creat_match(struct fg_creat *list, unsigned *n, const struct fg_creat *c)
{
	for (unsigned i = 0; i < *n; i++) {
		if (list[i].tid == c->tid && list[i].dev == c->dev && list[i].ino == c->ino) {
			list[i] = list[--*n];
			return true;
		}
	}
	return false;
}

static void creat_add(struct fg_creat *list, unsigned *n, const struct fg_creat *c)
{
	if (*n == FG_CREAT_MAX)
		memmove(list, list + 1, sizeof(*list) * --*n);
	list[(*n)++] = *c;
}

void fg_creat_denied(struct fg_guard *g, int fd, pid_t tid, const char *path, int subtree)
{
	struct stat st;
	struct fg_creat_req *q;

	if (subtree < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != 0)
		return;
	pthread_mutex_lock(&g->lock);
	if (g->n_creatq < FG_CREAT_MAX) {
		q = &g->creatq[g->n_creatq++];
		q->id = (struct fg_creat){.tid = tid, .dev = st.st_dev, .ino = st.st_ino};
		q->subtree = subtree;
		fg_strlcpy(q->path, path, sizeof(q->path));
	}
	pthread_mutex_unlock(&g->lock);
	(void)!write(g->notif_wake, &(uint64_t){1}, sizeof(uint64_t));
}

static void remove_empty(struct fg_guard *g, const struct fg_creat *c, const char *path,
			 int subtree)
{
	struct fg_notif *n = &g->notif;
	struct fg_outcome o = {.allow = true, .decision = "deny", .reason = "no-rule"};
	struct fg_event ev;
	struct stat st;

	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != 0 || st.st_nlink != 1 ||
	    (uint64_t)st.st_ino != c->ino || (uint64_t)st.st_dev != c->dev)
		return;
	if (unlink(path) < 0)
		return;
	FG_COUNT(g->state->c.removed_empty);
	fg_guard_event_base(&ev, "removed-empty");
	ev.path = path;
	ev.message = "removed the empty file left by a denied create";
	fg_guard_log_decision(g, n->pol, &ev, &o, subtree, NULL, -1);
}

void fg_creat_drain(struct fg_guard *g)
{
	struct fg_creat_req q[FG_CREAT_MAX];
	unsigned n;

	pthread_mutex_lock(&g->lock);
	n = g->n_creatq;
	memcpy(q, g->creatq, sizeof(*q) * n);
	g->n_creatq = 0;
	pthread_mutex_unlock(&g->lock);
	for (unsigned i = 0; i < n; i++) {
		if (creat_match(g->notif.created, &g->notif.n_created, &q[i].id))
			remove_empty(g, &q[i].id, q[i].path, q[i].subtree);
		else
			creat_add(g->notif.denied, &g->notif.n_denied, &q[i].id);
	}
}

bool fg_creat_created(struct fg_guard *g, pid_t tid, const char *path, int subtree,
		      uint64_t dev, uint64_t ino)
{
	const struct fg_creat c = {.tid = tid, .dev = dev, .ino = ino};

	fg_creat_drain(g);
	if (creat_match(g->notif.denied, &g->notif.n_denied, &c)) {
		remove_empty(g, &c, path, subtree);
		return true;
	}
	creat_add(g->notif.created, &g->notif.n_created, &c);
	return false;
}
