#include "fanguard/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int fg_parse_u64(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

int fg_parse_u32(const char *s, uint32_t *ret)
{
	uint64_t v;
	int r = fg_parse_u64(s, &v);

	if (r < 0)
		return r;
	if (v > UINT32_MAX)
		return -ERANGE;
	*ret = (uint32_t)v;
	return 0;
}

size_t fg_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

ssize_t fg_read_small(int dirfd, const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	size_t got = 0;

	if (fd < 0)
		return -errno;
	while (got + 1 < size) {
		ssize_t n = read(fd, buf + got, size - 1 - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

/* n digits at s, or -1. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "Z", or "+HH:MM" / "-HH:MM": the offset east of UTC in seconds. */
static int parse_offset(const char *s, long *ret)
{
	int h, m;

	if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0') {
		*ret = 0;
		return 0;
	}
	if ((s[0] != '+' && s[0] != '-') || s[3] != ':' || s[6] != '\0')
		return -EINVAL;
	h = digits(s + 1, 2);
	m = digits(s + 4, 2);
	if (h < 0 || h > 23 || m < 0 || m > 59)
		return -EINVAL;
	*ret = (s[0] == '-' ? -1L : 1L) * (h * 3600L + m * 60L);
	return 0;
}

int fg_parse_time(const char *s, bool date_ok, int64_t *ret)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	struct tm tm = {0};
	const char *p;
	long off = 0;
	int y, mo, d, h = 0, mi = 0, sec = 0;
	time_t t;

	if (!s || strnlen(s, 64) < 10 || s[4] != '-' || s[7] != '-')
		return -EINVAL;
	y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
		return -EINVAL;
	if (s[10] == '\0' && !date_ok)
		return -EINVAL;
	if (s[10] != '\0') {
		if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || strnlen(s, 64) < 20 ||
		    s[13] != ':' || s[16] != ':')
			return -EINVAL;
		h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
		if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59)
			return -EINVAL;
		p = s + 19;
		if (*p == '.') {
			if (p[1] < '0' || p[1] > '9')
				return -EINVAL;
			for (p++; *p >= '0' && *p <= '9'; p++)
				;
		}
		if (parse_offset(p, &off) < 0)
			return -EINVAL;
	}
	tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
	tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = sec;
	t = timegm(&tm);
	/* timegm normalises 30 February into March: a date that moved is wrong */
	if (t == (time_t)-1 || tm.tm_mday != d)
		return -EINVAL;
	*ret = (int64_t)t - off;
	return 0;
}

uint64_t fg_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Arrays grow by doubling from 4, so the capacity follows from n alone: a
 * new slot is needed exactly when n is 0 or a power of two >= 4. */
int fg_array_grow(void **arr, unsigned n, size_t elem)
{
	void *p;

	if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
		return 0;
	p = realloc(*arr, (n ? 2 * (size_t)n : 4) * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	return 0;
}
