/* New entries of a subtree (DESIGN 11), and what a denied create leaves
 * behind. Runs on the notification thread, except fg_creat_denied.
 *
 * Every entry that appears in a subtree is either explained by a write-open
 * the answering thread decided (the same thread, start time and inode: the
 * open-write line already said it) or logged by name with its type. An
 * open's create is notified before the open is decided, so a new regular
 * file waits until the permission queue has drained past it: until its
 * creator is no longer inside an open, and the answering thread has made
 * two passes since (the first may have read the group before the event was
 * queued). Whatever cannot come from an open (a symlink, fifo, socket,
 * device or directory, a second name) is logged at once.
 *
 * The kernel creates a file before it asks about the open, so a denied
 * O_CREAT leaves an empty file. It is removed when it is certain that this
 * open made it: the same thread created the same inode, and it is still
 * empty with one name. Either side may be seen first. */
#include "fanguard/guard.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fanguard/util.h"

/* A creator that keeps looking "running" (preempted between its create
 * and its open's permission event looks the same) is asked about for at
 * most this long. */
#define RUNNING_MAX_NS (1000000000ULL)
/* An answering thread that makes no pass (it is stuck) does not hold the
 * lines back for longer than this. */
#define DRAIN_MAX_NS (2000000000ULL)

const char *fg_creat_type(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "file";
	case S_IFDIR:
		return "dir";
	case S_IFLNK:
		return "symlink";
	case S_IFIFO:
		return "fifo";
	case S_IFSOCK:
		return "socket";
	case S_IFCHR:
		return "char-device";
	case S_IFBLK:
		return "block-device";
	default:
		return NULL;
	}
}

static bool special(mode_t mode)
{
	return S_ISFIFO(mode) || S_ISSOCK(mode) || S_ISCHR(mode) || S_ISBLK(mode);
}

static bool same_task(const struct fg_creat *a, const struct fg_creat *b)
{
	return a->tid == b->tid && a->dev == b->dev && a->ino == b->ino &&
	       (!a->start || !b->start || a->start == b->start);
}

