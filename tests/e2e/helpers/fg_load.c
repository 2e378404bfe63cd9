/* fg_load: concurrent readers and writers of protected files, for
 * tests/e2e/test_load.sh.
 *
 *   fg_load run DIR ALLOWED_EXE DENIED_EXE WORKERS SECONDS BOUND_MS
 *   fg_load verify FILE ID
 *
 * run forks WORKERS processes and execs each as ALLOWED_EXE or DENIED_EXE
 * (alternately; the test makes both copies of this binary, so that a rule
 * can tell them apart by executable path) in worker mode. For SECONDS each
 * worker loops: a read-only open of DIR/shared, a read-only open of its own
 * file, and a write-open with O_TRUNC of its own file. An allowed worker
 * owns DIR/allowed-ID and writes one whole payload per round; a denied one
 * aims at DIR/denied-ID, which must stay as the test made it, and expects
 * EPERM. Every open is timed. Each worker reports one line on its stdout
 * (a pipe to run), and run prints the totals:
 *
 *   workers=32 finished=32 opens=N seconds=S opens_per_s=R max_wait_ms=M
 *   slow=K errors=E breaches=B allowed_writes=W denied_writes=D read_eperm=P
 *   host_stall_ms=H
 *
 * "slow" counts opens that took longer than BOUND_MS: that is a hang
 * detector, not a performance target. "errors" are failures the decision
 * cannot explain (an allowed write refused, a read refused, a denied write
 * failing with anything but EPERM); "breaches" are denied writes that the
 * kernel let through. "read_eperm" counts read-only opens refused with
 * EPERM, kept apart from errors: the daemon refuses a read whose intent it
 * could not read in time (unknown_intent = write), and that is the test's
 * to judge. run exits 0 only when every worker finished and slow, errors
 * and breaches are all 0.
 *
 * verify checks that FILE holds exactly one whole payload of worker ID and
 * prints its sequence number: a torn or mixed write fails it. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD	    4096
#define MAX_WORKERS 256
#define REPORT_MAX  256 /* one report line; below PIPE_BUF, so it is written whole */

/* What one worker saw. */
struct tally {
	uint64_t opens;
	uint64_t max_wait_ns;
	uint64_t slow;
	uint64_t errors;
	uint64_t breaches;
	uint64_t writes;     /* write-opens attempted */
	uint64_t read_eperm; /* read-only opens refused with EPERM */
	int first_errno;     /* of the first error, for the report */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int parse_num(const char *s, long lo, long hi, long *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*ret = v;
	return 0;
}

/* The payload of (id, seq): a header naming both, then bytes that depend
 * on id, seq and position, so a block from another round or another
 * worker does not pass for this one. */
static void payload(long id, uint64_t seq, char *buf)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuv";
	int h = snprintf(buf, PAYLOAD, "fg-load id=%03ld seq=%010" PRIu64 "\n", id, seq);

	for (size_t i = (size_t)h; i < PAYLOAD - 1; i++)
		buf[i] = digits[((uint64_t)id * 7 + seq * 13 + i) % 32];
	buf[PAYLOAD - 1] = '\n';
}

static void note_error(struct tally *t, int err)
{
	if (t->errors++ == 0)
		t->first_errno = err;
}

/* open() timed into the tally; returns its result with errno intact. The
 * first slow open is described on stderr with its wall-clock start, to be
 * matched against the daemon's log when the test fails. */
static int timed_open(struct tally *t, uint64_t bound_ns, const char *path, int flags)
{
	struct timespec wall;
	uint64_t t0, dt;
	int fd, saved;

	clock_gettime(CLOCK_REALTIME, &wall);
	t0 = now_ns();
	fd = open(path, flags | O_CLOEXEC, 0644);
	saved = errno;
	dt = now_ns() - t0;
	t->opens++;
	if (dt > t->max_wait_ns)
		t->max_wait_ns = dt;
	if (dt > bound_ns && t->slow++ == 0) {
		struct tm tm;
		gmtime_r(&wall.tv_sec, &tm);
		fprintf(stderr,
			"fg_load: pid %d: open(%s, %#x) took %.1f ms, from %02d:%02d:%02d.%06ldZ\n",
			(int)getpid(), path, flags, (double)dt / 1e6, tm.tm_hour, tm.tm_min,
			tm.tm_sec, wall.tv_nsec / 1000);
	}
	errno = saved;
	return fd;
}

static void read_open(struct tally *t, uint64_t bound_ns, const char *path)
{
	char buf[512];
	int fd = timed_open(t, bound_ns, path, O_RDONLY);

	if (fd < 0 && errno == EPERM) {
		t->read_eperm++;
		return;
	}
	if (fd < 0) {
		note_error(t, errno);
		return;
	}
	if (read(fd, buf, sizeof(buf)) < 0)
		note_error(t, errno);
	close(fd);
}

