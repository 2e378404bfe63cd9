#include "fanguard/unitcg.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fanguard/policy.h"
#include "fanguard/proc.h"
#include "fanguard/util.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* Where systemd looks for unit files that fanguard trusts: /etc's copy is a
 * guarded subtree, the others are the image. /run/systemd/system and
 * /run/systemd/transient are left out on purpose: anyone root can put a
 * unit there (the first is guarded, the second is the manager's own). */
static const char *const unit_dirs[FG_UNITCG_DIRS] = {
    "/etc/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
};

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n > k && memcmp(s + n - k, suffix, k) == 0;
}

/* Each component of an absolute path: non-empty, not "." or "..". */
static bool normalised(const char *s)
{
	for (const char *c = s; *c == '/';) {
		size_t n = strcspn(c + 1, "/");

		if (n == 0 || (n <= 2 && strspn(c + 1, ".") == n))
			return false;
		c += 1 + n;
	}
	return true;
}

const char *fg_unitcg_name_problem(const char *s)
{
	const char *c = s;

	if (strpbrk(s, "*?[]\\"))
		return "is a pattern: anyone who can create a cgroup can match one; name each "
		       "unit's cgroup exactly";
	if (s[0] != '/')
		return "does not start with '/'";
	if (!normalised(s))
		return "is not normalised (no '//', '.', '..' or trailing '/')";
	while (*c == '/') {
		const char *name = c + 1;
		size_t n = strcspn(name, "/");
		bool last = name[n] == '\0';

		if (!last && !ends_with(name, n, ".slice"))
			return "is not a unit's cgroup: every component above the unit is a .slice";
		if (last && !ends_with(name, n, ".service"))
			return "is not a service's cgroup (it must end in NAME.service)";
		c = name + n;
	}
	return NULL;
}

static int open_cgroup2(const char *path)
{
	struct statfs sfs;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstatfs(fd, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

int fg_unitcg_open(struct fg_unitcg *ret)
{
	/* unified, then systemd's hybrid layout */
	ret->root = open_cgroup2("/sys/fs/cgroup");
	if (ret->root < 0)
		ret->root = open_cgroup2("/sys/fs/cgroup/unified");
	if (ret->root < 0)
		ret->root = -1;
	for (size_t i = 0; i < FG_UNITCG_DIRS; i++)
		ret->units[i] = open(unit_dirs[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
	return ret->root >= 0 ? 0 : -ENOENT;
}

void fg_unitcg_close(struct fg_unitcg *u)
{
	int *fds[] = {&u->root, &u->units[0], &u->units[1], &u->units[2]};

	for (size_t i = 0; i < FG_ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

static bool unit_file_in(int dirfd, const char *name)
{
	struct stat st;

	return dirfd >= 0 && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The unit, or for an instance (getty@tty1.service) its template, has a
 * unit file in one of the trusted directories. */
static bool defined_on_disk(const struct fg_unitcg *u, const char *unit)
{
	char tmpl[256];
	const char *at = strchr(unit, '@'), *dot = strrchr(unit, '.');

	tmpl[0] = '\0';
	if (at && dot && dot > at && (size_t)(at - unit) + 1 + strlen(dot) < sizeof(tmpl))
		snprintf(tmpl, sizeof(tmpl), "%.*s%s", (int)(at - unit + 1), unit, dot);
	for (size_t i = 0; i < FG_UNITCG_DIRS; i++)
		if (unit_file_in(u->units[i], unit) || (tmpl[0] && unit_file_in(u->units[i], tmpl)))
			return true;
	return false;
}

static bool is_id128(const char *v, ssize_t n)
{
	if (n != 32)
		return false;
	for (ssize_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", v[i]))
			return false;
	return true;
}

int fg_unitcg_invoked(const struct fg_unitcg *u, const char *cg)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
	    .resolve =
		RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	char id[64];
	ssize_t n;
	int fd;

	if (!u || u->root < 0 || cg[0] != '/')
		return -ENOENT;
	fd = (int)syscall(SYS_openat2, u->root, cg + 1, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	n = fgetxattr(fd, "trusted.invocation_id", id, sizeof(id));
	close(fd);
	if (n < 0)
		return errno == ENODATA ? -ENODATA : -errno;
	return is_id128(id, n) ? 0 : -ENODATA;
}

int fg_unitcg_verify(const struct fg_unitcg *u, const char *cg)
{
	const char *unit = strrchr(cg, '/');

	if (!u || u->root < 0 || !unit || cg[0] != '/' || fg_unitcg_name_problem(cg))
		return -ENOENT;
	if (!defined_on_disk(u, unit + 1))
		return -ENOENT;
	return fg_unitcg_invoked(u, cg);
}

void fg_unitcg_fill(const struct fg_unitcg *u, const struct fg_policy *p, struct fg_proc *w)
{
	w->cgroup_unit = FG_CGU_UNCHECKED;
	if (!p->uses_cgroup || !fg_policy_names_cgroup(p, w->cgroup))
		return;
	w->cgroup_unit = fg_unitcg_verify(u, w->cgroup) == 0 ? FG_CGU_UNIT : FG_CGU_FORGED;
}