static bool creat_match(struct fg_creat *list, unsigned *n, const struct fg_creat *c)
{
	for (unsigned i = 0; i < *n; i++) {
		if (same_task(&list[i], c)) {
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
		/* The opener as the answering thread read it: a memory copy. */
		fg_notif_snap(g->perm.proc, &q->who);
		q->id.start = q->who.start_time;
		fg_strlcpy(q->path, path, sizeof(q->path));
	}
	pthread_mutex_unlock(&g->lock);
	(void)!write(g->notif_wake, &(uint64_t){1}, sizeof(uint64_t));
}

/* The empty file a denied create made goes, and the line names who was
 * denied (as read at the denial: they have usually exited by now). */
static void remove_empty(struct fg_guard *g, const struct fg_creat_req *q)
{
	struct fg_notif *n = &g->notif;
	struct fg_outcome o = {.allow = true, .decision = "deny", .reason = "no-rule"};
	struct fg_event ev;
	struct stat st;

	if (lstat(q->path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != 0 ||
	    st.st_nlink != 1 || (uint64_t)st.st_ino != q->id.ino ||
	    (uint64_t)st.st_dev != q->id.dev)
		return;
	if (unlink(q->path) < 0)
		return;
	FG_COUNT(g->state->c.removed_empty);
	fg_notif_unsnap(&q->who, n->proc);
	fg_guard_event_base(&ev, "removed-empty");
	ev.path = q->path;
	ev.file_type = "file";
	ev.message = "removed the empty file left by a denied create";
	fg_guard_log_decision(g, n->pol, &ev, &o, q->subtree, n->proc->known ? n->proc : NULL, -1);
}

static struct fg_creat_req *denied_match(struct fg_notif *n, const struct fg_creat *c)
{
	for (unsigned i = 0; i < n->n_denied; i++)
		if (same_task(&n->denied[i].id, c))
			return &n->denied[i];
	return NULL;
}

static void denied_drop(struct fg_notif *n, const struct fg_creat_req *q)
{
	unsigned i = (unsigned)(q - n->denied);

	n->denied[i] = n->denied[--n->n_denied];
}

void fg_creat_drain(struct fg_guard *g)
{
	static struct fg_creat_req q[FG_CREAT_MAX]; /* notification thread only */
	struct fg_notif *n = &g->notif;
	unsigned k;

	pthread_mutex_lock(&g->lock);
	k = g->n_creatq;
	memcpy(q, g->creatq, sizeof(*q) * k);
	g->n_creatq = 0;
	pthread_mutex_unlock(&g->lock);
	for (unsigned i = 0; i < k; i++) {
		if (creat_match(n->created, &n->n_created, &q[i].id)) {
			remove_empty(g, &q[i]);
			continue;
		}
		if (n->n_denied == FG_CREAT_MAX)
			memmove(n->denied, n->denied + 1, sizeof(*n->denied) * --n->n_denied);
		n->denied[n->n_denied++] = q[i];
	}
}

/* ---- entries no open explains ---- */

static void log_entry(struct fg_guard *g, const struct fg_pending *p, const char *action,
		      const char *message)
{
	const struct fg_notice nt = {.action = action,
				     .subtree = p->subtree,
				     .path = p->path,
				     .file_type = fg_creat_type(p->mode),
				     .message = message};

	fg_notif_unsnap(&p->who, g->notif.proc);
	fg_notif_emit(g, &nt, g->notif.proc->known ? g->notif.proc : NULL, &p->judged);
}

void fg_creat_unexplained(struct fg_guard *g, pid_t tid, const char *path, int subtree,
			  const struct stat *st, bool found)
{
	struct fg_notice nt = {.action = "create",
			       .subtree = subtree,
			       .path = path,
			       .file_type = fg_creat_type(st->st_mode),
			       .alert = special(st->st_mode)};

	if (found) {
		FG_COUNT(g->state->c.created);
		nt.action = "unguarded-file";
		nt.message = "was in a directory before it was guarded (the process is the one "
			     "whose directory event led to it)";
	} else if (S_ISLNK(st->st_mode)) {
		/* sudo or sshd would follow it to a file we do not guard */
		FG_COUNT(g->state->c.symlink_in);
		nt = (struct fg_notice){.action = "symlink-in",
					.subtree = subtree,
					.path = path,
					.file_type = "symlink"};
	} else if (special(st->st_mode)) {
		/* no open of it is ever decided: a reader gets what its writer
		 * serves (a FIFO drop-in), a device what the device holds */
		FG_COUNT(g->state->c.special);
		nt.message = "a special file in a subtree: its contents are never decided";
	} else if (S_ISREG(st->st_mode)) {
		FG_COUNT(g->state->c.link_in);
		nt.action = "link-in";
		nt.message = "a second name for a file: its content arrived without an open";
	} else {
		FG_COUNT(g->state->c.created);
		nt.message = S_ISDIR(st->st_mode) ? "a new directory" : NULL;
	}
	fg_notif_log(g, tid, &nt);
}

/* A regular file nobody's decided open made: with content, it came by a
 * link (an O_TMPFILE written elsewhere, or a hard link whose source is
 * gone); empty, by mknod (an empty unit file masks the unit). */
static void unexplained(struct fg_guard *g, const struct fg_pending *p)
{
	struct fg_notif *n = &g->notif;

	if (p->kind == FG_PENDING_FOUND) {
		FG_COUNT(g->state->c.created);
		log_entry(g, p, "unguarded-file",
			  "was in a directory before it was guarded (the process is the one "
			  "whose directory event led to it)");
		return;
	}
	if (p->size > 0) {
		FG_COUNT(g->state->c.link_in);
		log_entry(g, p, "link-in",
			  "appeared with content and no open of ours (a link, an O_TMPFILE)");
		return;
	}
	FG_COUNT(g->state->c.created);
	log_entry(g, p, "create", "made without an open of ours (mknod, a link)");
	/* A denial that comes later still removes it. */
	creat_add(n->created, &n->n_created, &p->id);
}

/* A write or a writable close: explained by an open we allowed (a close
 * also by a would-deny, whose open line said it), noted once the queue
 * drained; otherwise logged unless its writer, as judged then, is
 * allowed. */
static void written(struct fg_guard *g, const struct fg_pending *p)
{
	bool close = p->kind == FG_PENDING_CLOSE;

	if (fg_guard_was_decided(g, &p->id, !close) || p->judged.allowed)
		return;
	if (close)
		FG_COUNT(g->state->c.close_write);
	log_entry(g, p, close ? "close-write" : "modify",
		  close ? "a writable fd no open of ours decided was closed: writes through a "
			  "mapping or AIO show only here"
			: NULL);
}

static void resolve(struct fg_guard *g, const struct fg_pending *p)
{
	struct fg_creat_req *q;

	if (p->kind == FG_PENDING_CREATED && (q = denied_match(&g->notif, &p->id))) {
		remove_empty(g, q);
		denied_drop(&g->notif, q);
		return;
	}
	if (p->kind == FG_PENDING_MODIFY || p->kind == FG_PENDING_CLOSE) {
		written(g, p);
		return;
	}
	if (fg_guard_was_decided(g, &p->id, false))
		return; /* its open-write line said it */
	unexplained(g, p);
}

/* ---- waiting for the permission queue ---- */

/* Whether tid may still be inside an open: blocked in one (its permission
 * event is queued or deferred), or running (maybe between its create and
 * that event). A task that is gone, or in any other call, is not. */
static int in_open(pid_t tid)
{
	char path[32], buf[256];
	struct fg_syscall sc;
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)tid);
	len = fg_read_small(AT_FDCWD, path, buf, sizeof(buf));
	if (len <= 0 || fg_proc_parse_syscall(buf, (size_t)len, &sc) < 0)
		return 0;
	return sc.running ? 2 : fg_syscall_name(sc.nr) != NULL;
}

