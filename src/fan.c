#include "fanguard/fan.h"

#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "fanguard/twinwatch.h"
#include "fanguard/util.h"

/* The headers here are older than the kernels fanguard runs on. */
#ifndef FAN_INFO
#define FAN_INFO 0x20
#endif
#define FG_RESPONSE_INFO_AUDIT_RULE 1
#define FG_TRUST_UNKNOWN	    2

/* The kernel's struct fanotify_response_info_audit_rule (6.3+), after the
 * response itself. */
struct audit_response {
	struct fanotify_response resp;
	uint8_t type, pad;
	uint16_t len;
	uint32_t rule_number, subj_trust, obj_trust;
};

#ifndef FAN_RENAME
#define FAN_RENAME 0x10000000
#endif
#ifndef FAN_REPORT_DFID_NAME
#define FAN_REPORT_DFID_NAME (0x00000400 | 0x00000800)
#endif

/* Modifications are watched by the notification group: truncate(2) and
 * other changes made without an open file reach only groups that report
 * file ids, never the fd-based permission group. */
#define PERM_MASK	FAN_OPEN_PERM
/* Entries of a directory are watched both ways (FAN_MOVED_TO becomes
 * FAN_RENAME, which names both ends) and as they go (FAN_DELETE). The last
 * close of a writable fd (FAN_CLOSE_WRITE), the one trace of writes that
 * raise no FAN_MODIFY (stores through a shared mapping, Linux AIO), is
 * watched only on files a handle no open of ours decided is known to
 * write (fg_fan_watch_close): on every file it would cost each allowed
 * writer's close an event, and the notification thread the work. */
#define FILE_NOTIF_MASK (FAN_MODIFY | FAN_ATTRIB)
#define DIR_NOTIF_MASK                                                                             \
	(FAN_CREATE | FAN_DELETE | FAN_MOVED_TO | FILE_NOTIF_MASK | FAN_ONDIR |                    \
	 FAN_EVENT_ON_CHILD | FAN_DELETE_SELF | FAN_MOVE_SELF)
/* The chain above a subtree: only its entries (DESIGN 10). */
#define CHAIN_NOTIF_MASK (FAN_CREATE | FAN_DELETE | FAN_MOVED_TO | FAN_ONDIR)
#define MAX_DEPTH	 64

