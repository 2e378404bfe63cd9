/* fg_exeswap: a process that claims another executable without exec'ing
 * it, for tests/e2e/test_ident.sh (issue 11).
 *
 *   fg_exeswap [--map-new|--cow] [--child] [--sleep S] NEWEXE TARGET
 *
 * The kernel replaces /proc/PID/exe (prctl PR_SET_MM, PR_SET_MM_MAP with
 * an exe_fd; CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE) only once no mapping
 * of the old exe is left. So the program first moves its own image into
 * anonymous memory: each mapping of its exe is copied into an anonymous
 * one, which mremap(2) then puts at the very same address, so the code
 * runs on unchanged; then it hands the kernel NEWEXE. With --map-new it
 * also maps NEWEXE executable, so that an executable mapping of the
 * claimed inode exists, as a forger would add. With --cow its image goes
 * into private copy-on-write mappings of NEWEXE instead of anonymous
 * memory: /proc/PID/maps then shows only NEWEXE's inode where its code
 * runs, though the pages hold the forger's bytes. Then it writes a line to
 * TARGET (O_WRONLY|O_CREAT|O_TRUNC), or with --child runs
 * `/bin/sh -c 'echo child > TARGET'` as its child (after sleeping S seconds
 * with --sleep, so that a test can look at it first), and prints
 *
 *   exe=<its /proc/self/exe now> errno=E   (0: written)
 *
 * Exit: 0 when TARGET was written, 1 when the write was refused (its error
 * on stderr, "Operation not permitted" for EPERM), 2 when the swap itself
 * failed (reason on stderr), 3 on bad arguments. */
#include <errno.h>
#include <fcntl.h>
#include <linux/prctl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_MAPS 64

struct region {
	unsigned long lo, hi;
	int prot;
};

static int die(const char *what)
{
	fprintf(stderr, "fg_exeswap: %s: %s\n", what, strerror(errno));
	return 2;
}

/* The mappings of our own exe, from /proc/self/maps. */
static int own_maps(struct region *r, int max)
{
	struct stat st;
	char line[512];
	int n = 0;
	FILE *f;

	if (stat("/proc/self/exe", &st) < 0 || !(f = fopen("/proc/self/maps", "re")))
		return -1;
	while (n < max && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, off, ino;
		unsigned maj, min;
		char perm[5];

		if (sscanf(line, "%lx-%lx %4s %lx %x:%x %lu", &lo, &hi, perm, &off, &maj, &min,
			   &ino) != 7 ||
		    ino != st.st_ino || makedev(maj, min) != st.st_dev)
			continue;
		r[n++] = (struct region){lo, hi,
					 (perm[0] == 'r' ? PROT_READ : 0) |
					     (perm[1] == 'w' ? PROT_WRITE : 0) |
					     (perm[2] == 'x' ? PROT_EXEC : 0)};
	}
	fclose(f);
	return n;
}

/* Each mapping of our exe becomes a copy at the same address: anonymous,
 * or (cow >= 0) a private mapping of the file cow whose pages are then
 * overwritten, which maps names as that file. */
static int go_anonymous(int cow)
{
	struct region r[MAX_MAPS];
	int n = own_maps(r, MAX_MAPS);

	if (n <= 0)
		return -1;
	for (int i = 0; i < n; i++) {
		size_t size = r[i].hi - r[i].lo;
		void *a = mmap(NULL, size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | (cow < 0 ? MAP_ANONYMOUS : 0), cow, 0);

		if (a == MAP_FAILED)
			return -1;
		if (!(r[i].prot & PROT_READ) && mprotect((void *)r[i].lo, size, PROT_READ) < 0)
			return -1;
		memcpy(a, (void *)r[i].lo, size);
		if (mprotect(a, size, r[i].prot) < 0 ||
		    mremap(a, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)r[i].lo) ==
			MAP_FAILED)
			return -1;
	}
	return 0;
}

/* PR_SET_MM_MAP wants the whole layout back; /proc/self/stat has it. */
static int swap_exe(int fd)
{
	unsigned long v[53] = {0};
	char buf[4096], *p, *tok, *save = NULL;
	FILE *f = fopen("/proc/self/stat", "re");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	struct prctl_mm_map mm;

	if (f)
		fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	/* Fields from 3 (state) on, numbered as proc(5) numbers them. */
	tok = strtok_r(p + 2, " ", &save);
	for (int field = 3; tok && field < 53; field++, tok = strtok_r(NULL, " ", &save))
		v[field] = strtoul(tok, NULL, 10);
	mm = (struct prctl_mm_map){
	    .start_code = v[26],
	    .end_code = v[27],
	    .start_data = v[45],
	    .end_data = v[46],
	    .start_brk = v[47],
	    .brk = (unsigned long)sbrk(0),
	    .start_stack = v[28],
	    .arg_start = v[48],
	    .arg_end = v[49],
	    .env_start = v[50],
	    .env_end = v[51],
	    .exe_fd = (unsigned)fd,
	};
	return prctl(PR_SET_MM, PR_SET_MM_MAP, (unsigned long)&mm, sizeof(mm), 0);
}

static int write_target(const char *target, bool child)
{
	int fd, err = 0;

	if (child) {
		char cmd[4200];
		pid_t pid;
		int st;

		snprintf(cmd, sizeof(cmd), "echo child > '%s'", target);
		pid = fork();
		if (pid == 0) {
			execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &st, 0) < 0)
			return errno;
		return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : EPERM;
	}
	fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	if (write(fd, "swapped\n", 8) != 8)
		err = errno ? errno : EIO;
	close(fd);
	return err;
}

int main(int argc, char **argv)
{
	bool map_new = false, child = false, cow = false;
	unsigned pause = 0;
	char exe[4096];
	ssize_t n;
	int i = 1, fd, err;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--map-new"))
			map_new = true;
		else if (!strcmp(argv[i], "--cow"))
			cow = true;
		else if (!strcmp(argv[i], "--child"))
			child = true;
		else if (!strcmp(argv[i], "--sleep") && i + 1 < argc)
			pause = (unsigned)atoi(argv[++i]);
		else
			return 3;
	}
	if (argc - i != 2) {
		fprintf(
		    stderr,
		    "usage: fg_exeswap [--map-new|--cow] [--child] [--sleep S] NEWEXE TARGET\n");
		return 3;
	}
	fd = open(argv[i], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return die(argv[i]);
	if (go_anonymous(cow ? fd : -1) < 0)
		return die("moving the image to anonymous memory");
	if (swap_exe(fd) < 0)
		return die("prctl(PR_SET_MM, PR_SET_MM_MAP)");
	if (map_new && mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0) == MAP_FAILED)
		return die("mapping the new exe");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	if (pause)
		sleep(pause);
	err = write_target(argv[i + 1], child);
	printf("exe=%s errno=%d\n", exe, err);
	if (err && !child)
		fprintf(stderr, "fg_exeswap: %s: %s\n", argv[i + 1], strerror(err));
	return err ? 1 : 0;
}
