/* fg_inject: makes a running process open a file for writing through
 * ptrace, and detaches before the open runs, for tests/e2e/test_attack.sh.
 *
 *   fg_inject PID TARGET
 *
 * The tracer seizes PID, writes TARGET onto its stack, and sets it up to
 * call libc's syscall(SYS_open, TARGET, O_WRONLY|O_CREAT|O_TRUNC, 0644)
 * and then pause() (both found in PID's own libc, which is ours), and
 * detaches. The open thus runs in a process no one traces, with nothing
 * but its own image's code and data it was handed. fg_inject then waits
 * until PID sits in pause and looks for TARGET among its fds. It prints
 *
 *   fd=N            the open succeeded (PID keeps the fd), exit 0
 *   refused         no fd for TARGET once PID paused, exit 1
 *
 * and exits 2 when the injection itself failed (reason on stderr). x86_64
 * only (exit 3 elsewhere). The caller kills PID afterwards. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int die(const char *what)
{
	fprintf(stderr, "fg_inject: %s: %s\n", what, strerror(errno));
	return 2;
}

/* Where libc.so.6 starts in pid's address space (its offset-0 mapping). */
static unsigned long libc_base(const char *pid)
{
	char path[64], line[512];
	unsigned long lo = 0, off;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/maps", pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "/libc.so.6") && sscanf(line, "%lx-%*x %*s %lx", &lo, &off) == 2 &&
		    off == 0)
			break;
		else
			lo = 0;
	if (f)
		fclose(f);
	return lo;
}

/* The /proc/PID/syscall number (-1 while it runs or cannot be read). */
static long syscall_nr(const char *pid)
{
	char path[64], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/syscall", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return buf[0] >= '0' && buf[0] <= '9' ? strtol(buf, NULL, 10) : -1;
}

static int find_fd(const char *pid, const char *target)
{
	char dir[64], link[PATH_MAX + 64], got[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int fd = -1;

	snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
	d = opendir(dir);
	while (d && (de = readdir(d)) && fd < 0) {
		ssize_t n;
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		n = readlink(link, got, sizeof(got) - 1);
		if (n > 0 && (got[n] = '\0', !strcmp(got, target)))
			fd = atoi(de->d_name);
	}
	if (d)
		closedir(d);
	return fd;
}

/* Copies n bytes to the tracee at addr, a word at a time. */
static int poke(pid_t pid, unsigned long addr, const void *src, size_t n)
{
	for (size_t i = 0; i < n; i += sizeof(long)) {
		long w = 0;
		memcpy(&w, (const char *)src + i, n - i < sizeof(long) ? n - i : sizeof(long));
		if (ptrace(PTRACE_POKEDATA, pid, (void *)(addr + i), (void *)w) < 0)
			return -1;
	}
	return 0;
}

#if defined(__x86_64__)
static int inject(pid_t pid, const char *spid, const char *target)
{
	unsigned long ours = libc_base("self"), theirs = libc_base(spid);
	void *sys = dlsym(RTLD_DEFAULT, "syscall"), *pau = dlsym(RTLD_DEFAULT, "pause");
	struct user_regs_struct r;
	unsigned long str, sp, ret[2];
	int st;

	if (!ours || !theirs || !sys || !pau)
		return errno = ENOENT, die("libc in both processes");
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) < 0 || ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0 ||
	    waitpid(pid, &st, __WALL) < 0 || ptrace(PTRACE_GETREGS, pid, 0, &r) < 0)
		return die("seizing the process");
	/* Below the red zone: the path, then the stack syscall() returns on. */
	str = (r.rsp - 8192) & ~15UL;
	sp = str - 64;
	ret[0] = (unsigned long)pau - ours + theirs; /* syscall() returns into pause() */
	ret[1] = 0;
	if (poke(pid, str, target, strlen(target) + 1) < 0 || poke(pid, sp, ret, sizeof(ret)) < 0)
		return die("writing the stack");
	r.rip = (unsigned long)sys - ours + theirs;
	r.rsp = sp; /* as after a call: rsp + 8 is 16-aligned */
	r.rdi = SYS_open;
	r.rsi = str;
	r.rdx = O_WRONLY | O_CREAT | O_TRUNC;
	r.rcx = 0644;
	r.orig_rax = (unsigned long)-1; /* no restart of what it was in */
	if (ptrace(PTRACE_SETREGS, pid, 0, &r) < 0 || ptrace(PTRACE_DETACH, pid, 0, 0) < 0)
		return die("setting it off");
	return 0;
}
#endif

int main(int argc, char **argv)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	pid_t pid;
	int r, fd;

	if (argc != 3)
		return fprintf(stderr, "usage: fg_inject PID TARGET\n"), 2;
	pid = atoi(argv[1]);
#if defined(__x86_64__)
	r = inject(pid, argv[1], argv[2]);
#else
	return fprintf(stderr, "fg_inject: x86_64 only\n"), 3;
#endif
	if (r)
		return r;
	/* pause is syscall 34: once there, the open has returned. */
	for (int i = 0; i < 1000 && syscall_nr(argv[1]) != SYS_pause; i++)
		nanosleep(&ts, NULL);
	if (syscall_nr(argv[1]) != SYS_pause)
		return errno = ETIMEDOUT, die("waiting for the process to pause");
	fd = find_fd(argv[1], argv[2]);
	if (fd < 0)
		return printf("refused\n"), 1;
	printf("fd=%d\n", fd);
	return 0;
}