static void allowed_write(struct tally *t, uint64_t bound_ns, const char *path, long id,
			  uint64_t seq)
{
	char buf[PAYLOAD];
	int fd;

	payload(id, seq, buf);
	t->writes++;
	fd = timed_open(t, bound_ns, path, O_WRONLY | O_CREAT | O_TRUNC);
	if (fd < 0) {
		note_error(t, errno);
		return;
	}
	if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		note_error(t, errno ? errno : EIO);
	if (close(fd) < 0)
		note_error(t, errno);
}

static void denied_write(struct tally *t, uint64_t bound_ns, const char *path)
{
	static const char garbage[] = "fg-load: this write should have been denied\n";
	int fd = timed_open(t, bound_ns, path, O_WRONLY | O_TRUNC);

	t->writes++;
	if (fd >= 0) {
		/* Let it do its damage: the test's checksum must catch it too. */
		t->breaches++;
		if (write(fd, garbage, sizeof(garbage) - 1) < 0)
			note_error(t, errno);
		close(fd);
	} else if (errno != EPERM) {
		note_error(t, errno);
	}
}

static int worker(long id, const char *role, const char *dir, long seconds, long bound_ms)
{
	bool allowed = !strcmp(role, "allowed");
	uint64_t bound_ns = (uint64_t)bound_ms * 1000000u;
	uint64_t end = now_ns() + (uint64_t)seconds * 1000000000u;
	char shared[4096], own[4096];
	struct tally t = {0};
	uint64_t seq = 0;

	snprintf(shared, sizeof(shared), "%s/shared", dir);
	snprintf(own, sizeof(own), "%s/%s-%03ld", dir, allowed ? "allowed" : "denied", id);
	while (now_ns() < end) {
		read_open(&t, bound_ns, shared);
		/* An allowed worker's file exists after its first write. */
		if (!allowed || seq > 0)
			read_open(&t, bound_ns, own);
		if (allowed)
			allowed_write(&t, bound_ns, own, id, ++seq);
		else
			denied_write(&t, bound_ns, own);
	}
	printf("R %ld %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
	       " %" PRIu64 " %d\n",
	       id, role, t.opens, t.max_wait_ns, t.slow, t.errors, t.breaches, t.writes,
	       t.read_eperm, t.first_errno);
	return fflush(stdout) == 0 ? 0 : 1;
}

static pid_t spawn(const char *exe, long id, const char *role, const char *dir, long seconds,
		   long bound_ms, int out_fd)
{
	char ids[16], secs[16], bms[16];
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	snprintf(ids, sizeof(ids), "%ld", id);
	snprintf(secs, sizeof(secs), "%ld", seconds);
	snprintf(bms, sizeof(bms), "%ld", bound_ms);
	if (dup2(out_fd, STDOUT_FILENO) < 0)
		_exit(126);
	execl(exe, exe, "worker", ids, role, dir, secs, bms, (char *)NULL);
	fprintf(stderr, "fg_load: exec %s: %s\n", exe, strerror(errno));
	_exit(127);
}

/* Adds one report line to the totals; returns 0, or -1 if malformed. */
static int add_report(const char *line, struct tally *sum, uint64_t *allowed_writes,
		      uint64_t *denied_writes)
{
	struct tally t = {0};
	char role[16];
	long id;

	if (sscanf(line,
		   "R %ld %15s %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
		   " %" SCNu64 " %d",
		   &id, role, &t.opens, &t.max_wait_ns, &t.slow, &t.errors, &t.breaches, &t.writes,
		   &t.read_eperm, &t.first_errno) != 10)
		return -1;
	if (t.errors)
		fprintf(stderr, "fg_load: worker %ld (%s): %" PRIu64 " error(s), first: %s\n", id,
			role, t.errors, strerror(t.first_errno));
	if (t.breaches)
		fprintf(stderr, "fg_load: worker %ld: %" PRIu64 " denied write(s) went through\n",
			id, t.breaches);
	sum->opens += t.opens;
	sum->slow += t.slow;
	sum->errors += t.errors;
	sum->breaches += t.breaches;
	sum->read_eperm += t.read_eperm;
	if (t.max_wait_ns > sum->max_wait_ns)
		sum->max_wait_ns = t.max_wait_ns;
	*(strcmp(role, "allowed") ? denied_writes : allowed_writes) += t.writes;
	return 0;
}

/* Waits until fd is readable, and meanwhile measures the machine: each
 * 10 ms poll timeout that comes back late shows how long a process that
 * opens nothing had to wait for a CPU. A slow open together with a host
 * stall as long points at the machine, not at the daemon. Returns false on
 * a poll error. */