static bool ready(struct fg_pending *p, uint64_t now)
{
	uint64_t age = now - p->seen_ns;

	if (p->ready_ns)
		return true;
	if (age < FG_PENDING_GRACE_NS)
		return false;
	/* a write comes after its open: only the drain matters */
	if (p->id.tid && (p->kind == FG_PENDING_CREATED)) {
		int in = age < FG_PENDING_MAX_NS ? in_open(p->id.tid) : 0;

		if (in == 1 || (in == 2 && age < RUNNING_MAX_NS))
			return false;
	}
	p->ready_ns = now;
	return true;
}

static void wake_perm(struct fg_guard *g)
{
	(void)!write(g->perm_wake, &(uint64_t){1}, sizeof(uint64_t));
}

/* Settles entries ready by `upto` (0: all of them). */
static void settle_upto(struct fg_guard *g, uint64_t upto)
{
	struct fg_notif *n = &g->notif;
	unsigned k = 0;

	fg_creat_drain(g);
	for (unsigned i = 0; i < n->n_pending; i++) {
		struct fg_pending *p = &n->pending[i];

		if (!upto || (p->ready_ns && p->ready_ns <= upto))
			resolve(g, p);
		else if (k != i)
			n->pending[k++] = *p;
		else
			k++;
	}
	n->n_pending = k;
}

/* The drain: asked, then the first pass after asking, then the pass
 * after that. Returns true once it is complete. */
static bool drained(struct fg_guard *g, uint64_t now)
{
	struct fg_notif *n = &g->notif;
	uint64_t beat = __atomic_load_n(&g->perm.beat_ns, __ATOMIC_RELAXED);

	if (now - n->drain_asked > DRAIN_MAX_NS)
		return true;
	if (!n->drain_beat) {
		if (beat > n->drain_asked) {
			n->drain_beat = beat;
			wake_perm(g);
		}
		return false;
	}
	return beat > n->drain_beat;
}

