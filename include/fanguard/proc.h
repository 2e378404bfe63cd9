/* Resolving a task to the identity fanguard decides on, and reading what a
 * blocked opener asked for. The parsers are pure functions over buffers (unit
 * tested and fuzzed); the resolvers read /proc and return -errno. */
#ifndef FANGUARD_PROC_H
#define FANGUARD_PROC_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define FG_COMM_LEN	16 /* TASK_COMM_LEN */
#define FG_CGROUP_LEN	512
#define FG_ANCESTRY_MAX 1024	    /* deeper chains are marked truncated */
#define FG_ARENA_LEN	(64 * 1024) /* exe strings of the ancestry */

/* What verification (ident.c) found about one process. Each fact starts
 * unchecked; the policy takes an unchecked fact as holding, so that only
 * what an allow rests on is ever verified, and a failed one as not. */
enum fg_trust { FG_TRUST_UNCHECKED = 0, FG_TRUST_OK, FG_TRUST_FAILED };

enum fg_digest_kind { FG_DIGEST_NONE = 0, FG_DIGEST_SHA256, FG_DIGEST_VERITY };

/* Why a fact failed (ident.c names them for the log). */
enum fg_idp {
	FG_IDP_NONE = 0,
	FG_IDP_EXE_UNMAPPED,  /* no executable mapping comes from the exe's inode */
	FG_IDP_EXE_OTHER_FS,  /* exe path in a trusted prefix, file on another filesystem */
	FG_IDP_UNREADABLE,    /* its exe, maps, environ or status could not be read */
	FG_IDP_FOREIGN_CODE,  /* an executable mapping from outside the trusted prefixes */
	FG_IDP_ANON_CODE,     /* executable memory that no file backs */
	FG_IDP_PRELOAD,	      /* LD_PRELOAD, LD_AUDIT or LD_LIBRARY_PATH in its environment */
	FG_IDP_TRACED,	      /* traced by one not itself allowed, or since its exec */
	FG_IDP_NO_SESSION,    /* a login uid that no login session backs */
	FG_IDP_NO_DIGEST,     /* the content digest could not be had */
	FG_IDP_DIGEST,	      /* the content is not one the rule or transaction names */
	FG_IDP_MODIFIED_CODE, /* a file's executable mapping holds pages it did not read from it */
	FG_IDP_PRE_EXEC,      /* an ancestor whose child in the chain predates its image */
	FG_IDP_N
};

/* Bits of fg_trustinfo.dig: which digests of the exe are known. */
#define FG_DIG_SHA256 (1u << 0) /* sha256[] is the content's SHA-256 */
#define FG_DIG_VERITY (1u << 1) /* verity[] is its fs-verity digest (SHA-256) */
#define FG_DIG_LOOKED (1u << 2) /* asked once: no fs-verity unless FG_DIG_VERITY */
#define FG_DIG_FAILED (1u << 3) /* no content digest can be had */

/* How the process that an allow rests on was identified (the log says). */
enum fg_method { FG_METHOD_NONE = 0, FG_METHOD_PATH, FG_METHOD_SHA256, FG_METHOD_VERITY };

struct fg_trustinfo {
	uint8_t exe;	 /* enum fg_trust: it runs the image its exe names */
	uint8_t code;	 /* all its executable code is trusted (see ident.h) */
	uint8_t auid;	 /* a login session backs its loginuid (the writer only) */
	uint8_t dig;	 /* FG_DIG_* */
	uint8_t problem; /* enum fg_idp: the first fact that failed */
	uint8_t method;	 /* enum fg_method, once an allow rested on it */
	uint8_t sha256[32];
	uint8_t verity[32];
};

struct fg_ancestor {
	struct fg_trustinfo trust;
	pid_t pid;
	uint32_t exe_off;    /* into fg_proc.arena; "" if unreadable */
	uint64_t start_time; /* clock ticks since boot, from its stat */
	char comm[FG_COMM_LEN];
};

/* Bits of fg_proc.known: which fields were really read. A log line leaves
 * out what was not, rather than print the placeholder the field holds
 * (uid 4294967295, auid unset, exe ""), which would read as a fact. */
#define FG_PROC_STAT	 (1u << 0) /* start_time and comm (/proc/TID/stat) */
#define FG_PROC_STATUS	 (1u << 1) /* pid (the tgid), ppid and uid (status) */
#define FG_PROC_AUID	 (1u << 2) /* loginuid */
#define FG_PROC_SESSION	 (1u << 3) /* sessionid */
#define FG_PROC_CGROUP	 (1u << 4)
#define FG_PROC_EXE	 (1u << 5)
#define FG_PROC_ANCESTRY (1u << 6) /* the walk reached pid 1 for this very task */
#define FG_PROC_ALL	 0x7fu

