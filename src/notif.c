/* The notification thread: names that appear, move, change and go in the
 * subtrees and on the chains above them, the mount table, and the main
 * thread's messages. It may look at paths (lstat, marking,
 * open_by_handle_at with O_PATH); an open it makes of a guarded file is
 * answered at once, because it is one of our threads.
 *
 * Nothing a notification shows is dropped: a change is either explained
 * (a write-open we decided, a rename by an allowed writer is still logged
 * as allowed) or logged by name, with the process when it can be read. */
#include "fanguard/guard.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fanguard/twinwatch.h"
#include "fanguard/util.h"

#ifndef FAN_RENAME
#define FAN_RENAME 0x10000000
#endif
#ifndef FAN_EVENT_INFO_TYPE_OLD_DFID_NAME
#define FAN_EVENT_INFO_TYPE_OLD_DFID_NAME 10
#define FAN_EVENT_INFO_TYPE_NEW_DFID_NAME 12
#endif

#define EVENT_BUF 8192

/* Where a notification's names point, or why they could not be rebuilt. */
struct names {
	char path[PATH_MAX]; /* the entry (a rename's new name); "" none */
	char old[PATH_MAX];  /* a rename's old name; "" none */
	/* A name whose directory's path plus the name would not fit in
	 * PATH_MAX: it is logged with the directory's inode, never dropped. */
	bool too_long;
	uint64_t long_dev, long_ino;
	int long_dfd; /* that directory (O_PATH), -1 when closed */
	char long_name[NAME_MAX + 1];
};

/* The handle opened through the mount of fsid whose path reaches it:
 * with one mount, that one; with several (a bind mount of a deployment's
 * directory and /sysroot), the first whose path names the same inode.
 * Returns the fd (its path in out, *ret_n as fg_fan_fd_path) or -errno. */
static int open_by_mounts(const struct fg_fan *fan, const int32_t fsid[2], struct file_handle *fh,
			  char *out, ssize_t *ret_n)
{
	int dfd = -ENOENT, many = 0;
	struct stat a, b;

	for (unsigned i = 0; i < fan->n_mounts; i++)
		many += !memcmp(fan->mounts[i].fsid, fsid, sizeof(fan->mounts[i].fsid));
	for (unsigned i = 0; i < fan->n_mounts; i++) {
		if (memcmp(fan->mounts[i].fsid, fsid, sizeof(fan->mounts[i].fsid)))
			continue;
		if (dfd >= 0)
			close(dfd);
		dfd = open_by_handle_at(fan->mounts[i].fd, fh, O_PATH | O_CLOEXEC);
		if (dfd < 0) {
			dfd = -errno;
			continue;
		}
		*ret_n = fg_fan_fd_path(dfd, out, PATH_MAX);
		if (many < 2 ||
		    (*ret_n > 0 && out[0] == '/' && fstat(dfd, &a) == 0 && lstat(out, &b) == 0 &&
		     a.st_dev == b.st_dev && a.st_ino == b.st_ino))
			return dfd;
	}
	return dfd;
}

/* The path behind a directory handle, plus the entry name when there is
 * one. Returns 0, -ENAMETOOLONG (n->long_* filled), or -errno. O_PATH
 * opens never reach a permission group. */
static int fid_path(const struct fg_fan *fan, const struct fanotify_event_info_fid *fid,
		    bool with_name, char *out, struct names *nm)
{
	struct file_handle *fh = (struct file_handle *)(void *)fid->handle;
	const char *name = (const char *)fh->f_handle + fh->handle_bytes;
	int32_t fsid[2];
	int mfd, dfd;
	ssize_t n = 0;
	struct stat st;

	memcpy(fsid, &fid->fsid, sizeof(fsid));
	mfd = fg_fan_mount_fd(fan, fsid);
	if (mfd < 0)
		return -ENOENT;
	dfd = open_by_mounts(fan, fsid, fh, out, &n);
	if (dfd < 0)
		return dfd;
	if (with_name && !strcmp(name, "."))
		with_name = false;
	if ((n == -ENAMETOOLONG ||
	     (n >= 0 && with_name && (size_t)n + 1 + strlen(name) >= PATH_MAX)) &&
	    !nm->too_long && fstat(dfd, &st) == 0) {
		nm->too_long = true;
		nm->long_dev = st.st_dev;
		nm->long_ino = st.st_ino;
		fg_strlcpy(nm->long_name, with_name ? name : ".", sizeof(nm->long_name));
		nm->long_dfd = dfd;
		out[0] = '\0';
		return -ENAMETOOLONG;
	}
	close(dfd);
	if (n < 0) {
		out[0] = '\0';
		return (int)n;
	}
	if (with_name)
		snprintf(out + n, PATH_MAX - (size_t)n, "%s%s", n > 1 ? "/" : "", name);
	return 0;
}

