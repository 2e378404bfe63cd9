/* The notification thread: names that appear, move and change in the
 * subtrees, the mount table, and the main thread's messages. It may look at
 * paths (lstat, marking, open_by_handle_at with O_PATH); an open it makes of
 * a guarded file is answered at once, because it is one of our threads. */
#include "fanguard/guard.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fanguard/util.h"

#define EVENT_BUF 8192

/* The path behind a directory handle, plus the entry name when there is
 * one. Returns 0 or -errno. O_PATH opens never reach a permission group. */
static int fid_path(const struct fg_fan *fan, const struct fanotify_event_info_fid *fid,
		    bool with_name, char *out, size_t size)
{
	struct file_handle *fh = (struct file_handle *)(void *)fid->handle;
	int32_t fsid[2];
	int mfd, dfd;
	ssize_t n;

	memcpy(fsid, &fid->fsid, sizeof(fsid));
	mfd = fg_fan_mount_fd(fan, fsid);
	if (mfd < 0)
		return -ENOENT;
	dfd = open_by_handle_at(mfd, fh, O_PATH | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	n = fg_fan_fd_path(dfd, out, size);
	close(dfd);
	if (n < 0)
		return (int)n;
	if (with_name) {
		const char *name = (const char *)fh->f_handle + fh->handle_bytes;
		if (strcmp(name, ".") != 0 && (size_t)n + 1 + strlen(name) < size)
			snprintf(out + n, size - (size_t)n, "%s%s", n > 1 ? "/" : "", name);
	}
	return 0;
}

/* The entry's path (the new name of a rename) and, for FAN_RENAME, the old. */
static void notif_paths(const struct fg_fan *fan, const struct fanotify_event_metadata *md,
			char *path, char *old, size_t size)
{
	const char *p = (const char *)md + md->metadata_len;
	const char *end = (const char *)md + md->event_len;

	path[0] = old[0] = '\0';
	while (p + sizeof(struct fanotify_event_info_header) <= end) {
		const struct fanotify_event_info_header *h = (const void *)p;
		const struct fanotify_event_info_fid *fid = (const void *)p;

		if (h->len == 0 || p + h->len > end)
			break;
		if (h->info_type == FAN_EVENT_INFO_TYPE_DFID_NAME ||
		    h->info_type == FAN_EVENT_INFO_TYPE_NEW_DFID_NAME)
			fid_path(fan, fid, true, path, size);
		else if (h->info_type == FAN_EVENT_INFO_TYPE_OLD_DFID_NAME)
			fid_path(fan, fid, true, old, size);
		else if (h->info_type == FAN_EVENT_INFO_TYPE_DFID && !path[0])
			fid_path(fan, fid, false, path, size);
		p += h->len;
	}
}

/* Logs what a notification showed, judged by the policy: an allowed writer
 * is "allow", anyone else "detected" (it already happened). */
static void notif_log(struct fg_guard *g, pid_t tid, const char *action, int subtree,
		      const char *path, const char *message)
{
	struct fg_notif *n = &g->notif;
	struct fg_decision d;
	struct fg_outcome o;
	struct fg_event ev;
	int resolved = fg_proc_resolve(tid, n->proc);

	fg_guard_judge(n->pol, subtree, n->proc, resolved, -2, &o, &d);
	if (o.quiet)
		return;
	if (d.verdict == FG_VERDICT_DENY)
		o.decision = "detected";
	o.allow = true;
	fg_guard_event_base(&ev, action);
	ev.path = path;
	ev.message = message;
	fg_guard_log_decision(g, n->pol, &ev, &o, subtree, n->proc, resolved);
}

/* Whether (writer, file) was logged already; remembers it if not. The table
 * starts over when full: a repeat line is better than a lost one. */
static bool modify_seen(struct fg_notif *n, pid_t tid, uint64_t start, const struct stat *st)
{
	for (unsigned i = 0; i < n->n_modseen; i++) {
		const struct fg_modseen *m = &n->modseen[i];
		if (m->tid == tid && m->start == start && m->ino == st->st_ino &&
		    m->dev == st->st_dev)
			return true;
	}
	if (n->n_modseen == FG_MODSEEN_MAX)
		n->n_modseen = 0;
	n->modseen[n->n_modseen++] =
	    (struct fg_modseen){.dev = st->st_dev, .ino = st->st_ino, .start = start, .tid = tid};
	return false;
}

/* A write happened. Allowed writers were logged at open; what is logged
 * here is a change the policy would not allow: through an fd opened before
 * fanguardd started, truncate(2) by path, or a write audit mode let
 * through. Once per writer and file. */
static void modify(struct fg_guard *g, pid_t tid, const char *path)
{
	struct fg_notif *n = &g->notif;
	struct fg_decision d;
	struct fg_outcome o;
	struct stat st;
	int subtree, resolved;

	FG_COUNT(g->state->c.modify);
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	subtree = fg_policy_match_path(n->pol, path);
	if (subtree < 0)
		subtree = fg_fan_inode_subtree(n->fan, st.st_dev, st.st_ino);
	if (subtree < 0 || fg_guard_was_allowed(g, tid, st.st_dev, st.st_ino) ||
	    modify_seen(n, tid, fg_proc_start_time(tid), &st))
		return;
	resolved = fg_proc_resolve(tid, n->proc);
	fg_guard_judge(n->pol, subtree, n->proc, resolved, -2, &o, &d);
	if (d.verdict == FG_VERDICT_ALLOW)
		return;
	notif_log(g, tid, "modify", subtree, path, NULL);
}

static int subtree_root(const struct fg_policy *pol, const char *path)
{
	for (unsigned i = 0; i < pol->cfg.n_subtrees; i++)
		if (!strcmp(pol->cfg.subtrees[i].path, path))
			return (int)i;
	return -1;
}

/* A name appeared (created, renamed in, linked in) inside or at a subtree:
 * guard it at once, then say so when it did not come through an open we
 * decided. */
static void notif_entry(struct fg_guard *g, const struct fanotify_event_metadata *md,
			const char *path, const char *old)
{
	struct fg_notif *n = &g->notif;
	int root = subtree_root(n->pol, path), idx = fg_policy_match_path(n->pol, path);
	bool moved = md->mask & (FAN_MOVED_TO | FAN_RENAME);
	char msg[128];
	struct stat st;
	int files;

	if (idx < 0)
		return;
	if (!moved && !(md->mask & FAN_ONDIR) && lstat(path, &st) == 0) {
		if (S_ISREG(st.st_mode) && st.st_size == 0 && st.st_nlink == 1) {
			if (fg_creat_created(g, md->pid, path, idx, st.st_dev, st.st_ino))
				return;
		} else if (S_ISLNK(st.st_mode) && root < 0) {
			/* sudo or sshd would follow it to a file we do not guard */
			FG_COUNT(g->state->c.symlink_in);
			notif_log(g, md->pid, "symlink-in", idx, path, NULL);
			return;
		}
	}
	if (root >= 0)
		files = fg_remark_subtree(g, (unsigned)root, "appeared");
	else
		files = fg_fan_mark_new(n->fan, &n->pol->cfg, (unsigned)idx, path);
	if (moved && (!old[0] || fg_policy_match_path(n->pol, old) < 0)) {
		FG_COUNT(g->state->c.rename_in);
		notif_log(g, md->pid, "rename-in", idx, path, NULL);
	} else if (!moved && !(md->mask & FAN_ONDIR) && lstat(path, &st) == 0 &&
		   S_ISREG(st.st_mode) && st.st_nlink > 1) {
		FG_COUNT(g->state->c.link_in);
		notif_log(g, md->pid, "link-in", idx, path, NULL);
	} else if (root >= 0) {
		notif_log(g, md->pid, "subtree-appeared", idx, path, NULL);
	} else if ((md->mask & FAN_ONDIR) && files > 0) {
		snprintf(msg, sizeof(msg),
			 "%d file(s) were in this new directory before it was guarded", files);
		notif_log(g, md->pid, "unguarded-files", idx, path, msg);
	}
}

static void notif_one(struct fg_guard *g, const struct fanotify_event_metadata *md)
{
	struct fg_notif *n = &g->notif;
	char path[PATH_MAX], old[PATH_MAX];
	int idx;

	if (md->mask & FAN_Q_OVERFLOW) {
		FG_COUNT(g->state->c.overflow);
		return;
	}
	if (fg_guard_is_self(g, md->pid))
		return;
	notif_paths(n->fan, md, path, old, sizeof(path));
	if (!path[0])
		return;
	if ((md->mask & FAN_RENAME) && old[0] && fg_policy_match_path(n->pol, old) >= 0 &&
	    fg_policy_match_path(n->pol, path) < 0) {
		/* moved out: no longer ours to guard */
		fg_fan_forget(n->fan, path);
	} else if (md->mask & (FAN_CREATE | FAN_MOVED_TO | FAN_RENAME)) {
		notif_entry(g, md, path, old);
	} else if (md->mask & FAN_MODIFY) {
		modify(g, md->pid, path);
	} else if (md->mask & FAN_ATTRIB) {
		idx = fg_policy_match_path(n->pol, path);
		if (idx < 0)
			return;
		FG_COUNT(g->state->c.attrib);
		notif_log(g, md->pid, "attrib", idx, path, NULL);
	}
	/* after the handlers above: a new or renamed-in policy is marked now */
	if (md->mask & FAN_CLOSE_WRITE)
		fg_sigwatch_check(g, "write", path, md->pid);
	else if (md->mask & (FAN_MOVED_TO | FAN_RENAME))
		fg_sigwatch_check(g, "rename", path, md->pid);
	else if (md->mask & FAN_CREATE)
		fg_sigwatch_check(g, "create", path, md->pid);
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
	 * fds the new generation holds too. */
	if (old)
		read_notif(g, old->notif_fd);
	pthread_mutex_lock(&g->lock);
	g->notif_seq = g->msg_seq;
	pthread_cond_broadcast(&g->acked);
	pthread_mutex_unlock(&g->lock);
	if (old)
		fg_sigwatch_check(g, "reload", NULL, 0);
	return stop;
}

void *fg_notif_main(void *arg)
{
	struct fg_guard *g = arg;
	struct fg_notif *n = &g->notif;

	n->mountfd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	fg_remark_mounts(g);
	fg_sigwatch_check(g, "start", NULL, 0);
	for (;;) {
		struct pollfd pf[] = {
		    {.fd = n->fan->notif_fd, .events = POLLIN},
		    {.fd = n->mountfd, .events = POLLPRI},
		    {.fd = g->notif_wake, .events = POLLIN},
		};

		if (poll(pf, FG_ARRAY_SIZE(pf), -1) < 0 && errno != EINTR)
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
	}
	return NULL;
}