int fg_creat_settle(struct fg_guard *g, bool force)
{
	struct fg_notif *n = &g->notif;
	uint64_t now = fg_now_ns();
	bool any = false;

	if (force) {
		settle_upto(g, 0);
		n->drain_asked = n->drain_beat = 0;
		return -1;
	}
	if (!n->n_pending)
		return -1;
	for (unsigned i = 0; i < n->n_pending; i++)
		any |= ready(&n->pending[i], now);
	if (!n->drain_asked) {
		if (!any)
			return 5;
		n->drain_asked = now;
		n->drain_beat = 0;
		wake_perm(g);
		return 1;
	}
	if (!drained(g, now))
		return 1;
	settle_upto(g, n->drain_asked);
	n->drain_asked = n->drain_beat = 0;
	return n->n_pending ? 1 : -1;
}

void fg_creat_pending(struct fg_guard *g, enum fg_pending_kind kind, pid_t tid, pid_t judge,
		      const char *path, int subtree, const struct stat *st)
{
	struct fg_notif *n = &g->notif;
	struct fg_pending *p, *last = n->n_pending ? &n->pending[n->n_pending - 1] : NULL;
	uint64_t start = tid ? fg_proc_start_time(tid) : 0;

	for (unsigned i = 0; i < n->n_pending; i++) {
		p = &n->pending[i];
		if (p->id.ino != (uint64_t)st->st_ino || p->id.dev != (uint64_t)st->st_dev)
			continue;
		if (kind <= FG_PENDING_FOUND && p->kind <= FG_PENDING_FOUND) {
			if (kind == FG_PENDING_CREATED && p->kind == FG_PENDING_FOUND)
				p->kind = kind, p->id.tid = tid, p->id.start = start;
			return; /* one line per entry */
		}
		if (kind == p->kind && p->id.tid == tid && p->id.start == start)
			return; /* one line per writer and file */
	}
	if (n->n_pending == FG_PENDING_MAX) {
		/* Full: the oldest is settled now; a line twice beats none. */
		resolve(g, &n->pending[0]);
		memmove(n->pending, n->pending + 1, sizeof(*n->pending) * --n->n_pending);
		last = n->n_pending ? &n->pending[n->n_pending - 1] : NULL;
	}
	p = &n->pending[n->n_pending];
	p->id = (struct fg_creat){.tid = tid, .start = start, .dev = st->st_dev, .ino = st->st_ino};
	p->kind = kind;
	p->subtree = subtree;
	p->mode = st->st_mode;
	p->size = (uint64_t)st->st_size;
	p->seen_ns = fg_now_ns();
	p->ready_ns = 0;
	fg_strlcpy(p->path, path, sizeof(p->path));
	/* Judged now, while the writer is likely still there; one walk's
	 * finds share their judge. */
	if (last && judge && last->who.tid == judge && last->subtree == subtree &&
	    last->who.start_time == (judge == tid ? start : fg_proc_start_time(judge))) {
		p->who = last->who;
		p->judged = last->judged;
	} else {
		fg_notif_judge(g, judge, subtree, &p->judged);
		fg_notif_snap(n->proc, &p->who);
	}
	n->n_pending++;
}

void fg_creat_found(void *ctx, unsigned idx, const char *path, const char *name,
		    const struct stat *st)
{
	const struct fg_found_ctx *c = ctx;
	char msg[NAME_MAX + 96];

	if (!path) {
		/* the name is all there is: say so, never drop it */
		snprintf(msg, sizeof(msg),
			 "an entry '%s' deeper than PATH_MAX was not guarded before", name);
		fg_notif_log(c->g, c->judge,
			     &(struct fg_notice){.action = "path-too-long",
						 .subtree = (int)idx,
						 .file_type = fg_creat_type(st->st_mode),
						 .message = msg});
		return;
	}
	if (S_ISREG(st->st_mode))
		fg_creat_pending(c->g, FG_PENDING_FOUND, 0, c->judge, path, (int)idx, st);
	else
		fg_creat_unexplained(c->g, c->judge, path, (int)idx, st, true);
}