/* The entry's path (the new name of a rename) and, for FAN_RENAME, the old.
 * The kernel names only the watched end(s) of a rename. */
static void notif_paths(const struct fg_fan *fan, const struct fanotify_event_metadata *md,
			struct names *nm)
{
	const char *p = (const char *)md + md->metadata_len;
	const char *end = (const char *)md + md->event_len;

	nm->path[0] = nm->old[0] = '\0';
	nm->too_long = false;
	nm->long_dfd = -1;
	while (p + sizeof(struct fanotify_event_info_header) <= end) {
		const struct fanotify_event_info_header *h = (const void *)p;
		const struct fanotify_event_info_fid *fid = (const void *)p;

		if (h->len == 0 || p + h->len > end)
			break;
		if (h->info_type == FAN_EVENT_INFO_TYPE_DFID_NAME ||
		    h->info_type == FAN_EVENT_INFO_TYPE_NEW_DFID_NAME)
			fid_path(fan, fid, true, nm->path, nm);
		else if (h->info_type == FAN_EVENT_INFO_TYPE_OLD_DFID_NAME)
			fid_path(fan, fid, true, nm->old, nm);
		else if (h->info_type == FAN_EVENT_INFO_TYPE_DFID && !nm->path[0])
			fid_path(fan, fid, false, nm->path, nm);
		p += h->len;
	}
}

/* ---- the lines ---- */

void fg_notif_snap(const struct fg_proc *p, struct fg_writer_snap *ret)
{
	memset(ret, 0, offsetof(struct fg_writer_snap, exe));
	ret->tid = p->tid;
	ret->pid = p->pid;
	ret->ppid = p->ppid;
	ret->uid = p->uid;
	ret->auid = p->auid;
	ret->sessionid = p->sessionid;
	ret->start_time = p->start_time;
	ret->known = p->known &
		     (FG_PROC_STAT | FG_PROC_STATUS | FG_PROC_AUID | FG_PROC_SESSION | FG_PROC_EXE);
	memcpy(ret->comm, p->comm, sizeof(ret->comm));
	fg_strlcpy(ret->exe, p->exe, sizeof(ret->exe));
}

void fg_notif_unsnap(const struct fg_writer_snap *w, struct fg_proc *ret)
{
	/* the header only, as proc.c resets it */
	ret->tid = w->tid;
	ret->pid = w->pid;
	ret->ppid = w->ppid;
	ret->uid = w->uid;
	ret->auid = w->auid;
	ret->sessionid = w->sessionid;
	ret->start_time = w->start_time;
	memcpy(ret->comm, w->comm, sizeof(ret->comm));
	fg_strlcpy(ret->exe, w->exe, sizeof(ret->exe));
	ret->cgroup[0] = '\0';
	ret->n_ancestors = 0;
	ret->ancestry_truncated = false;
	ret->known = w->known;
	ret->arena[0] = '\0';
	ret->arena_used = 1;
}

void fg_notif_judge(struct fg_guard *g, pid_t tid, int subtree, struct fg_judged *ret)
{
	struct fg_notif *n = &g->notif;
	struct fg_decision d;
	struct fg_outcome o;

	if (tid > 0) {
		ret->resolved = fg_proc_resolve(tid, n->proc);
	} else {
		/* nobody: the writer's fields stay out of the line */
		ret->resolved = -ESRCH;
		n->proc->known = 0;
		n->proc->tid = n->proc->pid = 0;
	}
	fg_guard_judge(n->pol, subtree, n->proc, ret->resolved, -2, &o, &d);
	ret->allowed = d.verdict == FG_VERDICT_ALLOW;
	ret->quiet = o.quiet;
	fg_strlcpy(ret->reason, o.reason, sizeof(ret->reason));
	fg_strlcpy(ret->rule, o.rule ? o.rule : "", sizeof(ret->rule));
}