int fg_fan_open(struct fg_fan *f, bool audit)
{
	unsigned base = FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE | FAN_UNLIMITED_MARKS;

	memset(f, 0, sizeof(*f));
	f->perm_fd = f->notif_fd = -1;
	/* calloc: untouched slots stay unbacked pages; an empty slot is ino 0,
	 * which no file has. */
	f->inode_cap = FG_INODES_INIT;
	f->inodes = calloc(f->inode_cap, sizeof(*f->inodes));
	if (!f->inodes)
		return -ENOMEM;
	pthread_mutex_init(&f->ilock, NULL);
	f->ilock_init = true;
	/* FAN_REPORT_TID: the opener may be any thread, and only that
	 * thread's /proc/TID/syscall shows the open. */
	if (audit) {
		f->perm_fd = fanotify_init(base | FAN_CLASS_CONTENT | FAN_REPORT_TID | FAN_ENABLE_AUDIT,
					   O_RDONLY | O_LARGEFILE | O_CLOEXEC);
		f->audit = f->audit_rule = f->perm_fd >= 0;
		f->audit_err = f->perm_fd >= 0 ? 0 : -errno;
	}
	if (f->perm_fd < 0)
		f->perm_fd = fanotify_init(base | FAN_CLASS_CONTENT | FAN_REPORT_TID,
					   O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (f->perm_fd < 0) {
		int r = -errno;
		fg_fan_close(f);
		return r;
	}
	f->notif_fd = fanotify_init(base | FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME | FAN_REPORT_TID,
				    O_RDONLY | O_CLOEXEC);
	f->have_rename = true;
	return 0;
}

void fg_fan_close(struct fg_fan *f)
{
	/* The permission group first: closing it lets every blocked opener go. */
	if (f->perm_fd >= 0)
		close(f->perm_fd);
	f->perm_fd = -1;
	if (f->notif_fd >= 0)
		close(f->notif_fd);
	f->notif_fd = -1;
	for (unsigned i = 0; i < f->n_mounts; i++)
		close(f->mounts[i].fd);
	f->n_mounts = 0;
	free(f->inodes);
	f->inodes = NULL;
	if (f->ilock_init)
		pthread_mutex_destroy(&f->ilock);
	f->ilock_init = false;
}

static size_t inode_slot(const struct fg_fan *f, uint64_t dev, uint64_t ino)
{
	uint64_t h = (ino * 0x9E3779B97F4A7C15ULL) ^ (dev * 0xC2B2AE3D27D4EB4FULL);

	return (size_t)(h >> 20) & (f->inode_cap - 1);
}

static size_t inode_next(const struct fg_fan *f, size_t i)
{
	return (i + 1) & (f->inode_cap - 1);
}

/* Rebuilds the table at cap slots, leaving forgotten inodes behind. Only
 * marking does, never an event. Returns 0 or -ENOMEM (the old table stays). */
static int inode_rebuild(struct fg_fan *f, unsigned cap)
{
	struct fg_fan_inode *old = f->inodes;
	unsigned old_cap = f->inode_cap;

	f->inodes = calloc(cap, sizeof(*f->inodes));
	if (!f->inodes) {
		f->inodes = old;
		return -ENOMEM;
	}
	f->inode_cap = cap;
	f->n_forgotten = 0;
	f->n_inodes = 0;
	for (unsigned k = 0; k < old_cap; k++) {
		if (!old[k].ino || old[k].subtree < 0)
			continue;
		size_t i = inode_slot(f, old[k].dev, old[k].ino);
		while (f->inodes[i].ino)
			i = inode_next(f, i);
		f->inodes[i] = old[k];
		f->n_inodes++;
	}
	free(old);
	return 0;
}

static void inode_put(struct fg_fan *f, uint64_t dev, uint64_t ino, int subtree)
{
	size_t i = inode_slot(f, dev, ino);

	/* Keep the table at most 3/4 full so probes stay short. */
	for (unsigned n = 0; n < f->inode_cap; n++, i = inode_next(f, i)) {
		struct fg_fan_inode *e = &f->inodes[i];
		if (e->ino && (e->dev != dev || e->ino != ino))
			continue;
		if (!e->ino) {
			if (f->n_inodes >= f->inode_cap / 4 * 3) {
				/* Forgotten entries make room first; then it grows. */
				unsigned cap = f->n_forgotten > f->inode_cap / 8 ? f->inode_cap
					       : f->inode_cap < FG_INODES_MAX	  ? f->inode_cap * 2
										  : 0;
				if (cap && inode_rebuild(f, cap) == 0 &&
				    f->n_inodes < f->inode_cap / 4 * 3) {
					inode_put(f, dev, ino, subtree);
					return;
				}
				f->inode_overflow++;
				return;
			}
			f->n_inodes++;
		}
		e->dev = dev;
		e->ino = ino;
		e->subtree = subtree;
		return;
	}
}

/* Open addressing cannot just empty a slot; a tombstone subtree of -1
 * keeps later probes going and matches nothing. */
void fg_fan_forget_inode(struct fg_fan *f, uint64_t dev, uint64_t ino)
{
	pthread_mutex_lock(&f->ilock);
	for (size_t i = inode_slot(f, dev, ino), n = 0; n < f->inode_cap;
	     n++, i = inode_next(f, i)) {
		struct fg_fan_inode *e = &f->inodes[i];
		if (!e->ino)
			break;
		if (e->dev == dev && e->ino == ino) {
			if (e->subtree >= 0)
				f->n_forgotten++;
			e->subtree = -1;
			break;
		}
	}
	pthread_mutex_unlock(&f->ilock);
}

void fg_fan_forget(struct fg_fan *f, const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	fanotify_mark(f->perm_fd, FAN_MARK_REMOVE | FAN_MARK_DONT_FOLLOW, PERM_MASK, AT_FDCWD,
		      path);
	fanotify_mark(f->notif_fd, FAN_MARK_REMOVE | FAN_MARK_DONT_FOLLOW, FILE_NOTIF_MASK,
		      AT_FDCWD, path);
	fg_fan_forget_inode(f, st.st_dev, st.st_ino);
}

int fg_fan_inode_subtree(struct fg_fan *f, uint64_t dev, uint64_t ino)
{
	int found = -1;

	pthread_mutex_lock(&f->ilock);
	for (size_t i = inode_slot(f, dev, ino), n = 0; n < f->inode_cap;
	     n++, i = inode_next(f, i)) {
		const struct fg_fan_inode *e = &f->inodes[i];
		if (!e->ino)
			break;
		if (e->dev == dev && e->ino == ino) {
			found = e->subtree;
			break;
		}
	}
	pthread_mutex_unlock(&f->ilock);
	return found;
}

static int mark(struct fg_fan *f, int group, uint64_t mask, int dirfd, const char *name)
{
	unsigned flags = FAN_MARK_ADD | (name ? FAN_MARK_DONT_FOLLOW : 0);

	if (group < 0)
		return 0;
	/* FAN_RENAME names both ends, so a rename inside a subtree can be told
	 * from one into it; asking for FAN_MOVED_TO too would report it twice. */
	if (group == f->notif_fd && f->have_rename && (mask & FAN_MOVED_TO))
		mask = (mask & ~(uint64_t)FAN_MOVED_TO) | FAN_RENAME;
	if (fanotify_mark(group, flags, mask, dirfd, name) == 0)
		return 0;
	if (errno == EINVAL && (mask & FAN_RENAME) && f->have_rename) {
		f->have_rename = false; /* a kernel before 5.17 */
		return mark(f, group, (mask & ~(uint64_t)FAN_RENAME) | FAN_MOVED_TO, dirfd, name);
	}
	f->mark_errors++;
	return -errno;
}

/* One walk over a directory being marked: the path it is at, for the
 * entries it reports. */
struct walk {
	struct fg_fan *f;
	const struct fg_config *cfg;
	unsigned idx;
	const struct fg_fan_found *found;
	size_t len; /* of path; > PATH_MAX - 2 once the path no longer fits */
	char path[PATH_MAX];
	int entries; /* reported to found */
};

static void inode_note(struct fg_fan *f, const struct stat *st, unsigned idx)
{
	pthread_mutex_lock(&f->ilock);
	inode_put(f, st->st_dev, st->st_ino, (int)idx);
	pthread_mutex_unlock(&f->ilock);
}

/* A regular file in a subtree: its own inode mark guards it under every
 * name it has, and the table maps it back to the subtree. fanotify_mark
 * takes no O_PATH fd, so a file is always named (dirfd + name). */
static int mark_file(struct fg_fan *f, unsigned idx, int dirfd, const char *name,
		     const struct stat *st)
{
	int r;

	if (!S_ISREG(st->st_mode))
		return 0;
	r = mark(f, f->perm_fd, PERM_MASK, dirfd, name);
	if (r < 0)
		return r;
	/* Its own notification mark too: a write through a hard link made
	 * elsewhere is reported to the file, not to our directory. */
	mark(f, f->notif_fd, FILE_NOTIF_MASK, dirfd, name);
	f->marks++;
	f->st[idx].marks++;
	inode_note(f, st, idx);
	return 1;
}

static void report(struct walk *w, const char *name, const struct stat *st)
{
	bool fits = w->len + 1 + strlen(name) < sizeof(w->path);
	size_t at = w->len;

	if (!w->found)
		return;
	w->entries++;
	if (fits)
		snprintf(w->path + at, sizeof(w->path) - at, "%s%s", at > 1 ? "/" : "", name);
	w->found->fn(w->found->ctx, w->idx, fits ? w->path : NULL, name, st);
	if (fits)
		w->path[at] = '\0';
}

static int mark_dir(struct walk *w, int dirfd, unsigned depth);

/* A subdirectory: walked with the path grown by its name (or marked
 * without one once the path no longer fits: marks need no path). */
static int mark_subdir(struct walk *w, int dirfd, const char *name, unsigned depth)
{
	int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	size_t at = w->len;
	int r;

	if (sub < 0)
		return -errno;
	if (at + 1 + strlen(name) < sizeof(w->path))
		w->len += (size_t)snprintf(w->path + at, sizeof(w->path) - at, "%s%s",
					   at > 1 ? "/" : "", name);
	else
		w->len = sizeof(w->path);
	r = mark_dir(w, sub, depth + 1);
	close(sub);
	w->len = at;
	if (at < sizeof(w->path))
		w->path[at] = '\0';
	return r;
}

static int mark_entries(struct walk *w, int dirfd, unsigned depth)
{
	int dup_fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	struct dirent *de;
	struct stat st;

	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (w->cfg->subtrees[w->idx].recursive)
				mark_subdir(w, dirfd, de->d_name, depth);
			continue;
		}
		mark_file(w->f, w->idx, dirfd, de->d_name, &st);
		report(w, de->d_name, &st);
	}
	closedir(d);
	return 0;
}

