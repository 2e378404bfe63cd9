/* fanguardd under test: its configs, its start (ready once it logged
 * daemon-start, like the e2e tests), and what it cost at its stop. */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define START_TIMEOUT_MS 10000

/* exe rules are shell globs: a path with glob characters must not match
 * more (or less) than itself. */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (strchr("*?[]\\", *s))
			fputc('\\', f);
		fputc(*s, f);
	}
}

int config_write(const char *conf, const char *tmp, const char *name, unsigned rules, bool quiet,
		 const char *exe, const char *sha256)
{
	FILE *f = fopen(conf, "we");

	if (!f)
		return -errno;
	fprintf(f, "[fanguard]\nmode = enforce\nlog = file:%s/fg-%s.log\n", tmp, name);
	fprintf(f, "status_socket = %s/%s.sock\n\n", tmp, name);
	fprintf(f, "[subtree bench]\npath = %s/protected\nkey = bench\n\n", tmp);
	/* Decoys first, the match last: a rule scan pays for every decoy.
	 * Each decoy names another program, as a real allowlist's rules do. */
	for (unsigned i = 1; i < rules; i++)
		fprintf(f, "[writer decoy-%u]\nexe = /usr/libexec/fgbench/tool-%u\n\n", i, i);
	fprintf(f, "[writer bench]\nexe = ");
	put_escaped(f, exe);
	fprintf(f, "\n%s", quiet ? "quiet = yes\n" : "");
	if (sha256)
		fprintf(f, "sha256 = %s\n", sha256);
	return fclose(f) == 0 ? 0 : -errno;
}

static int mkdir_p(const char *path)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(buf, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

/* A subtree path of the shipped policy, recreated under root: a file when
 * it names one (policy.json), else a directory. */
static int make_subtree(const char *root, const char *path)
{
	char full[1024];
	size_t n = strlen(path);

	snprintf(full, sizeof(full), "%s%s", root, path);
	if (n > 5 && strcmp(path + n - 5, ".json") == 0) {
		*strrchr(full, '/') = '\0';
		if (mkdir_p(full) < 0)
			return -errno;
		snprintf(full, sizeof(full), "%s%s", root, path);
		int fd = open(full, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		return fd < 0 ? -errno : close(fd);
	}
	return mkdir_p(full);
}

int config_default(const char *conf, const char *src, const char *tmp)
{
	char line[512], root[256];
	FILE *in = fopen(src, "re"), *out = fopen(conf, "we");
	int r = 0;

	if (!in || !out) {
		r = -errno;
		goto out;
	}
	snprintf(root, sizeof(root), "%s/root", tmp);
	while (r == 0 && fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "path = /", 8)) {
			fprintf(out, "path = %s%s\n", root, line + 7);
			r = make_subtree(root, line + 7);
		} else if (!strncmp(line, "log = ", 6)) {
			fprintf(out, "log = file:%s/fg-default.log\n", tmp);
		} else if (!strncmp(line, "status_socket = ", 16)) {
			fprintf(out, "status_socket = %s/default.sock\n", tmp);
		} else {
			fprintf(out, "%s\n", line);
		}
	}
out:
	if (in)
		fclose(in);
	if (out && fclose(out) != 0 && r == 0)
		r = -errno;
	return r;
}

static bool log_has_start(const char *log)
{
	char buf[8192];
	FILE *f = fopen(log, "re");
	bool found = false;

	while (f && !found && fgets(buf, sizeof(buf), f))
		found = strstr(buf, "\"action\":\"daemon-start\"") != NULL;
	if (f)
		fclose(f);
	return found;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

int fgd_start(struct fgd *d, const char *fanguardd, const char *conf, const char *log)
{
	char err_path[4200];

	snprintf(d->log, sizeof(d->log), "%s", log);
	snprintf(err_path, sizeof(err_path), "%s.stderr", log);
	d->opens = 0;
	d->pid = child_fork();
	if (d->pid < 0)
		return (int)d->pid;
	if (d->pid == 0) {
		int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(fanguardd, fanguardd, "--config", conf, "--foreground", (char *)NULL);
		_exit(126);
	}
	for (long waited = 0; waited < START_TIMEOUT_MS; waited += 5) {
		if (log_has_start(log))
			return 0;
		if (!child_running(d->pid, NULL)) {
			fprintf(stderr, "fgbench: fanguardd exited at start; see %s\n", err_path);
			d->pid = 0;
			return -ECHILD;
		}
		sleep_ms(5);
	}
	fprintf(stderr, "fgbench: fanguardd did not log daemon-start within %d ms\n",
		START_TIMEOUT_MS);
	child_stop(d->pid, 5);
	d->pid = 0;
	return -ETIMEDOUT;
}

static long status_kib(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			v = strtol(line + klen + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

/* utime + stime of the whole process (all threads), in ms. */
static double cpu_ms(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	char *rp = strrchr(buf, ')');
	/* After ")": state is field 3; utime and stime are 14 and 15. */
	if (!rp ||
	    sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

void fgd_stop(struct fgd *d)
{
	if (d->pid <= 0)
		return;
	d->hwm_kib = status_kib(d->pid, "VmHWM");
	d->rss_kib = status_kib(d->pid, "VmRSS");
	d->cpu_ms = cpu_ms(d->pid);
	child_stop(d->pid, 5);
	d->pid = 0;
}