void fg_notif_emit(struct fg_guard *g, const struct fg_notice *nt, const struct fg_proc *w,
		   const struct fg_judged *j)
{
	struct fg_outcome o = {
	    .allow = true, .reason = j->reason, .rule = j->rule[0] ? j->rule : NULL};
	struct fg_event ev;

	if (j->quiet && !nt->alert)
		return;
	o.decision = j->allowed && !nt->alert ? "allow" : "detected";
	fg_guard_event_base(&ev, nt->action);
	ev.path = nt->path;
	ev.old_path = nt->old_path;
	ev.new_path = nt->new_path;
	ev.file_type = nt->file_type;
	ev.message = nt->message;
	fg_guard_log_decision(g, g->notif.pol, &ev, &o, nt->subtree, w && w->known ? w : NULL,
			      j->resolved);
}

void fg_notif_log(struct fg_guard *g, pid_t tid, const struct fg_notice *nt)
{
	struct fg_judged j;

	fg_notif_judge(g, tid, nt->subtree, &j);
	fg_notif_emit(g, nt, g->notif.proc, &j);
}

/* ---- writes ---- */

/* Whether (writer, file) was logged already; remembers it if `note`. The
 * table starts over when full: a repeat line is better than a lost one. */
static bool modify_seen(struct fg_notif *n, pid_t tid, uint64_t start, const struct stat *st,
			bool note)
{
	for (unsigned i = 0; i < n->n_modseen; i++) {
		const struct fg_modseen *m = &n->modseen[i];
		if (m->tid == tid && m->start == start && m->ino == st->st_ino &&
		    m->dev == st->st_dev)
			return true;
	}
	if (!note)
		return false;
	if (n->n_modseen == FG_MODSEEN_MAX)
		n->n_modseen = 0;
	n->modseen[n->n_modseen++] =
	    (struct fg_modseen){.dev = st->st_dev, .ino = st->st_ino, .start = start, .tid = tid};
	return false;
}

/* A guarded regular file's subtree, by path or by inode (another name). */
static int file_subtree(struct fg_notif *n, const char *path, struct stat *st)
{
	int subtree;

	if (lstat(path, st) < 0 || !S_ISREG(st->st_mode))
		return -1;
	subtree = fg_policy_match_path(n->pol, path);
	return subtree >= 0 ? subtree : fg_fan_inode_subtree(n->fan, st->st_dev, st->st_ino);
}

/* A write happened (modify), or a writable fd's last reference went
 * (close-write: the one trace of stores through a shared mapping, or of
 * Linux AIO). Allowed writers were logged at open; what is logged here is
 * a change the policy would not allow: through an fd opened before
 * fanguardd started or handed over by another process, truncate(2) by
 * path, or a write audit mode let through. Once per writer and file. */
static void written(struct fg_guard *g, pid_t tid, const char *path, bool close)
{
	struct fg_notif *n = &g->notif;
	struct stat st;
	int subtree = file_subtree(n, path, &st);
	uint64_t start;

	if (subtree < 0)
		return;
	if (fg_guard_was_allowed(g, tid, st.st_dev, st.st_ino))
		return;
	start = fg_proc_start_time(tid);
	/* a would-deny of audit mode: its open line said it */
	if (close &&
	    fg_guard_was_decided(
		g,
		&(struct fg_creat){.tid = tid, .start = start, .dev = st.st_dev, .ino = st.st_ino},
		false))
		return;
	if (modify_seen(n, tid, start, &st, true))
		return;
	/* The open that explains it may still be being decided (the writer
	 * runs on once answered, before the open is noted): the line waits
	 * for the permission queue to drain, like a create (creat.c). */
	fg_creat_pending(g, close ? FG_PENDING_CLOSE : FG_PENDING_MODIFY, tid, tid, path, subtree,
			 &st);
}

/* ---- entries ---- */

static bool is_root(const struct fg_policy *pol, const char *path)
{
	for (unsigned i = 0; i < pol->cfg.n_subtrees; i++)
		if (!strcmp(pol->cfg.subtrees[i].path, path))
			return true;
	return false;
}

