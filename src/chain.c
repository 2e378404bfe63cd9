/* The chain above each subtree root (DESIGN 10), and the fresh check that
 * status reports from. A subtree's path reaches its marked inodes only
 * while every directory above it stays where it was: renaming
 * /etc/systemd away, or exchanging /etc/ssh with a staged copy, moves the
 * path onto inodes nobody marked. So every directory from the root's
 * parent up to the root of its mount carries a notification mark for its
 * entries; above the mount root, a move changes the mount table, which is
 * watched too (remark.c). For a missing subtree the chain starts at its
 * nearest existing ancestor, so each level that appears is seen and the
 * walk goes down as it does. */
#include "fanguard/fan.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fanguard/util.h"

#define CHECK_DEPTH 64
#define CHECK_DIRS  100000 /* a status request walks at most this many */

/* The mount id of what name (relative to fd, "" for fd itself) names, or
 * -1 when the filesystem gives no handles. */
static int mount_id(int fd, const char *name)
{
	union {
		struct file_handle fh;
		unsigned char bytes[sizeof(struct file_handle) + FG_FH_BYTES];
	} h;
	int mnt;

	h.fh.handle_bytes = FG_FH_BYTES;
	if (name_to_handle_at(fd, name, &h.fh, &mnt, name[0] ? 0 : AT_EMPTY_PATH) < 0)
		return -1;
	return mnt;
}

/* Whether the directory fd is the root of its mount (or of everything):
 * its ".." is on another mount, or is itself. */
static bool is_mount_root(int fd)
{
	struct stat self, up;
	int a = mount_id(fd, ""), b = mount_id(fd, "..");

	if (fstat(fd, &self) < 0 || fstatat(fd, "..", &up, 0) < 0)
		return true;
	if (self.st_dev == up.st_dev && self.st_ino == up.st_ino)
		return true;
	if (a >= 0 && b >= 0)
		return a != b;
	return self.st_dev != up.st_dev;
}

/* dir loses its last component; false once it is "/". */
static bool up_one(char *dir)
{
	char *slash = strrchr(dir, '/');

	if (!slash || !strcmp(dir, "/"))
		return false;
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return true;
}

static int open_dir(const char *path)
{
	return open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Calls fn for each directory above path, nearest first, up to the root
 * of its mount (fd -1: that level is missing), until fn returns false.
 * Nothing when path is itself a mount root: a mount point cannot be
 * renamed or removed, and what covers or uncovers it changes the mount
 * table. */
static void walk_up(const char *path, bool (*fn)(void *ctx, const char *dir, int fd), void *ctx)
{
	char dir[PATH_MAX];
	int fd = open_dir(path);
	bool top = fd >= 0 && is_mount_root(fd);

	if (fd >= 0)
		close(fd);
	if (top)
		return;
	fg_strlcpy(dir, path, sizeof(dir));
	while (up_one(dir)) {
		bool more;

		fd = open_dir(dir);
		more = fn(ctx, dir, fd);
		top = fd >= 0 && is_mount_root(fd);
		if (fd >= 0)
			close(fd);
		if (!more || top)
			return;
	}
}

struct watch {
	struct fg_fan *f;
	struct fg_fan_subtree *s;
	bool nearest;
};

static bool watch_one(void *ctx, const char *dir, int fd)
{
	struct watch *w = ctx;

	if (fd < 0)
		return true; /* a missing level: the one above is watched */
	if (fg_fan_mark_chain_dir(w->f, fd) == 0 && w->nearest) {
		fg_strlcpy(w->s->watch, dir, sizeof(w->s->watch));
		w->nearest = false;
	}
	w->s->chain++;
	return true;
}

void fg_fan_watch_chain(struct fg_fan *f, unsigned idx, const char *path)
{
	struct watch w = {.f = f, .s = &f->st[idx], .nearest = true};

	w.s->chain = 0;
	fg_strlcpy(w.s->watch, path, sizeof(w.s->watch));
	walk_up(path, watch_one, &w);
}

/* ---- the fresh check ---- */

struct mark_key {
	uint64_t ino;
	uint32_t sdev; /* the kernel's dev_t: major << 20 | minor */
};

struct markset {
	struct mark_key *k;
	size_t n, cap;
};

static int key_cmp(const void *a, const void *b)
{
	const struct mark_key *x = a, *y = b;

	if (x->sdev != y->sdev)
		return x->sdev < y->sdev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* Every inode mark of group fd, from /proc/self/fdinfo: what the kernel
 * holds, not what we believe we placed. */
static int read_marks(int group, struct markset *ret)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	FILE *in;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", group);
	in = fopen(path, "re");
	if (!in)
		return -errno;
	while (getline(&line, &cap, in) > 0) {
		unsigned long ino;
		unsigned sdev;

		if (sscanf(line, "fanotify ino:%lx sdev:%x", &ino, &sdev) != 2)
			continue;
		if (ret->n == ret->cap) {
			size_t ncap = ret->cap ? ret->cap * 2 : 1024;
			struct mark_key *k = realloc(ret->k, ncap * sizeof(*k));
			if (!k)
				break;
			ret->k = k;
			ret->cap = ncap;
		}
		ret->k[ret->n++] = (struct mark_key){.ino = ino, .sdev = sdev};
	}
	free(line);
	fclose(in);
	if (ret->n)
		qsort(ret->k, ret->n, sizeof(*ret->k), key_cmp);
	return 0;
}

static bool has_mark(const struct markset *m, const struct stat *st)
{
	const struct mark_key want = {
	    .ino = st->st_ino, .sdev = (uint32_t)(major(st->st_dev) << 20 | minor(st->st_dev))};

	return m->n && bsearch(&want, m->k, m->n, sizeof(*m->k), key_cmp) != NULL;
}

struct check {
	const struct markset *perm;
	struct fg_fan_check *out;
	unsigned dirs;
	bool recursive;
};

static void unmarked(struct check *c, const char *path)
{
	if (c->out->marked)
		fg_strlcpy(c->out->unmarked, path, sizeof(c->out->unmarked));
	c->out->marked = false;
}

/* Every directory of a subtree carries the permission mark. */
static void check_dir(struct check *c, int fd, char *path, size_t len, unsigned depth)
{
	int dup_fd;
	DIR *d;
	struct dirent *de;
	struct stat st;

	if (fstat(fd, &st) < 0 || !has_mark(c->perm, &st))
		unmarked(c, path);
	if (!c->recursive || depth >= CHECK_DEPTH || ++c->dirs > CHECK_DIRS || !c->out->marked)
		return;
	dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return;
	}
	while ((de = readdir(d)) && c->out->marked) {
		int sub;

		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (len + 1 + strlen(de->d_name) >= PATH_MAX)
			continue;
		snprintf(path + len, PATH_MAX - len, "/%s", de->d_name);
		sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0) {
			check_dir(c, sub, path, len + 1 + strlen(de->d_name), depth + 1);
			close(sub);
		}
		path[len] = '\0';
	}
	closedir(d);
}