static void remember_mount(struct fg_fan *f, int dirfd)
{
	union {
		struct file_handle fh;
		unsigned char bytes[sizeof(struct file_handle) + FG_FH_BYTES];
	} h;
	struct statfs sfs;
	int32_t id[2];
	int mnt;

	if (fstatfs(dirfd, &sfs) < 0)
		return;
	memcpy(id, &sfs.f_fsid, sizeof(id));
	h.fh.handle_bytes = FG_FH_BYTES;
	if (name_to_handle_at(dirfd, "", &h.fh, &mnt, AT_EMPTY_PATH) < 0)
		mnt = -1;
	/* One fd per mount, not per filesystem: a handle resolves only inside
	 * the mount it is opened through, and /sysroot and a bind mount of a
	 * deployment's directory (the running root, /etc) share one. */
	for (unsigned i = 0; i < f->n_mounts; i++)
		if (!memcmp(f->mounts[i].fsid, id, sizeof(id)) && f->mounts[i].mnt_id == mnt)
			return;
	if (f->n_mounts >= FG_ARRAY_SIZE(f->mounts))
		return;
	f->mounts[f->n_mounts].fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (f->mounts[f->n_mounts].fd < 0)
		return;
	memcpy(f->mounts[f->n_mounts].fsid, id, sizeof(id));
	f->mounts[f->n_mounts].mnt_id = mnt;
	f->n_mounts++;
}

