/* Content digests and the worker that computes them (see digest.h). */
#include "fanguard/digest.h"
#include "fanguard/proc.h"
#include "fanguard/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fsverity.h>
#include <linux/magic.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>
#include <unistd.h>

#define READ_CHUNK (256 * 1024)
#define SMB2_MAGIC 0xFE534D42 /* not in every linux/magic.h */

static EVP_MD *sha256_md;

void fg_filekey_from_stat(const struct stat *st, struct fg_filekey *ret)
{
	*ret = (struct fg_filekey){
	    .dev = st->st_dev,
	    .ino = st->st_ino,
	    .size = (uint64_t)st->st_size,
	    .mtime_s = st->st_mtim.tv_sec,
	    .mtime_ns = (uint32_t)st->st_mtim.tv_nsec,
	    .ctime_s = st->st_ctim.tv_sec,
	    .ctime_ns = (uint32_t)st->st_ctim.tv_nsec,
	};
}

static bool key_eq(const struct fg_filekey *a, const struct fg_filekey *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_s == b->mtime_s && a->mtime_ns == b->mtime_ns && a->ctime_s == b->ctime_s &&
	       a->ctime_ns == b->ctime_ns;
}

int fg_digest_setup(void)
{
	if (sha256_md)
		return 0;
	/* No openssl.cnf: a file under /etc could make a root daemon load
	 * provider modules of anyone's choosing, and reading it costs half a
	 * megabyte of memory for nothing a digest needs. */
	if (!OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ATEXIT, NULL))
		return -ENOSYS;
	/* Fetched once: later digests then need nothing but memory. */
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	return sha256_md ? 0 : -ENOSYS;
}

/* Filesystems whose bytes another reader (the kernel's exec) may not see:
 * a digest of what we read would prove nothing about what runs. */
static bool content_unstable(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0)
		return true;
	switch ((unsigned long)sf.f_type) {
	case FUSE_SUPER_MAGIC:
	case NFS_SUPER_MAGIC:
	case SMB_SUPER_MAGIC:
	case CIFS_SUPER_MAGIC:
	case SMB2_MAGIC:
	case CEPH_SUPER_MAGIC:
	case V9FS_MAGIC:
		return true;
	default:
		return false;
	}
}

static bool measure_verity(int fd, uint8_t out[32])
{
	struct {
		struct fsverity_digest d;
		uint8_t buf[64];
	} m = {.d = {.digest_size = 64}};

	if (ioctl(fd, FS_IOC_MEASURE_VERITY, &m) < 0)
		return false;
	/* Only SHA-256 trees: the configured digests are SHA-256. */
	if (m.d.digest_algorithm != FS_VERITY_HASH_ALG_SHA256 || m.d.digest_size != 32)
		return false;
	memcpy(out, m.d.digest, 32);
	return true;
}