/* Marks what is now at path (inside subtree idx); a directory's entries
 * are reported for tid. */
static void mark_entry(struct fg_guard *g, pid_t tid, const char *path, int idx,
		       const struct stat *st)
{
	struct fg_notif *n = &g->notif;
	struct fg_found_ctx fc = {.g = g, .judge = tid};
	const struct fg_fan_found found = {.fn = fg_creat_found, .ctx = &fc};

	if (S_ISDIR(st->st_mode) || S_ISREG(st->st_mode))
		fg_fan_mark_new(n->fan, &n->pol->cfg, (unsigned)idx, path,
				S_ISDIR(st->st_mode) ? &found : NULL);
}

/* A name was created in a subtree (open, mknod, mkdir, link, symlink). */
static void created(struct fg_guard *g, pid_t tid, const char *path, bool chain)
{
	struct fg_notif *n = &g->notif;
	int idx = fg_policy_match_path(n->pol, path);
	struct stat st;

	if (idx < 0 || chain || is_root(n->pol, path) || lstat(path, &st) < 0)
		return; /* gone already: its delete is logged */
	mark_entry(g, tid, path, idx, &st);
	if (S_ISREG(st.st_mode) && st.st_nlink == 1)
		fg_creat_pending(g, FG_PENDING_CREATED, tid, tid, path, idx, &st);
	else
		fg_creat_unexplained(g, tid, path, idx, &st, false);
}

/* A name went from a subtree. A guarded file removed is a change that
 * landed: a deleted sshd hardening drop-in weakens sshd without a write. */
static void deleted(struct fg_guard *g, const struct fanotify_event_metadata *md, const char *path,
		    bool chain)
{
	struct fg_notif *n = &g->notif;
	int idx = fg_policy_match_path(n->pol, path);

	if (idx < 0 || chain)
		return;
	FG_COUNT(g->state->c.deleted);
	fg_notif_log(g, md->pid,
		     &(struct fg_notice){.action = "delete",
					 .subtree = idx,
					 .path = path,
					 .file_type = md->mask & FAN_ONDIR ? "dir" : NULL});
}

/* A rename that touches a subtree: within one (both names), into one, or
 * out of one. In audit mode sed -i's last step is one within, and names
 * the file it replaced. */
static void renamed(struct fg_guard *g, pid_t tid, const struct names *nm, bool chain)
{
	struct fg_notif *n = &g->notif;
	int oi = nm->old[0] ? fg_policy_match_path(n->pol, nm->old) : -1;
	int ni = nm->path[0] ? fg_policy_match_path(n->pol, nm->path) : -1;
	struct fg_notice nt = {.path = nm->path, .old_path = nm->old[0] ? nm->old : NULL};
	struct stat st;

	if (ni >= 0 && lstat(nm->path, &st) == 0) {
		if (!is_root(n->pol, nm->path) || !S_ISDIR(st.st_mode))
			mark_entry(g, tid, nm->path, ni, &st);
		nt.file_type = fg_creat_type(st.st_mode);
		nt.alert = !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode);
	}
	if (chain)
		return;
	if (ni >= 0 && oi >= 0) {
		FG_COUNT(g->state->c.renamed);
		nt.action = "rename";
		nt.subtree = ni;
	} else if (ni >= 0) {
		FG_COUNT(g->state->c.rename_in);
		nt.action = "rename-in";
		nt.subtree = ni;
	} else if (oi >= 0) {
		/* Moved to a watched place outside every subtree: no longer
		 * ours. To an unwatched one the kernel names no new place, and
		 * the file keeps its marks there. */
		if (nm->path[0])
			fg_fan_forget(n->fan, nm->path);
		FG_COUNT(g->state->c.renamed);
		nt = (struct fg_notice){
		    .action = "rename-out",
		    .subtree = oi,
		    .path = nm->old,
		    .new_path = nm->path[0] ? nm->path : NULL,
		    .message = nm->path[0] ? NULL
					   : "moved to a directory fanguard does not watch; "
					     "a file keeps its marks there",
		};
	} else {
		return;
	}
	fg_notif_log(g, tid, &nt);
}

