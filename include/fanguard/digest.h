/* Content digests of executables: SHA-256 through OpenSSL's libcrypto, and
 * the fs-verity digest where the file has one (FS_IOC_MEASURE_VERITY: read
 * from the filesystem, nothing to hash).
 *
 * Hashing reads the whole file, and a file to hash may carry one of our own
 * marks (an exe inside a guarded subtree), so the answering thread never
 * hashes: it asks (fg_digests_get), defers the open and is woken when the
 * worker thread, which is "self" and whose opens are answered at once, has
 * the digest. Digests are kept by file identity (device, inode, size,
 * mtime, ctime): a 40 MB binary is read once per inode, not once per write.
 * The exe of a running process cannot be opened for writing (ETXTBSY), so
 * its content cannot change under that key while it runs. */
#ifndef FANGUARD_DIGEST_H
#define FANGUARD_DIGEST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define FG_DIGEST_CACHE	    256		    /* files whose digests are kept */
#define FG_DIGEST_QUEUE	    64		    /* requests waiting for the worker */
#define FG_DIGEST_MAX_BYTES (1024ULL << 20) /* a larger exe is not hashed */

/* Which file, and which version of it. */
struct fg_filekey {
	uint64_t dev, ino, size;
	int64_t mtime_s, ctime_s;
	uint32_t mtime_ns, ctime_ns;
};

struct fg_digest {
	uint8_t dig; /* FG_DIG_* (proc.h) */
	uint8_t sha256[32];
	uint8_t verity[32];
};

void fg_filekey_from_stat(const struct stat *st, struct fg_filekey *ret);

/* Loads libcrypto's SHA-256 once, on the main thread before any other
 * thread exists (OpenSSL may read its configuration then). Returns 0 or
 * -ENOSYS. */
int fg_digest_setup(void);

/* Digests of the open file fd: its fs-verity digest when it has one, and
 * the SHA-256 of its content unless `content` is false and it has
 * fs-verity. A file on a filesystem that may serve different bytes to two
 * readers (FUSE, network filesystems) or that changed while it was read
 * is refused (-EXDEV, -ESTALE), as is one over FG_DIGEST_MAX_BYTES
 * (-EFBIG). ret is filled on 0 only. */
int fg_digest_fd(int fd, bool content, struct fg_digest *ret);

enum fg_dstate { FG_DS_KNOWN, FG_DS_PENDING, FG_DS_FAILED };

struct fg_dentry {
	struct fg_filekey key;
	struct fg_digest d;
	bool used, failed, content; /* content: the SHA-256 was asked for */
	pid_t fail_pid;		    /* failed for this process's exe */
	uint64_t tick;		    /* last use, for eviction */
};

struct fg_dreq {
	struct fg_filekey key;
	pid_t pid; /* its /proc/PID/exe is what is read */
	bool content;
	uint64_t ticket;
};

struct fg_digests {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	int wake_fd; /* written when a request is done; -1: none */
	struct fg_dentry e[FG_DIGEST_CACHE];
	struct fg_dreq q[FG_DIGEST_QUEUE];
	unsigned q_head, q_len;
	uint64_t next_ticket, done_ticket, clock;
	uint64_t hashed, failed, bytes; /* for status */
};

/* Initialises d (no thread yet); wake_fd is the answering thread's. */
int fg_digests_init(struct fg_digests *d, int wake_fd);
void fg_digests_free(struct fg_digests *d);

/* From the answering thread: the digests of the file with key (the exe of
 * pid). KNOWN fills *ret. PENDING: asked for (or already being computed);
 * *ret_ticket says which request to wait for. FAILED: none can be had
 * (unreadable, refused, the queue is full). Memory only: a short lock. */
enum fg_dstate fg_digests_get(struct fg_digests *d, const struct fg_filekey *key, pid_t pid,
			      bool content, struct fg_digest *ret, uint64_t *ret_ticket);

/* Whether request `ticket` is done. */
bool fg_digests_done(struct fg_digests *d, uint64_t ticket);

/* The worker: serves requests until fg_digests_stop. */
void *fg_digests_main(void *digests);
void fg_digests_stop(struct fg_digests *d);

#endif