int fg_fan_mount_fd(const struct fg_fan *f, const int32_t fsid[2])
{
	for (unsigned i = 0; i < f->n_mounts; i++)
		if (f->mounts[i].fsid[0] == fsid[0] && f->mounts[i].fsid[1] == fsid[1])
			return f->mounts[i].fd;
	return -1;
}

int fg_fan_mark_chain_dir(struct fg_fan *f, int dirfd)
{
	int r = mark(f, f->notif_fd, CHAIN_NOTIF_MASK, dirfd, NULL);

	if (r == 0)
		remember_mount(f, dirfd);
	return r;
}

/* Directories are opened (never files): the marks carry no FAN_ONDIR, so
 * this cannot wait on our own permission group. A directory is in the
 * inode table too, so that a notification whose path is too long to
 * rebuild can still be placed by its directory. */
static int mark_dir(struct walk *w, int dirfd, unsigned depth)
{
	struct fg_fan *f = w->f;
	struct stat st;
	int r;

	if (depth > MAX_DEPTH)
		return -ELOOP;
	r = mark(f, f->perm_fd, PERM_MASK | FAN_EVENT_ON_CHILD, dirfd, NULL);
	if (r < 0)
		return r;
	f->marks++;
	f->st[w->idx].marks++;
	remember_mount(f, dirfd);
	mark(f, f->notif_fd, DIR_NOTIF_MASK, dirfd, NULL);
	if (fstat(dirfd, &st) == 0)
		inode_note(f, &st, w->idx);
	return mark_entries(w, dirfd, depth);
}

/* Marks what is at path for subtree idx: a directory tree or one file.
 * Returns the entries reported, or -errno. */
static int mark_path(struct fg_fan *f, const struct fg_config *cfg, unsigned idx, const char *path,
		     const struct fg_fan_found *found)
{
	static struct walk w; /* one marking thread at a time: the notification
			       * thread, or the main thread before it runs */
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode)) {
		r = mark_file(f, idx, AT_FDCWD, path, &st);
		return r < 0 ? r : 0;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	w = (struct walk){.f = f, .cfg = cfg, .idx = idx, .found = found};
	w.len = fg_strlcpy(w.path, path, sizeof(w.path));
	r = mark_dir(&w, fd, 0);
	close(fd);
	return r < 0 ? r : w.entries;
}

/* A single-file subtree (policy.json): its directory carries a permission
 * mark too, so that a new file created under its name (after a delete or a
 * rename away) is decided before it is written, not only reported. Opens of
 * the directory's other files reach us and are let through by path. */
static int mark_file_parent(struct fg_fan *f, unsigned idx, const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd, r;

	fg_strlcpy(dir, path, sizeof(dir));
	slash = strrchr(dir, '/');
	if (!slash)
		return -EINVAL;
	slash[slash == dir] = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = mark(f, f->perm_fd, PERM_MASK | FAN_EVENT_ON_CHILD, fd, NULL);
	if (r == 0) {
		f->marks++;
		f->st[idx].marks++;
		remember_mount(f, fd);
	}
	close(fd);
	return r;
}

/* Events name files by their resolved path, so a subtree configured
 * through a symlink would never match one: refuse it loudly instead. */
static bool through_symlink(const char *path)
{
	char real[PATH_MAX];

	return realpath(path, real) && strcmp(real, path) != 0;
}