/* A name whose path does not fit: logged with its directory's inode, and a
 * new entry is marked through the directory's handle all the same. */
static void too_long(struct fg_guard *g, const struct fanotify_event_metadata *md,
		     const struct names *nm)
{
	struct fg_notif *n = &g->notif;
	int idx = fg_fan_inode_subtree(n->fan, nm->long_dev, nm->long_ino);
	struct fg_found_ctx fc = {.g = g, .judge = md->pid};
	const struct fg_fan_found found = {.fn = fg_creat_found, .ctx = &fc};
	char msg[NAME_MAX + 200];

	if (idx >= 0 && (md->mask & (FAN_CREATE | FAN_MOVED_TO | FAN_RENAME)) &&
	    strcmp(nm->long_name, "."))
		fg_fan_mark_new_at(n->fan, &n->pol->cfg, (unsigned)idx, nm->long_dfd, nm->long_name,
				   &found);

	snprintf(msg, sizeof(msg),
		 "event 0x%llx on '%s' in a directory whose path is longer than PATH_MAX "
		 "(device %u:%u, inode %llu)",
		 (unsigned long long)md->mask, nm->long_name, major(nm->long_dev),
		 minor(nm->long_dev), (unsigned long long)nm->long_ino);
	fg_notif_log(
	    g, md->pid,
	    &(struct fg_notice){.action = "path-too-long", .subtree = idx, .message = msg});
}

static void notif_one(struct fg_guard *g, const struct fanotify_event_metadata *md)
{
	static struct names nm; /* notification thread only */
	struct fg_notif *n = &g->notif;
	const char *entry;
	bool chain = false;
	int idx;

	if (md->mask & FAN_Q_OVERFLOW) {
		/* events were lost: look at every subtree afresh */
		FG_COUNT(g->state->c.overflow);
		fg_twinwatch_rescan(g, 0);
		fg_remark_all(g, 0);
		return;
	}
	if (fg_guard_is_self(g, md->pid))
		return;
	notif_paths(n->fan, md, &nm);
	if (nm.too_long) {
		too_long(g, md, &nm);
		close(nm.long_dfd);
	}
	if (!nm.path[0] && !nm.old[0]) {
		/* a directory we marked was deleted or moved and its path is
		 * gone with it */
		if (md->mask & (FAN_DELETE_SELF | FAN_MOVE_SELF))
			fg_remark_all(g, md->pid);
		return;
	}
	entry = nm.path[0] ? nm.path : nm.old;
	/* a deployment made or removed: its twins first (twinwatch.h) */
	if (md->mask & (FAN_CREATE | FAN_DELETE | FAN_MOVED_TO | FAN_RENAME))
		fg_twinwatch_event(g, md->pid, nm.path, nm.old);
	if (md->mask & (FAN_CREATE | FAN_DELETE | FAN_MOVED_TO | FAN_RENAME))
		chain = fg_remark_chain(g, md->pid, nm.path, nm.old,
					md->mask & FAN_CREATE	? "created"
					: md->mask & FAN_DELETE ? "deleted"
								: "renamed");
	if (md->mask & FAN_RENAME)
		renamed(g, md->pid, &nm, chain);
	else if (md->mask & FAN_MOVED_TO)
		renamed(g, md->pid, &nm, chain); /* before 5.17: no old name */
	if (md->mask & FAN_DELETE)
		deleted(g, md, entry, chain);
	if (md->mask & FAN_CREATE)
		created(g, md->pid, entry, chain);
	/* a write and its close, merged into one event, make one check */
	if (md->mask & (FAN_MODIFY | FAN_CLOSE_WRITE))
		written(g, md->pid, entry, !(md->mask & FAN_MODIFY));
	if ((md->mask & FAN_ATTRIB) && (idx = fg_policy_match_path(n->pol, entry)) >= 0) {
		FG_COUNT(g->state->c.attrib);
		fg_notif_log(
		    g, md->pid,
		    &(struct fg_notice){.action = "attrib", .subtree = idx, .path = entry});
	}
	/* after the handlers above: a new or renamed-in policy is marked now */
	if (md->mask & FAN_CLOSE_WRITE)
		fg_sigwatch_check(g, "write", entry, md->pid);
	else if ((md->mask & (FAN_MOVED_TO | FAN_RENAME)) && nm.path[0])
		fg_sigwatch_check(g, "rename", nm.path, md->pid);
	else if (md->mask & FAN_CREATE)
		fg_sigwatch_check(g, "create", entry, md->pid);
}

