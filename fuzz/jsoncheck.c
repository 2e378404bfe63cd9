/* Recursive descent over [p, end); every function returns false at the
 * first byte that breaks the grammar and leaves the cursor there. */
#include "jsoncheck.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JC_DEPTH_MAX 64
#define JC_KEYS_MAX  256

struct key {
	const unsigned char *s;
	size_t n;
};

struct cur {
	const unsigned char *p, *start, *end;
	unsigned depth;
};

size_t jc_utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t need;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		need = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		need = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		need = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Shortest form only; no surrogates; nothing past U+10FFFF. */
	if ((need == 2 && cp < 0x80) || (need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000))
		return 0;
	if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return need;
}

static void ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static bool lit(struct cur *c, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0)
		return false;
	c->p += n;
	return true;
}

static int hexval(unsigned char h)
{
	if (h >= '0' && h <= '9')
		return h - '0';
	if (h >= 'a' && h <= 'f')
		return h - 'a' + 10;
	if (h >= 'A' && h <= 'F')
		return h - 'A' + 10;
	return -1;
}

static bool hex4(struct cur *c, unsigned *ret)
{
	unsigned v = 0;

	if (c->end - c->p < 4)
		return false;
	for (int i = 0; i < 4; i++) {
		int d = hexval(c->p[i]);
		if (d < 0) {
			c->p += i;
			return false;
		}
		v = v << 4 | (unsigned)d;
	}
	c->p += 4;
	*ret = v;
	return true;
}

/* One escape after the backslash; a surrogate must come as a pair. */
static bool escape(struct cur *c)
{
	unsigned u, lo;

	if (c->p == c->end)
		return false;
	if (strchr("\"\\/bfnrt", *c->p) && *c->p) {
		c->p++;
		return true;
	}
	if (*c->p++ != 'u' || !hex4(c, &u))
		return false;
	if (u >= 0xdc00 && u <= 0xdfff)
		return false;
	if (u < 0xd800 || u > 0xdbff)
		return true;
	return lit(c, "\\u") && hex4(c, &lo) && lo >= 0xdc00 && lo <= 0xdfff;
}

/* The body of a string up to (not including) the closing quote or end. */
static bool body(struct cur *c, bool quoted)
{
	while (c->p < c->end && !(quoted && *c->p == '"')) {
		size_t k;

		if (*c->p == '\\') {
			c->p++;
			if (!escape(c))
				return false;
			continue;
		}
		if (*c->p < 0x20 || *c->p == 0x7f || *c->p == '"')
			return false;
		k = jc_utf8_len(c->p, (size_t)(c->end - c->p));
		/* U+0080..U+009F (C1 controls) are C2 80..C2 9F. */
		if (k == 0 || (k == 2 && c->p[0] == 0xc2 && c->p[1] < 0xa0))
			return false;
		c->p += k;
	}
	return true;
}

static bool string(struct cur *c, const unsigned char **ret_s, size_t *ret_n)
{
	const unsigned char *s;

	if (c->p == c->end || *c->p != '"')
		return false;
	s = ++c->p;
	if (!body(c, true) || c->p == c->end)
		return false;
	if (ret_s) {
		*ret_s = s;
		*ret_n = (size_t)(c->p - s);
	}
	c->p++;
	return true;
}

static bool digits(struct cur *c)
{
	const unsigned char *s = c->p;

	while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
		c->p++;
	return c->p > s;
}

static bool number(struct cur *c)
{
	if (c->p < c->end && *c->p == '-')
		c->p++;
	if (c->p < c->end && *c->p == '0')
		c->p++;
	else if (!digits(c))
		return false;
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (!digits(c))
			return false;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (!digits(c))
			return false;
	}
	return true;
}

static bool value(struct cur *c);

static bool object(struct cur *c)
{
	/* Keys are compared raw: the writer never spells one key two ways. */
	struct key keys[JC_KEYS_MAX];
	unsigned nk = 0;

	c->p++;
	ws(c);
	if (c->p < c->end && *c->p == '}') {
		c->p++;
		return true;
	}
	for (;;) {
		const unsigned char *k;
		size_t kn;

		ws(c);
		if (!string(c, &k, &kn))
			return false;
		for (unsigned i = 0; i < nk; i++)
			if (keys[i].n == kn && memcmp(keys[i].s, k, kn) == 0) {
				c->p = k;
				return false;
			}
		if (nk < JC_KEYS_MAX)
			keys[nk++] = (struct key){k, kn};
		ws(c);
		if (c->p == c->end || *c->p != ':')
			return false;
		c->p++;
		if (!value(c))
			return false;
		ws(c);
		if (c->p == c->end)
			return false;
		if (*c->p == '}') {
			c->p++;
			return true;
		}
		if (*c->p++ != ',')
			return false;
	}
}

static bool array(struct cur *c)
{
	c->p++;
	ws(c);
	if (c->p < c->end && *c->p == ']') {
		c->p++;
		return true;
	}
	for (;;) {
		if (!value(c))
			return false;
		ws(c);
		if (c->p == c->end)
			return false;
		if (*c->p == ']') {
			c->p++;
			return true;
		}
		if (*c->p++ != ',')
			return false;
	}
}

static bool value(struct cur *c)
{
	bool ok;

	ws(c);
	if (c->p == c->end)
		return false;
	switch (*c->p) {
	case '{':
	case '[':
		if (++c->depth > JC_DEPTH_MAX)
			return false;
		ok = *c->p == '{' ? object(c) : array(c);
		c->depth--;
		return ok;
	case '"':
		return string(c, NULL, NULL);
	case 't':
		return lit(c, "true");
	case 'f':
		return lit(c, "false");
	case 'n':
		return lit(c, "null");
	default:
		return number(c);
	}
}

bool jc_object(const char *s, size_t n, size_t *ret_at)
{
	struct cur c = {(const unsigned char *)s, (const unsigned char *)s,
			(const unsigned char *)s + n, 0};
	bool ok;

	ws(&c);
	ok = c.p < c.end && *c.p == '{' && value(&c);
	if (ok) {
		ws(&c);
		ok = c.p == c.end;
	}
	*ret_at = (size_t)(c.p - c.start);
	return ok;
}

bool jc_string_body(const char *s, size_t n, size_t *ret_at)
{
	struct cur c = {(const unsigned char *)s, (const unsigned char *)s,
			(const unsigned char *)s + n, 0};
	bool ok = body(&c, false);

	*ret_at = (size_t)(c.p - c.start);
	return ok;
}
