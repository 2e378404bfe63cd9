/* The two fanotify groups and the marks on the protected subtrees.
 *
 * perm:  FAN_CLASS_CONTENT, FAN_OPEN_PERM on every directory of
 *        a subtree (FAN_EVENT_ON_CHILD) and on every file in it (inode marks,
 *        so a hard link from elsewhere is still guarded).
 * notif: FAN_CLASS_NOTIF with directory-entry reporting, on the same
 *        directories and files (creates, deletes, renames both ways,
 *        modifications, also truncate(2), which reaches only file-id groups,
 *        attribute changes, the last close of a writable fd), and on the
 *        chain of directories from each subtree root up to the root of its
 *        mount (DESIGN 10): a rename, exchange, delete or create anywhere
 *        on it moves a path off the marked inodes, or makes a missing
 *        subtree appear level by level. No opener ever waits on this
 *        group. */
#ifndef FANGUARD_FAN_H
#define FANGUARD_FAN_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "fanguard/config.h"
#include "fanguard/twins.h"

#define FG_INODES_MAX  (1U << 17) /* slots at most (3/4 of them usable) */
#define FG_INODES_INIT 1024U	  /* slots at first: the table grows with the marks */

struct fg_fan_inode {
	uint64_t dev;
	uint64_t ino;
	int subtree; /* valid when ino != 0 (0: empty slot); -1: forgotten */
};

#define FG_FH_BYTES 128 /* MAX_HANDLE_SZ */

struct fg_fan_subtree {
	bool exists;		     /* the path exists and is marked */
	bool is_file;		     /* the subtree is one file (policy.json) */
	uint64_t marks;		     /* permission marks placed for it */
	uint64_t root_dev, root_ino; /* what the path was when marked */
	int error;	      /* -errno of the last marking, -ELOOP: path through a symlink */
	char watch[PATH_MAX]; /* the nearest existing directory at or above it */
	unsigned chain;	      /* directories watched above the root, to the mount root */
	/* The marked root's handle: where that directory went after a move. */
	int32_t root_fsid[2];
	unsigned root_fh_type, root_fh_bytes; /* 0 bytes: no handle */
	unsigned char root_fh[FG_FH_BYTES];
};

/* An entry found while marking a directory that appeared after start
 * (created, renamed in, or put on a subtree's path by a move): it may have
 * been written before the mark. path is NULL when it would not fit in
 * PATH_MAX (name is then the entry's own name). Directories are walked,
 * not reported. */
struct fg_fan_found {
	void (*fn)(void *ctx, unsigned idx, const char *path, const char *name,
		   const struct stat *st);
	void *ctx;
};

/* What a fresh look at a subtree found (for status, never a stale flag). */
struct fg_fan_check {
	bool exists;		 /* its path exists now */
	bool marked;		 /* every directory of it carries our permission mark,
				  * and every directory above it, to its mount root,
				  * our notification mark */
	char unmarked[PATH_MAX]; /* the first directory found without it */
};

struct fg_fan {
	int perm_fd;
	int notif_fd;	     /* -1 when the kernel lacks FID reporting */
	bool have_rename;    /* FAN_RENAME (5.17+) */
	bool audit;	     /* the permission group was made with FAN_ENABLE_AUDIT */
	bool audit_rule;     /* the kernel takes a rule number with FAN_AUDIT (6.3+) */
	int audit_err;	     /* why audit is off: -errno of FAN_ENABLE_AUDIT, 0 */
	uint64_t marks;	     /* all permission marks */
	uint64_t mark_errors;
	uint64_t inode_overflow; /* files not tracked because the table is full */
	uint64_t n_forgotten;	 /* table entries dropped (moved out, deleted) */
	unsigned n_subtrees;
	struct fg_fan_subtree st[FG_SUBTREES_MAX + FG_TWINS_MAX]; /* twins after the rest */
	struct fg_fan_inode *inodes; /* open addressing, inode_cap slots */
	unsigned inode_cap;	     /* a power of two; doubles up to FG_INODES_MAX */
	unsigned n_inodes;
	pthread_mutex_t ilock; /* the table: marked by one thread, read by another */
	bool ilock_init;
	/* One directory fd per filesystem seen, for open_by_handle_at of the
	 * directory handles the notification group reports. */
	struct {
		int32_t fsid[2];
		int fd;
		int mnt_id; /* several mounts of one filesystem: each its own */
	} mounts[FG_SUBTREES_MAX];
	unsigned n_mounts;
};

/* Creates both groups (probing what the kernel supports); with `audit`, the
 * permission group may write kernel audit records (FAN_ENABLE_AUDIT, which
 * needs CAP_AUDIT_WRITE: without it the group is made without, and
 * audit_err says why). Returns 0 or -errno (e.g. -EPERM without
 * CAP_SYS_ADMIN). */