/* The root's handle and filesystem, to find it again after a move. */
static void remember_root(struct fg_fan_subtree *s, const char *path)
{
	union {
		struct file_handle fh;
		unsigned char bytes[sizeof(struct file_handle) + FG_FH_BYTES];
	} h;
	struct statfs sfs;
	int mnt;

	s->root_fh_bytes = 0;
	h.fh.handle_bytes = FG_FH_BYTES;
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mnt, 0) < 0 || statfs(path, &sfs) < 0)
		return;
	memcpy(s->root_fsid, &sfs.f_fsid, sizeof(s->root_fsid));
	memcpy(s->root_fh, h.fh.f_handle, h.fh.handle_bytes);
	s->root_fh_type = (unsigned)h.fh.handle_type;
	s->root_fh_bytes = h.fh.handle_bytes;
}

int fg_fan_root_where(const struct fg_fan *f, unsigned idx, char *buf, size_t size)
{
	const struct fg_fan_subtree *s = &f->st[idx];
	union {
		struct file_handle fh;
		unsigned char bytes[sizeof(struct file_handle) + FG_FH_BYTES];
	} h;
	int mfd = fg_fan_mount_fd(f, s->root_fsid), fd;
	ssize_t n;

	if (!s->root_fh_bytes || mfd < 0)
		return -ENOENT;
	h.fh.handle_bytes = s->root_fh_bytes;
	h.fh.handle_type = (int)s->root_fh_type;
	memcpy(h.fh.f_handle, s->root_fh, s->root_fh_bytes);
	fd = open_by_handle_at(mfd, &h.fh, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = fg_fan_fd_path(fd, buf, size);
	close(fd);
	/* an unlinked file or directory reads "... (deleted)" */
	if (n > 10 && !strcmp(buf + n - 10, " (deleted)"))
		return -ESTALE;
	return n < 0 ? (int)n : 0;
}

/* Whether the level below watch (the chain's nearest directory) toward
 * path exists now: made while the chain was walked, before its parent's
 * mark could report it. path itself counts when it is not marked yet. */
static bool chain_stale(const char *watch, const char *path, bool marked)
{
	size_t n = strlen(watch);
	char next[PATH_MAX];
	const char *end;
	struct stat st;

	if (strncmp(path, watch, n) != 0 || path[n] != '/' || n >= sizeof(next))
		return false;
	end = strchr(path + n + 1, '/');
	if (!end)
		return !marked && lstat(path, &st) == 0;
	if ((size_t)(end - path) >= sizeof(next))
		return false;
	memcpy(next, path, (size_t)(end - path));
	next[end - path] = '\0';
	return lstat(next, &st) == 0;
}

int fg_fan_mark_subtree(struct fg_fan *f, const struct fg_config *cfg, unsigned idx,
			const struct fg_fan_found *found)
{
	const char *path = cfg->subtrees[idx].path;
	struct fg_fan_subtree *s = &f->st[idx];
	struct stat st;
	int r;

	/* What is marked now is counted again, from nothing: the marks left
	 * on a directory that moved away still guard it, uncounted. */
	f->marks -= s->marks < f->marks ? s->marks : f->marks;
	s->marks = 0;
	fg_fan_watch_chain(f, idx, path);
	r = through_symlink(path) ? -ELOOP : mark_path(f, cfg, idx, path, found);
	/* mkdir -p racing the walk: a level it skipped as missing would never
	 * be reported, so the chain is walked again until none is (bounded) */
	for (unsigned k = 0;
	     k < 16 && (r >= 0 || r == -ENOENT) && chain_stale(s->watch, path, r >= 0); k++) {
		fg_fan_watch_chain(f, idx, path);
		if (r == -ENOENT)
			r = through_symlink(path) ? -ELOOP : mark_path(f, cfg, idx, path, found);
	}
	s->exists = r >= 0;
	s->error = r < 0 && r != -ENOENT ? r : 0;
	if (r < 0) {
		s->root_dev = s->root_ino = 0;
		s->root_fh_bytes = 0;
		return r == -ENOENT ? 0 : r;
	}
	if (lstat(path, &st) < 0)
		return -errno;
	s->root_dev = st.st_dev;
	s->root_ino = st.st_ino;
	remember_root(s, path);
	if (!S_ISDIR(st.st_mode)) {
		s->is_file = true;
		/* a write-close: when policy.json is judged again (sigwatch.c) */
		mark(f, f->notif_fd, FILE_NOTIF_MASK | FAN_CLOSE_WRITE, AT_FDCWD, path);
		return mark_file_parent(f, idx, path);
	}
	return 0;
}

bool fg_fan_subtree_same(const struct fg_fan *f, const struct fg_config *cfg, unsigned idx)
{
	struct stat st;

	/* refused for going through a symlink: nothing to compare until a
	 * reload brings a real path */
	if (f->st[idx].error == -ELOOP)
		return true;
	if (lstat(cfg->subtrees[idx].path, &st) < 0)
		return !f->st[idx].exists;
	return f->st[idx].exists && st.st_dev == f->st[idx].root_dev &&
	       st.st_ino == f->st[idx].root_ino;
}

int fg_fan_mark_all(struct fg_fan *f, const struct fg_config *cfg)
{
	int first_err = 0;

	f->n_subtrees = cfg->n_subtrees;
	for (unsigned i = 0; i < cfg->n_subtrees; i++) {
		int r = fg_fan_mark_subtree(f, cfg, i, NULL);
		if (r < 0 && !first_err)
			first_err = r;
	}
	fg_twinwatch_mark(f, cfg); /* where deployments appear */
	return first_err;
}

int fg_fan_mark_new(struct fg_fan *f, const struct fg_config *cfg, unsigned idx, const char *path,
		    const struct fg_fan_found *found)
{
	struct stat st;

	/* recursive = no: only the subtree's own directory is guarded */
	if (!cfg->subtrees[idx].recursive && lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	return mark_path(f, cfg, idx, path, found);
}

int fg_fan_mark_new_at(struct fg_fan *f, const struct fg_config *cfg, unsigned idx, int dirfd,
		       const char *name, const struct fg_fan_found *found)
{
	static struct walk w; /* the notification thread's */
	struct stat st;
	int r;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode)) {
		r = mark_file(f, idx, dirfd, name, &st);
		return r < 0 ? r : 0;
	}
	if (!cfg->subtrees[idx].recursive)
		return 0;
	/* a path that does not fit: the walk reports names only */
	w = (struct walk){.f = f, .cfg = cfg, .idx = idx, .found = found, .len = sizeof(w.path)};
	r = mark_subdir(&w, dirfd, name, 0);
	return r < 0 ? r : w.entries;
}

