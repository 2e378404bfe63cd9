/* Small helpers shared by every module: cleanup attributes, strict number
 * parsing, bounded string copies. */
#ifndef FANGUARD_UTIL_H
#define FANGUARD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* fanguard uses cleanup attributes project-wide (no `goto out`). */
static inline void fg_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
static inline void fg_freep(void *p)
{
	free(*(void **)p);
}
static inline void fg_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
#define _cleanup_close_	 __attribute__((cleanup(fg_closep)))
#define _cleanup_free_	 __attribute__((cleanup(fg_freep)))
#define _cleanup_fclose_ __attribute__((cleanup(fg_fclosep)))

#define FG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The "unset" value of /proc/PID/loginuid and sessionid. */
#define FG_AUID_UNSET 4294967295U

/* Parses a whole decimal string into *ret. Returns 0, or -EINVAL for
 * anything but digits (no sign, no space, no empty string) and -ERANGE past
 * UINT32_MAX / UINT64_MAX. *ret is untouched on failure. */
int fg_parse_u32(const char *s, uint32_t *ret);
int fg_parse_u64(const char *s, uint64_t *ret);

/* Makes room for element n of *arr, which grows by doubling from 4 (the
 * capacity follows from n alone). Returns 0 or -ENOMEM (*arr untouched). */
int fg_array_grow(void **arr, unsigned n, size_t elem);

/* Copies at most size-1 bytes and terminates. Returns strlen(src), so a
 * result >= size means truncation. */
size_t fg_strlcpy(char *dst, const char *src, size_t size);

/* Reads up to size-1 bytes of a small file (e.g. under /proc) from dirfd
 * relative path, terminates it, returns the byte count or -errno. */
ssize_t fg_read_small(int dirfd, const char *path, char *buf, size_t size);

/* Parses an RFC 3339 date-time ("2024-05-01T12:00:00Z", fractional
 * seconds and a numeric offset allowed; the fraction is dropped) or, with
 * date_ok, a bare date ("2024-05-01", midnight UTC) into seconds since the
 * epoch. Returns 0, or -EINVAL for anything else (*ret untouched). */
int fg_parse_time(const char *s, bool date_ok, int64_t *ret);

/* Monotonic clock in nanoseconds. */
uint64_t fg_now_ns(void);

#endif