int fg_fan_open(struct fg_fan *f, bool audit);
/* Closes the groups first (the kernel then allows every pending open), then
 * frees the rest. Safe to call twice. */
void fg_fan_close(struct fg_fan *f);

/* Places the marks for every subtree of cfg (dropping earlier ones when
 * called again on reload). A missing subtree path is watched for; errors on
 * single entries are counted, not fatal. Returns 0, or -errno when a group
 * could not be marked at all. */
int fg_fan_mark_all(struct fg_fan *f, const struct fg_config *cfg);

/* Marks one subtree (again): after it appeared or was replaced, or after
 * a level of its missing path appeared. Watches the chain above it (or
 * above the nearest existing ancestor). Entries found inside go to found
 * (NULL: not reported, as at start). Returns 0 or -errno. */
int fg_fan_mark_subtree(struct fg_fan *f, const struct fg_config *cfg, unsigned idx,
			const struct fg_fan_found *found);

/* Marks one directory (recursively when the subtree is recursive) or file
 * that appeared inside subtree idx. Returns the number of entries found
 * inside a new directory (each also handed to found), or -errno. */
int fg_fan_mark_new(struct fg_fan *f, const struct fg_config *cfg, unsigned idx, const char *path,
		    const struct fg_fan_found *found);

/* The same for name in the directory dirfd (any fd, O_PATH too), for a
 * directory whose path is longer than PATH_MAX: what it finds is reported
 * by name only. */
int fg_fan_mark_new_at(struct fg_fan *f, const struct fg_config *cfg, unsigned idx, int dirfd,
		       const char *name, const struct fg_fan_found *found);

/* Reports the last close of the file path leads to (a /proc/PID/fd or
 * map_files link is followed): for a writable handle found at start.
 * Returns 0 or -errno. */
int fg_fan_watch_close(struct fg_fan *f, const char *path);

/* Where the directory (or file) marked as subtree idx's root is now, by its
 * handle: 0 with its path in buf, or -errno (-ESTALE: it is gone). */
int fg_fan_root_where(const struct fg_fan *f, unsigned idx, char *buf, size_t size);

/* ---- chain.c ---- */

/* Watches the directories above path for subtree idx (notification marks
 * for entries created, deleted, renamed), from the nearest existing one up
 * to the root of its mount. Records the nearest in st[idx].watch. */
void fg_fan_watch_chain(struct fg_fan *f, unsigned idx, const char *path);

/* Puts the chain's notification mark on the directory dirfd (fan.c).
 * Returns 0 or -errno. */
int fg_fan_mark_chain_dir(struct fg_fan *f, int dirfd);

/* A fresh check of every subtree of cfg against the marks the kernel holds
 * for our groups (read from /proc/self/fdinfo), into ret (cfg->n_subtrees
 * entries). Touches paths: never from the answering thread. Returns 0 or
 * -errno (the marks could not be read; ret then says nothing is marked). */
int fg_fan_check(const struct fg_fan *f, const struct fg_config *cfg, struct fg_fan_check *ret);

/* Whether subtree idx's path still names what was marked (a bind mount or
 * a replaced directory changes it). */
bool fg_fan_subtree_same(const struct fg_fan *f, const struct fg_config *cfg, unsigned idx);

/* A file moved out of its subtree: drops its marks and its table entry. */
void fg_fan_forget(struct fg_fan *f, const char *path);

/* A deleted (or moved-out) file's table entry goes. */
void fg_fan_forget_inode(struct fg_fan *f, uint64_t dev, uint64_t ino);

/* The subtree a marked inode belongs to, or -1. Takes the table's lock. */
int fg_fan_inode_subtree(struct fg_fan *f, uint64_t dev, uint64_t ino);

/* An fd for open_by_handle_at on the filesystem with this fsid, or -1. */
int fg_fan_mount_fd(const struct fg_fan *f, const int32_t fsid[2]);

/* Answers one permission event on permission group `group`. Returns 0 or
 * -errno. */
int fg_fan_respond(int group, int event_fd, bool allow);

/* Answers like fg_fan_respond and asks the kernel for an AUDIT_FANOTIFY
 * record naming rule (0: no rule) when f's group can write one; falls back
 * to a plain answer whatever the kernel refuses, so the opener is always
 * answered. Returns 0 or -errno. */
int fg_fan_respond_audit(struct fg_fan *f, int group, int event_fd, bool allow, uint32_t rule);

/* The path of an open fd (readlink of /proc/self/fd/N) into buf. Returns the
 * length or -errno. */
ssize_t fg_fan_fd_path(int fd, char *buf, size_t size);

#endif