/* Events that carry names are padded to 4 bytes, not to the 8 the metadata
 * struct wants: each is copied to an aligned place before it is read. */
static int notif_batch(struct fg_guard *g, const char *buf, size_t len)
{
	union {
		struct fanotify_event_metadata md;
		char bytes[EVENT_BUF];
	} ev;
	size_t off = 0;

	while (off + sizeof(ev.md) <= len) {
		memcpy(&ev.md, buf + off, sizeof(ev.md));
		if (ev.md.vers != FANOTIFY_METADATA_VERSION)
			return -EPROTO;
		if (ev.md.event_len < sizeof(ev.md) || ev.md.event_len > len - off)
			break;
		memcpy(ev.bytes, buf + off, ev.md.event_len);
		notif_one(g, &ev.md);
		if (ev.md.fd >= 0)
			close(ev.md.fd);
		off += ev.md.event_len;
	}
	return 0;
}

/* Reads what waits on one notification group. Returns 0 or -errno. */
static int read_notif(struct fg_guard *g, int fd)
{
	char buf[EVENT_BUF];

	for (unsigned round = 0; fd >= 0 && round < 16; round++) {
		ssize_t len = read(fd, buf, sizeof(buf));
		int r;

		if (len < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		r = notif_batch(g, buf, (size_t)len);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Takes the main thread's message. On adopt, what the old group still
 * holds is handled against the new generation: a directory made while the
 * new group was being marked is marked there too. Returns true on stop. */
static bool take_msg(struct fg_guard *g)
{
	struct fg_notif *n = &g->notif;
	struct fg_fan *old = NULL;
	uint64_t v;
	bool stop = false;

	(void)!read(g->notif_wake, &v, sizeof(v));
	pthread_mutex_lock(&g->lock);
	if (g->notif_seq != g->msg_seq) {
		if (g->msg == FG_MSG_ADOPT) {
			old = n->fan;
			n->fan = g->msg_fan;
			n->pol = g->msg_pol;
		}
		stop = g->msg == FG_MSG_STOP;
	}
	pthread_mutex_unlock(&g->lock);
	/* The old group's handles name the same filesystems, whose mount
	 * fds the new generation holds too. What waits for a drain is
	 * settled before the old policy goes (its paths and rules). */
	if (old) {
		read_notif(g, old->notif_fd);
		fg_creat_settle(g, true);
		fg_fdscan_run(g); /* what the new generation guards */
	}
	if (stop)
		fg_creat_settle(g, true);
	pthread_mutex_lock(&g->lock);
	g->notif_seq = g->msg_seq;
	pthread_cond_broadcast(&g->acked);
	pthread_mutex_unlock(&g->lock);
	if (old) {
		fg_twinwatch_rescan(g, 0); /* what appeared while it loaded */
		fg_sigwatch_check(g, "reload", NULL, 0);
	}
	return stop;
}

void *fg_notif_main(void *arg)
{
	struct fg_guard *g = arg;
	struct fg_notif *n = &g->notif;
	int timeout = -1;

	n->mountfd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	fg_remark_mounts(g);
	fg_fdscan_run(g);
	fg_sigwatch_check(g, "start", NULL, 0);
	for (;;) {
		struct pollfd pf[] = {
		    {.fd = n->fan->notif_fd, .events = POLLIN},
		    {.fd = n->mountfd, .events = POLLPRI},
		    {.fd = g->notif_wake, .events = POLLIN},
		};

		if (poll(pf, FG_ARRAY_SIZE(pf), timeout) < 0 && errno != EINTR)
			break;
		if (pf[0].revents && read_notif(g, n->fan->notif_fd) < 0)
			FG_COUNT(g->state->c.event_errors);
		if (pf[1].revents)
			fg_remark_mounts(g);
		if (pf[2].revents) {
			fg_creat_drain(g);
			if (take_msg(g))
				break;
		}
		timeout = fg_creat_settle(g, false);
	}
	return NULL;
}
