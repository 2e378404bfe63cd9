#include "fanguard/policycli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fanguard/client.h"
#include "fanguard/util.h"

#define DROPIN_MAX (1024 * 1024) /* a drop-in is a few lines; this is plenty */

bool fg_policycli_is_dropin(const char *file)
{
	_cleanup_fclose_ FILE *f = fopen(file, "re");
	char line[FG_LINE_MAX + 2];

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		const char *p = line + strspn(line, " \t");
		if (!strncmp(p, "[subtree", 8))
			return false;
	}
	return true;
}

int fg_policycli_load_joined(const char *file, struct fg_config *ret, struct fg_diag *diag)
{
	struct fg_config_search s;

	fg_config_search_default(&s);
	s.join = file;
	return fg_config_load_with(ret, &s, diag);
}

/* The name it gets in conf.d: FILE's own, which the loader must read. */
static const char *dropin_name(const char *file)
{
	const char *b = strrchr(file, '/');
	size_t n;

	b = b ? b + 1 : file;
	n = strlen(b);
	if (n <= 5 || n >= FG_NAME_MAX || b[0] == '.' || strcmp(b + n - 5, ".conf") != 0)
		return NULL;
	return b;
}

static int read_all(const char *file, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *buf = malloc(DROPIN_MAX + 1);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (!buf)
		return -ENOMEM;
	while ((n = read(fd, buf + len, DROPIN_MAX + 1 - len)) > 0)
		len += (size_t)n;
	if (n < 0)
		return -errno;
	if (len > DROPIN_MAX)
		return -EFBIG;
	*ret = buf;
	*ret_len = len;
	buf = NULL;
	return 0;
}

static int write_fd(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, data, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/* dir/name holds data, or is as it was: a temp file beside it (a dot
 * name, which the loader skips), synced, renamed over it, the directory
 * synced. */
static int write_atomic(const char *dir, const char *name, const char *data, size_t len)
{
	char tmp[PATH_MAX], dest[PATH_MAX];
	_cleanup_close_ int dfd = -1;
	int fd, r;

	snprintf(dest, sizeof(dest), "%s/%s", dir, name);
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = write_fd(fd, data, len);
	if (!r && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, dest) < 0)
		r = -errno;
	if (r) {
		unlink(tmp);
		return r;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		(void)fsync(dfd);
	return 0;
}

/* The daemon's reload; on a refusal the drop-in is put back as it was. */
static int reload(const struct fg_client_opts *o, const char *name, const char *old, size_t old_len,
		  bool had_old)
{
	_cleanup_free_ char *reply = NULL;
	char dest[PATH_MAX];
	int k = fg_client_ask(o, "reload", &reply);

	if (k == FG_EXIT_NOT_RUNNING)
		fprintf(stderr, "fanguard: installed; fanguardd loads it when it starts\n");
	if (k)
		return k;
	*strchr(reply, '\n') = '\0';
	if (!strncmp(reply, "OK reloaded ", 12)) {
		printf("reloaded: %s\n", reply + 12);
		return 0;
	}
	fprintf(stderr, "fanguard: %s\n", !strncmp(reply, "ERR ", 4) ? reply + 4 : reply);
	snprintf(dest, sizeof(dest), "%s/%s", FG_CONF_DROPIN_DIR, name);
	if (had_old ? write_atomic(FG_CONF_DROPIN_DIR, name, old, old_len) < 0 : unlink(dest) < 0)
		fprintf(stderr, "fanguard: %s: could not be put back: %s\n", dest, strerror(errno));
	else
		fprintf(stderr, "fanguard: %s is back as it was; the daemon runs the old policy\n",
			dest);
	return FG_EXIT_PARTIAL;
}

/* The bytes read from file, checked joined to the policy: the very bytes
 * that are installed (reading file again could give others: a FIFO, or
 * an edit between the two reads). */
static int check(const char *file, const char *data, size_t len)
{
	_cleanup_free_ struct fg_diag *diag = calloc(1, sizeof(*diag));
	struct fg_config_search s;
	struct fg_config cfg;

	if (!diag)
		return -ENOMEM;
	fg_config_search_default(&s);
	s.join = file;
	s.join_data = data;
	s.join_len = len;
	if (fg_config_load_with(&cfg, &s, diag) < 0) {
		fg_client_print_diag(diag);
		fprintf(stderr,
			"fanguard: %s: the policy it would join is invalid: not installed\n", file);
		return -EINVAL;
	}
	fg_config_free(&cfg);
	return 0;
}

static int install(const struct fg_client_opts *o, const char *file)
{
	const char *name = dropin_name(file);
	_cleanup_free_ char *data = NULL, *old = NULL;
	char dest[PATH_MAX];
	size_t len, old_len = 0;
	bool had_old;
	int r;

	if (!name) {
		fprintf(stderr,
			"fanguard: %s: a drop-in's name ends in .conf and does not start "
			"with a dot\n",
			file);
		return FG_EXIT_USAGE;
	}
	if ((r = read_all(file, &data, &len)) < 0) {
		/* what the check would have said: nothing to check, nothing written */
		fprintf(stderr, "fanguard: %s: %s: not installed\n", file, strerror(-r));
		return FG_EXIT_CONFIG;
	}
	if (check(file, data, len) < 0)
		return FG_EXIT_CONFIG;
	snprintf(dest, sizeof(dest), "%s/%s", FG_CONF_DROPIN_DIR, name);
	had_old = read_all(dest, &old, &old_len) == 0;
	if (mkdir(FG_CONF_DROPIN_DIR, 0755) < 0 && errno != EEXIST)
		r = -errno;
	if (!r)
		r = write_atomic(FG_CONF_DROPIN_DIR, name, data, len);
	if (r < 0) {
		fprintf(stderr, "fanguard: %s: %s\n", dest, strerror(-r));
		if (r == -EPERM)
			fprintf(stderr,
				"fanguard: only an admin (a login uid a people rule names) or "
				"the named service may install drop-ins; see fanguard "
				"explain --last --exe /usr/bin/fanguard\n");
		return FG_EXIT_CANTCREAT;
	}
	printf("installed %s\n", dest);
	return reload(o, name, old, old_len, had_old);
}

int fg_policy_cli(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {NULL, 0, NULL, 0},
	};
	struct fg_client_opts o = {0};
	int c;

	while ((c = getopt_long(argc, argv, "+s:", opts, NULL)) != -1) {
		if (c != 's')
			goto usage;
		o.socket = optarg;
	}
	if (optind + 2 == argc && !strcmp(argv[optind], "install"))
		return install(&o, argv[optind + 1]);
usage:
	fprintf(stderr, "usage: fanguard policy [--socket PATH] install FILE\n");
	return FG_EXIT_USAGE;
}
