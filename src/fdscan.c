/* Writable handles on guarded files that no open of ours decided: an fd
 * opened before fanguardd started (or before a reload guarded the file),
 * and shared writable mappings. Writes through them raise no permission
 * event; stores through a mapping and Linux AIO raise no FAN_MODIFY either
 * (their last close is still seen, notif.c). So at start and after every
 * reload each process's fds and mappings are looked at, and each writable
 * one on a guarded inode is logged with its process, and the file's last
 * close is watched from then on. Runs on the notification thread; it
 * stats through /proc/PID/fd links, which opens nothing. */
#include "fanguard/guard.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fanguard/util.h"

#define SEEN_MAX 64 /* guarded inodes logged per process */

struct scan {
	struct fg_guard *g;
	pid_t pid;
	struct {
		uint64_t dev, ino;
	} seen[SEEN_MAX];
	unsigned n_seen;
};

/* One line per process and file, whichever way it holds it. */
static bool seen(struct scan *s, dev_t dev, ino_t ino)
{
	for (unsigned i = 0; i < s->n_seen; i++)
		if (s->seen[i].dev == (uint64_t)dev && s->seen[i].ino == (uint64_t)ino)
			return true;
	if (s->n_seen < SEEN_MAX)
		s->seen[s->n_seen++] = (typeof(s->seen[0])){.dev = dev, .ino = ino};
	return false;
}

/* link: the /proc link through which the file's close gets watched. */
static void report(struct scan *s, const char *action, int subtree, const char *path,
		   const char *msg, const char *link)
{
	char proc[PATH_MAX];

	snprintf(proc, sizeof(proc), "/proc/%d/%s", (int)s->pid, link);
	fg_fan_watch_close(s->g->notif.fan, proc);
	fg_notif_log(s->g, s->pid,
		     &(struct fg_notice){.action = action,
					 .subtree = subtree,
					 .path = path,
					 .file_type = "file",
					 .message = msg});
}

/* The access mode of fd N of the process, from its fdinfo; -1 unknown. */
static int fd_accmode(int piddir, const char *fd)
{
	char name[NAME_MAX + 16], buf[512], *f;
	unsigned long flags;
	ssize_t n;

	snprintf(name, sizeof(name), "fdinfo/%s", fd);
	n = fg_read_small(piddir, name, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	f = strstr(buf, "flags:");
	if (!f || sscanf(f + 6, "%lo", &flags) != 1)
		return -1;
	return (int)(flags & O_ACCMODE);
}

static void scan_fds(struct scan *s, int piddir)
{
	int fdd = openat(piddir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fdd >= 0 ? fdopendir(fdd) : NULL;
	struct dirent *de;
	char link[PATH_MAX], msg[NAME_MAX + 80], name[NAME_MAX + 8];
	struct stat st;
	int subtree;

	if (!d) {
		if (fdd >= 0)
			close(fdd);
		return;
	}
	while ((de = readdir(d))) {
		ssize_t n;

		if (!isdigit((unsigned char)de->d_name[0]) ||
		    fstatat(fdd, de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
			continue;
		subtree = fg_fan_inode_subtree(s->g->notif.fan, st.st_dev, st.st_ino);
		if (subtree < 0 || fd_accmode(piddir, de->d_name) == O_RDONLY ||
		    seen(s, st.st_dev, st.st_ino))
			continue;
		n = readlinkat(fdd, de->d_name, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
		snprintf(msg, sizeof(msg), "fd %s is open for writing; no open of ours decided it",
			 de->d_name);
		snprintf(name, sizeof(name), "fd/%s", de->d_name);
		report(s, "writable-fd", subtree, link[0] ? link : NULL, msg, name);
	}
	closedir(d);
}

/* maps: "start-end perms offset maj:min inode path"; a shared writable
 * mapping is "rw?s" (or "-w?s"). */
static void scan_maps(struct scan *s, int piddir)
{
	int fd = openat(piddir, "maps", O_RDONLY | O_CLOEXEC);
	FILE *f = fd >= 0 ? fdopen(fd, "re") : NULL;
	char *line = NULL;
	size_t cap = 0;

	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while (getline(&line, &cap, f) > 0) {
		char range[48], perms[8], path[PATH_MAX] = "", link[64];
		unsigned maj, min;
		unsigned long long ino;
		int subtree;

		if (sscanf(line, "%47s %7s %*s %x:%x %llu %4095[^\n]", range, perms, &maj, &min,
			   &ino, path) < 5 ||
		    strlen(perms) < 4 || perms[1] != 'w' || perms[3] != 's' || !ino)
			continue;
		subtree = fg_fan_inode_subtree(s->g->notif.fan, makedev(maj, min), ino);
		if (subtree < 0 || seen(s, makedev(maj, min), (ino_t)ino))
			continue;
		snprintf(link, sizeof(link), "map_files/%s", range);
		report(s, "writable-mapping", subtree, path[0] ? path : NULL,
		       "mapped shared and writable: its stores raise no event until it is closed",
		       link);
	}
	free(line);
	fclose(f);
}

void fg_fdscan_run(struct fg_guard *g)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	struct scan s = {.g = g};

	if (!d)
		return;
	while ((de = readdir(d))) {
		uint64_t pid;
		int piddir;

		if (!isdigit((unsigned char)de->d_name[0]) || fg_parse_u64(de->d_name, &pid) < 0 ||
		    (pid_t)pid == getpid())
			continue;
		piddir = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (piddir < 0)
			continue;
		s.pid = (pid_t)pid;
		s.n_seen = 0;
		scan_fds(&s, piddir);
		scan_maps(&s, piddir);
		close(piddir);
	}
	closedir(d);
}