struct chain_check {
	struct fg_fan_check *out;
	const struct markset *notif;
};

static bool check_link(void *ctx, const char *dir, int fd)
{
	struct chain_check *c = ctx;
	struct stat st;

	if (fd >= 0 && fstat(fd, &st) == 0 && has_mark(c->notif, &st))
		return true;
	if (c->out->marked)
		fg_strlcpy(c->out->unmarked, dir, sizeof(c->out->unmarked));
	c->out->marked = false;
	return false;
}

/* Every directory above the root, to its mount root, carries the chain's
 * notification mark. */
static void check_chain(struct fg_fan_check *out, const struct markset *notif, const char *path)
{
	struct chain_check c = {.out = out, .notif = notif};

	walk_up(path, check_link, &c);
}

static void check_one(const struct markset *perm, const struct markset *notif,
		      const struct fg_subtree_cfg *t, struct fg_fan_check *out)
{
	struct check c = {.perm = perm, .out = out, .recursive = t->recursive};
	char path[PATH_MAX], dir[PATH_MAX];
	struct stat st;
	int fd;

	out->exists = lstat(t->path, &st) == 0;
	out->marked = out->exists;
	out->unmarked[0] = '\0';
	if (!out->exists)
		return;
	if (S_ISDIR(st.st_mode)) {
		fd = open_dir(t->path);
		if (fd < 0) {
			unmarked(&c, t->path);
			return;
		}
		check_dir(&c, fd, path, fg_strlcpy(path, t->path, sizeof(path)), 0);
		close(fd);
	} else {
		/* one file, and the directory that holds it */
		if (!has_mark(perm, &st))
			unmarked(&c, t->path);
		fg_strlcpy(dir, t->path, sizeof(dir));
		if (up_one(dir) && (stat(dir, &st) < 0 || !has_mark(perm, &st)))
			unmarked(&c, dir);
	}
	check_chain(out, notif, t->path);
}

int fg_fan_check(const struct fg_fan *f, const struct fg_config *cfg, struct fg_fan_check *ret)
{
	struct markset perm = {0}, notif = {0};
	int r = read_marks(f->perm_fd, &perm);

	if (r == 0 && f->notif_fd >= 0)
		r = read_marks(f->notif_fd, &notif);
	for (unsigned i = 0; i < cfg->n_subtrees; i++) {
		if (r < 0) {
			ret[i] = (struct fg_fan_check){.exists = true};
			fg_strlcpy(ret[i].unmarked, "(marks unreadable)", sizeof(ret[i].unmarked));
		} else {
			check_one(&perm, &notif, &cfg->subtrees[i], &ret[i]);
		}
	}
	free(perm.k);
	free(notif.k);
	return r;
}