int fg_fan_watch_close(struct fg_fan *f, const char *path)
{
	/* followed: path is a /proc link to the open file */
	if (f->notif_fd < 0 ||
	    fanotify_mark(f->notif_fd, FAN_MARK_ADD, FAN_CLOSE_WRITE, AT_FDCWD, path) < 0)
		return f->notif_fd < 0 ? -ENOTSUP : -errno;
	return 0;
}

static int write_response(int group, const void *resp, size_t n)
{
	for (;;) {
		ssize_t w = write(group, resp, n);
		if (w == (ssize_t)n)
			return 0;
		if (w < 0 && errno == EINTR)
			continue;
		return w < 0 ? -errno : -EIO;
	}
}

int fg_fan_respond(int group, int event_fd, bool allow)
{
	struct fanotify_response resp = {
	    .fd = event_fd,
	    .response = allow ? FAN_ALLOW : FAN_DENY,
	};

	return write_response(group, &resp, sizeof(resp));
}

ssize_t fg_fan_fd_path(int fd, char *buf, size_t size)
{
	char link[32];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

int fg_fan_respond_audit(struct fg_fan *f, int group, int event_fd, bool allow, uint32_t rule)
{
	struct audit_response ar = {
	    .resp = {.fd = event_fd, .response = (allow ? FAN_ALLOW : FAN_DENY) | FAN_AUDIT},
	    .type = FG_RESPONSE_INFO_AUDIT_RULE,
	    .len = sizeof(ar) - sizeof(ar.resp),
	    .rule_number = rule,
	    .subj_trust = FG_TRUST_UNKNOWN,
	    .obj_trust = FG_TRUST_UNKNOWN,
	};
	int r;

	if (!f->audit || group != f->perm_fd)
		return fg_fan_respond(group, event_fd, allow);
	if (f->audit_rule) {
		ar.resp.response |= FAN_INFO;
		r = write_response(group, &ar, sizeof(ar));
		if (r != -EINVAL)
			return r;
		f->audit_rule = false; /* a kernel before 6.3: no rule numbers */
		ar.resp.response &= ~(uint32_t)FAN_INFO;
	}
	r = write_response(group, &ar.resp, sizeof(ar.resp));
	return r == -EINVAL ? fg_fan_respond(group, event_fd, allow) : r;
}