static bool wait_readable(int fd, uint64_t *max_stall_ns)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	for (;;) {
		uint64_t t0 = now_ns();
		int r = poll(&p, 1, 10);
		uint64_t late = now_ns() - t0;

		if (r > 0)
			return true;
		if (r < 0 && errno != EINTR)
			return false;
		if (r == 0 && late > 10000000u && late - 10000000u > *max_stall_ns)
			*max_stall_ns = late - 10000000u;
	}
}

static int run(const char *dir, const char *allowed_exe, const char *denied_exe, long workers,
	       long seconds, long bound_ms)
{
	pid_t pids[MAX_WORKERS];
	struct tally sum = {0};
	uint64_t aw = 0, dw = 0, t0 = now_ns(), host_stall_ns = 0;
	long finished = 0;
	char line[REPORT_MAX];
	int pfd[2];
	FILE *in;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		perror("fg_load: pipe2");
		return 2;
	}
	for (long i = 0; i < workers; i++) {
		bool allowed = i % 2 == 0;
		pids[i] = spawn(allowed ? allowed_exe : denied_exe, i,
				allowed ? "allowed" : "denied", dir, seconds, bound_ms, pfd[1]);
		if (pids[i] < 0) {
			perror("fg_load: fork");
			return 2;
		}
	}
	close(pfd[1]);
	/* EOF comes when the last worker exits; a hung worker is for the
	 * test's timeout to catch, and then this program dies with it. Lines
	 * that stdio buffered ahead wait for the next poll wake-up, at the
	 * latest the EOF: every report is written whole (under PIPE_BUF). */
	in = fdopen(pfd[0], "r");
	while (in && wait_readable(pfd[0], &host_stall_ns) && fgets(line, sizeof(line), in))
		if (add_report(line, &sum, &aw, &dw) == 0)
			finished++;
	if (in)
		fclose(in);
	for (long i = 0; i < workers; i++)
		waitpid(pids[i], NULL, 0);

	double secs = (double)(now_ns() - t0) / 1e9;
	printf("workers=%ld finished=%ld opens=%" PRIu64 " seconds=%.1f opens_per_s=%.0f"
	       " max_wait_ms=%.1f slow=%" PRIu64 " errors=%" PRIu64 " breaches=%" PRIu64
	       " allowed_writes=%" PRIu64 " denied_writes=%" PRIu64 " read_eperm=%" PRIu64
	       " host_stall_ms=%.1f\n",
	       workers, finished, sum.opens, secs, (double)sum.opens / secs,
	       (double)sum.max_wait_ns / 1e6, sum.slow, sum.errors, sum.breaches, aw, dw,
	       sum.read_eperm, (double)host_stall_ns / 1e6);
	return finished == workers && !sum.slow && !sum.errors && !sum.breaches ? 0 : 1;
}

static int verify(const char *path, long id)
{
	char got[PAYLOAD + 2], want[PAYLOAD];
	unsigned long long seq;
	long gid;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "fg_load: %s: %s\n", path, strerror(errno));
		return 1;
	}
	/* One byte more than a payload: a longer file is not whole either. */
	n = read(fd, got, PAYLOAD + 1);
	close(fd);
	got[n > 0 ? n : 0] = '\0';
	if (n != PAYLOAD || sscanf(got, "fg-load id=%ld seq=%llu\n", &gid, &seq) != 2 ||
	    gid != id) {
		fprintf(stderr, "fg_load: %s: not one payload of worker %ld (%zd bytes)\n", path,
			id, n);
		return 1;
	}
	payload(id, seq, want);
	if (memcmp(got, want, PAYLOAD) != 0) {
		fprintf(stderr, "fg_load: %s: payload of seq %llu is torn\n", path, seq);
		return 1;
	}
	printf("%llu\n", seq);
	return 0;
}

int main(int argc, char **argv)
{
	long id, workers, seconds, bound_ms;

	/* A worker whose stdout reader is gone just ends. */
	signal(SIGPIPE, SIG_DFL);
	if (argc == 7 && !strcmp(argv[1], "worker") && !parse_num(argv[2], 0, MAX_WORKERS, &id) &&
	    !parse_num(argv[5], 1, 3600, &seconds) && !parse_num(argv[6], 1, 600000, &bound_ms))
		return worker(id, argv[3], argv[4], seconds, bound_ms);
	if (argc == 8 && !strcmp(argv[1], "run") && !parse_num(argv[5], 1, MAX_WORKERS, &workers) &&
	    !parse_num(argv[6], 1, 3600, &seconds) && !parse_num(argv[7], 1, 600000, &bound_ms))
		return run(argv[2], argv[3], argv[4], workers, seconds, bound_ms);
	if (argc == 4 && !strcmp(argv[1], "verify") && !parse_num(argv[3], 0, MAX_WORKERS, &id))
		return verify(argv[2], id);
	fprintf(stderr, "usage: fg_load run DIR ALLOWED_EXE DENIED_EXE WORKERS SECONDS BOUND_MS\n"
			"       fg_load verify FILE ID\n");
	return 2;
}