static int hash_content(int fd, uint64_t size, uint8_t out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t *buf = malloc(READ_CHUNK);
	uint64_t off = 0;
	unsigned len = 0;
	int r = 0;

	if (!ctx || !buf || !sha256_md || !EVP_DigestInit_ex(ctx, sha256_md, NULL))
		r = -ENOMEM;
	while (r == 0) {
		ssize_t n = pread(fd, buf, READ_CHUNK, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = -errno;
		else if (n == 0)
			break;
		else if (!EVP_DigestUpdate(ctx, buf, (size_t)n))
			r = -EIO;
		off += n > 0 ? (uint64_t)n : 0;
	}
	if (r == 0 && off != size)
		r = -ESTALE;
	if (r == 0 && (!EVP_DigestFinal_ex(ctx, out, &len) || len != 32))
		r = -EIO;
	EVP_MD_CTX_free(ctx);
	free(buf);
	return r;
}

int fg_digest_fd(int fd, bool content, struct fg_digest *ret)
{
	struct stat before, after;
	struct fg_digest d = {.dig = FG_DIG_LOOKED};
	int r;

	if (fstat(fd, &before) < 0)
		return -errno;
	if (!S_ISREG(before.st_mode) || content_unstable(fd))
		return -EXDEV;
	if (measure_verity(fd, d.verity))
		d.dig |= FG_DIG_VERITY;
	if (content || !(d.dig & FG_DIG_VERITY)) {
		if ((uint64_t)before.st_size > FG_DIGEST_MAX_BYTES)
			return -EFBIG;
		r = hash_content(fd, (uint64_t)before.st_size, d.sha256);
		if (r < 0)
			return r;
		d.dig |= FG_DIG_SHA256;
	}
	/* A write while we read shows in ctime: the digest is then of no
	 * one version of the file. */
	if (fstat(fd, &after) < 0)
		return -errno;
	if (after.st_ctim.tv_sec != before.st_ctim.tv_sec ||
	    after.st_ctim.tv_nsec != before.st_ctim.tv_nsec || after.st_size != before.st_size)
		return -ESTALE;
	*ret = d;
	return 0;
}

/* ---- the cache and the queue; all under d->lock */

int fg_digests_init(struct fg_digests *d, int wake_fd)
{
	memset(d, 0, sizeof(*d));
	d->wake_fd = wake_fd;
	d->next_ticket = 1;
	if (pthread_mutex_init(&d->lock, NULL) != 0)
		return -ENOMEM;
	if (pthread_cond_init(&d->cond, NULL) != 0) {
		pthread_mutex_destroy(&d->lock);
		return -ENOMEM;
	}
	return 0;
}

void fg_digests_free(struct fg_digests *d)
{
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
}

static struct fg_dentry *find(struct fg_digests *d, const struct fg_filekey *key)
{
	for (unsigned i = 0; i < FG_DIGEST_CACHE; i++)
		if (d->e[i].used && key_eq(&d->e[i].key, key))
			return &d->e[i];
	return NULL;
}

/* The entry for key, made (evicting the least recently used) if need be. */
static struct fg_dentry *slot_for(struct fg_digests *d, const struct fg_filekey *key)
{
	struct fg_dentry *e = find(d, key), *lru = &d->e[0];

	if (e)
		return e;
	for (unsigned i = 0; i < FG_DIGEST_CACHE; i++) {
		if (!d->e[i].used) {
			lru = &d->e[i];
			break;
		}
		if (d->e[i].tick < lru->tick)
			lru = &d->e[i];
	}
	*lru = (struct fg_dentry){.key = *key, .used = true};
	return lru;
}

static const struct fg_dreq *queued(const struct fg_digests *d, const struct fg_filekey *key,
				    bool content)
{
	for (unsigned i = 0; i < d->q_len; i++) {
		const struct fg_dreq *q = &d->q[(d->q_head + i) % FG_DIGEST_QUEUE];
		if (key_eq(&q->key, key) && (q->content || !content))
			return q;
	}
	return NULL;
}

enum fg_dstate fg_digests_get(struct fg_digests *d, const struct fg_filekey *key, pid_t pid,
			      bool content, struct fg_digest *ret, uint64_t *ret_ticket)
{
	enum fg_dstate st = FG_DS_PENDING;
	const struct fg_dentry *e;
	const struct fg_dreq *q;

	pthread_mutex_lock(&d->lock);
	e = find(d, key);
	if (e && e->failed && e->fail_pid != pid) {
		/* Another process's failure (it may have exited while its exe
		 * was opened): this one is asked about afresh. */
		((struct fg_dentry *)e)->used = false;
		e = NULL;
	}
	if (e && e->failed) {
		st = FG_DS_FAILED;
	} else if (e && (!content || (e->d.dig & FG_DIG_SHA256))) {
		*ret = e->d;
		st = FG_DS_KNOWN;
		((struct fg_dentry *)e)->tick = ++d->clock;
	} else if ((q = queued(d, key, content))) {
		*ret_ticket = q->ticket;
	} else if (d->q_len == FG_DIGEST_QUEUE || d->stop) {
		st = FG_DS_FAILED;
	} else {
		struct fg_dreq *n = &d->q[(d->q_head + d->q_len++) % FG_DIGEST_QUEUE];
		*n = (struct fg_dreq){
		    .key = *key, .pid = pid, .content = content, .ticket = d->next_ticket++};
		*ret_ticket = n->ticket;
		pthread_cond_signal(&d->cond);
	}
	pthread_mutex_unlock(&d->lock);
	return st;
}

bool fg_digests_done(struct fg_digests *d, uint64_t ticket)
{
	bool done;

	pthread_mutex_lock(&d->lock);
	done = d->done_ticket >= ticket;
	pthread_mutex_unlock(&d->lock);
	return done;
}

/* One request, without the lock: the digest of what /proc/PID/exe is now,
 * stored under that file's own key, and a failure under the requested key
 * when the file is not (or no longer) the one asked about. */
static void serve(struct fg_digests *d, const struct fg_dreq *q)
{
	char path[48];
	struct fg_digest dig;
	struct fg_filekey got = q->key;
	struct stat st;
	int r = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)q->pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0 && fstat(fd, &st) == 0) {
		fg_filekey_from_stat(&st, &got);
		r = key_eq(&got, &q->key) ? fg_digest_fd(fd, q->content, &dig) : -ESTALE;
	}
	pthread_mutex_lock(&d->lock);
	struct fg_dentry *e = slot_for(d, &q->key);
	e->tick = ++d->clock;
	if (r == 0) {
		e->d = dig;
		e->content = q->content;
		d->hashed++;
		d->bytes += got.size;
	} else {
		e->failed = true;
		e->fail_pid = q->pid;
		d->failed++;
	}
	d->done_ticket = q->ticket;
	pthread_mutex_unlock(&d->lock);
}

void *fg_digests_main(void *arg)
{
	struct fg_digests *d = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&d->lock);
	while (!d->stop) {
		struct fg_dreq q;

		if (d->q_len == 0) {
			pthread_cond_wait(&d->cond, &d->lock);
			continue;
		}
		q = d->q[d->q_head];
		pthread_mutex_unlock(&d->lock);
		serve(d, &q);
		pthread_mutex_lock(&d->lock);
		d->q_head = (d->q_head + 1) % FG_DIGEST_QUEUE;
		d->q_len--;
		if (d->wake_fd >= 0)
			(void)!write(d->wake_fd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

void fg_digests_stop(struct fg_digests *d)
{
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}