/* Everything known about one writer. Large (~100 KiB): callers keep one
 * and reuse it; nothing in it points outside it. */
struct fg_proc {
	pid_t tid; /* the thread that opened */
	pid_t pid; /* its thread group id */
	pid_t ppid;
	uint32_t uid;		    /* real uid */
	uint32_t auid;		    /* loginuid, FG_AUID_UNSET if unset */
	uint32_t sessionid;	    /* FG_AUID_UNSET if unset */
	uint64_t start_time;	    /* of the thread, clock ticks since boot */
	char comm[FG_COMM_LEN];	    /* of the thread */
	char exe[PATH_MAX];	    /* "" when unreadable (kernel thread) */
	char cgroup[FG_CGROUP_LEN]; /* unified (v2) path, or first line's */
	uint8_t cgroup_unit;	    /* enum fg_cgroup_unit (unitcg.h): whether the
				     * cgroup is a real unit's; set by
				     * fg_unitcg_fill, never by the resolvers */
	unsigned n_ancestors;	    /* anc[0] is the parent, last is pid 1 */
	bool ancestry_truncated;    /* chain deeper than FG_ANCESTRY_MAX or arena full */
	uint32_t known;		    /* FG_PROC_* bits; before anc, so a reset of the
				     * header clears it */
	pid_t tracer;		    /* TracerPid: 0 when not traced */
	uint64_t trust_gen;	    /* policy generation the trust facts were
				     * verified under (trusted prefixes, digests
				     * listed); 0: none were */
	bool verifying;		    /* set by ident.c while it decides: a digest not
				     * known yet is taken to match (and then
				     * computed); otherwise it never matches */
	struct fg_trustinfo trust;
	/* The failed fact that took an allow away, for the log line. */
	struct fg_idfinding {
		uint8_t method;	       /* enum fg_method: how the process the decision
					* rests on was identified; 0: not verified */
		uint8_t problem;       /* enum fg_idp; FG_IDP_NONE: none */
		int who;	       /* -1 the writer, else an ancestor index */
		char detail[PATH_MAX]; /* the image it really runs, the foreign
					* mapping, the variable: "" if none */
	} finding;
	struct fg_ancestor anc[FG_ANCESTRY_MAX];
	uint32_t arena_used;
	char arena[FG_ARENA_LEN];
};

/* The fields of /proc/PID/stat fanguard uses. */
struct fg_stat {
	char comm[FG_COMM_LEN];
	char state;
	pid_t ppid;
	unsigned long flags; /* the task's PF_* flags (field 9) */
	uint64_t start_time;
};

#define FG_PF_DUMPCORE 0x00000200UL /* include/linux/sched.h: dumping core */

/* The fields of /proc/PID/status fanguard uses. */
struct fg_status {
	pid_t tgid;
	pid_t ppid;
	uint32_t uid; /* real */
	uint32_t euid;
	pid_t tracer; /* TracerPid */
};

/* One line of /proc/TID/syscall. */
struct fg_syscall {
	long nr;      /* -1: blocked outside a syscall */
	bool running; /* the file said "running" */
	/* SP and PC both 0: no user thread's own registers. An io_uring (or
	 * other user) worker's are a copy of its creator's, taken when it was
	 * made, so nr and args say what the creator was doing then (its
	 * read-only open, its failed execve), never what the worker opens. */
	bool worker;
	unsigned long args[6];
};

/* BUSY: the thread looked "running" on every read (see proc.c); ask
 * again a little later. Only fg_proc_read_intent returns it. */
enum fg_intent { FG_INTENT_READ = 0, FG_INTENT_WRITE, FG_INTENT_UNKNOWN, FG_INTENT_BUSY };

/* Parsers: 0 or -EINVAL; ret_* untouched on failure. `len` bytes of buf are
 * read; buf need not be terminated. */
int fg_proc_parse_stat(const char *buf, size_t len, struct fg_stat *ret);
int fg_proc_parse_status(const char *buf, size_t len, struct fg_status *ret);
int fg_proc_parse_syscall(const char *buf, size_t len, struct fg_syscall *ret);
/* Copies the unified-hierarchy path ("0::/x") or, failing that, the first
 * line's path into ret (size bytes). */
int fg_proc_parse_cgroup(const char *buf, size_t len, char *ret, size_t size);

/* Write intent of open flags: O_WRONLY, O_RDWR, O_TRUNC, O_CREAT, O_APPEND
 * (and O_TMPFILE) count as write. */
enum fg_intent fg_intent_from_flags(uint64_t flags);

/* Decodes a syscall of this architecture. Returns FG_INTENT_READ/WRITE with
 * *ret_flags set; for openat2 returns FG_INTENT_UNKNOWN with
 * *ret_how_addr set to the user address of struct open_how (the caller reads
 * its first 8 bytes and calls fg_intent_from_flags); for anything it does not
 * recognise returns FG_INTENT_UNKNOWN with *ret_how_addr = 0. */
enum fg_intent fg_intent_decode(const struct fg_syscall *sc, uint64_t *ret_flags,
				uint64_t *ret_how_addr);

/* Name of an open-family syscall number of this architecture, or NULL. */
const char *fg_syscall_name(long nr);

/* Reads the intent of the blocked thread tid: /proc/TID/syscall, and for
 * openat2 /proc/TID/mem. Returns the intent; *ret_flags (0 if unknown) and
 * *ret_nr (-1 if unreadable) are always set. Never fails: what cannot be
 * read is FG_INTENT_UNKNOWN; a thread that kept looking "running" is
 * FG_INTENT_BUSY. */
enum fg_intent fg_proc_read_intent(pid_t tid, uint64_t *ret_flags, long *ret_nr);

/* Opens /proc/TID/<name> read-only: the fd, or -errno. Such a file may be
 * kept open between events: procfs binds it to the task, so once that task
 * is gone every read fails (-ESRCH) even if its id names another task by
 * then. */
int fg_proc_open(pid_t tid, const char *name);

/* fg_proc_read_intent through an open /proc/TID/syscall; *ret_err is 0 when
 * the file was read, else -errno (-ESRCH: the task is gone). */
enum fg_intent fg_proc_intent_fd(int fd, pid_t tid, uint64_t *ret_flags, long *ret_nr,
				 int *ret_err);

/* Re-reads through open /proc/TID/loginuid and /proc/TID/cgroup files:
 * 0, or -ESRCH once the task is gone. A cgroup that cannot be parsed
 * reads as "". */
int fg_proc_id_fd(int fd, uint32_t *ret);
int fg_proc_cgroup_fd(int fd, char *buf, size_t size);

/* Resolves tid into *ret: identity, cgroup and the whole ancestry up to
 * pid 1. The writer is read through one /proc/TID directory fd, which
 * procfs fails once that task is gone even if its id is reused. Returns 0,
 * -ESRCH when the task is gone or was recycled (ret then holds what was
 * read, with tid and pid set), or another -errno. */
int fg_proc_resolve(pid_t tid, struct fg_proc *ret);

/* The two halves of fg_proc_resolve, so a caller can answer before the
 * ancestry walk when the policy does not need it: the task alone
 * (n_ancestors stays 0), then its ancestry, which fails with -ESRCH when
 * the task is no longer the one whose identity was read. */
int fg_proc_resolve_task(pid_t tid, struct fg_proc *ret);
int fg_proc_resolve_ancestry(struct fg_proc *p);

/* The start time of task tid (clock ticks since boot), 0 when it is gone:
 * with the id it names one task, so a recycled id is told apart. */
uint64_t fg_proc_start_time(pid_t tid);
/* Whether task tid is writing a core dump (PF_DUMPCORE): 1, 0, or -errno
 * when its stat cannot be read. */
int fg_proc_dumping_core(pid_t tid);
/* Whether a read the syscall line shows can be taken as the open's: an
 * openat2 read is not (its flags live in the opener's memory, which another
 * of its threads can rewrite after the kernel copied them), nor the kernel's
 * open of a core file for a dumping task (the line still shows the syscall
 * it was killed in; the core file is always a new, empty one, so only the
 * opener of an empty regular file is asked). fd is the event's file, nr
 * the line's syscall. Returns in, or FG_INTENT_UNKNOWN for such a read. */
enum fg_intent fg_intent_vouched(enum fg_intent in, long nr, int fd, pid_t tid);

/* Exe of ancestor i ("" if unreadable). */
static inline const char *fg_proc_anc_exe(const struct fg_proc *p, unsigned i)
{
	return p->arena + p->anc[i].exe_off;
}

#endif
