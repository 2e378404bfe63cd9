/* libFuzzer harness for the /proc parsers. The first byte picks the parser
 * (low two bits) and, for cgroup, the size of the result buffer; the rest
 * is the file's contents, passed without a terminator so that ASan sees
 * any read past `len`. The whole input is also parsed as a process events
 * connector datagram (fg_cn_parse), raw and cut into framed messages.
 *
 * Checked besides memory safety: ret_* untouched on failure, results
 * terminated and in range on success, a parsed syscall line prints back
 * into one that parses to the same values, and the connector parser writes
 * no more events than asked for or than the input has room for, in order,
 * and exactly the events of the well-formed framed messages. */
#include "fanguard/pcache.h"
#include "fanguard/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_proc: %s:%d: check failed: %s\n", __FILE__,          \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define POISON 0x5a

static bool poisoned(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != POISON)
			return false;
	return true;
}

static void fuzz_stat(const char *buf, size_t len)
{
	struct fg_stat st;
	int r;

	memset(&st, POISON, sizeof(st));
	r = fg_proc_parse_stat(buf, len, &st);
	CHECK(r == 0 || r == -EINVAL);
	if (r < 0) {
		CHECK(poisoned(&st, sizeof(st)));
		return;
	}
	CHECK(memchr(st.comm, '\0', sizeof(st.comm)) != NULL);
	CHECK((st.state >= 'A' && st.state <= 'Z') || (st.state >= 'a' && st.state <= 'z'));
	CHECK(st.ppid >= 0);
}

static void fuzz_status(const char *buf, size_t len)
{
	struct fg_status st;
	int r;

	memset(&st, POISON, sizeof(st));
	r = fg_proc_parse_status(buf, len, &st);
	CHECK(r == 0 || r == -EINVAL);
	if (r < 0) {
		CHECK(poisoned(&st, sizeof(st)));
		return;
	}
	CHECK(st.tgid >= 0 && st.ppid >= 0);
}

static void check_intent(const struct fg_syscall *sc)
{
	uint64_t flags = 1, how = 1;
	enum fg_intent in = fg_intent_decode(sc, &flags, &how);
	const char *name = fg_syscall_name(sc->nr);

	CHECK(in == FG_INTENT_READ || in == FG_INTENT_WRITE || in == FG_INTENT_UNKNOWN);
	if (in == FG_INTENT_UNKNOWN) {
		CHECK(flags == 0);
	} else {
		CHECK(how == 0);
		CHECK(fg_intent_from_flags(flags) == in);
		/* Only the open family has a flags argument to decode. */
		CHECK(name != NULL);
	}
	if (how != 0)
		CHECK(name != NULL && strcmp(name, "openat2") == 0);
	if (sc->running || sc->nr < 0 || sc->worker)
		CHECK(in == FG_INTENT_UNKNOWN && how == 0);
}

/* Prints sc back in the kernel's format and parses it again. */
static void check_roundtrip(const struct fg_syscall *sc)
{
	char line[256];
	struct fg_syscall again;
	int n;

	if (sc->running) {
		n = snprintf(line, sizeof(line), "running\n");
	} else if (sc->nr < 0) {
		n = snprintf(line, sizeof(line), "-1 0x7ffc0 0x7f00\n");
	} else {
		n = snprintf(
		    line, sizeof(line), "%ld 0x%lx 0x%lx 0x%lx 0x%lx 0x%lx 0x%lx 0x1 0x2\n", sc->nr,
		    sc->args[0], sc->args[1], sc->args[2], sc->args[3], sc->args[4], sc->args[5]);
	}
	CHECK(n > 0 && (size_t)n < sizeof(line));
	CHECK(fg_proc_parse_syscall(line, (size_t)n, &again) == 0);
	CHECK(again.running == sc->running && again.nr == sc->nr);
	CHECK(memcmp(again.args, sc->args, sizeof(sc->args)) == 0);
}

static void fuzz_syscall(const char *buf, size_t len)
{
	struct fg_syscall sc;
	int r;

	memset(&sc, POISON, sizeof(sc));
	r = fg_proc_parse_syscall(buf, len, &sc);
	CHECK(r == 0 || r == -EINVAL);
	if (r < 0) {
		CHECK(poisoned(&sc, sizeof(sc)));
		return;
	}
	CHECK(sc.nr >= -1 && sc.nr <= INT32_MAX);
	CHECK(!sc.running || sc.nr == -1);
	check_intent(&sc);
	check_roundtrip(&sc);
}

static void fuzz_cgroup(const char *buf, size_t len, uint8_t sel)
{
	/* Small sizes exercise the "does not fit" path; 0 is a legal size. */
	static const size_t sizes[] = {FG_CGROUP_LEN, 0, 1, 2, 8, 16, 64, FG_CGROUP_LEN};
	size_t size = sizes[(sel >> 2) & 7];
	char *ret = malloc(size ? size : 1);
	int r;

	CHECK(ret);
	memset(ret, POISON, size ? size : 1);
	r = fg_proc_parse_cgroup(buf, len, ret, size);
	CHECK(r == 0 || r == -EINVAL);
	if (r < 0) {
		CHECK(poisoned(ret, size ? size : 1));
	} else {
		size_t n;
		CHECK(size > 0);
		n = strnlen(ret, size);
		CHECK(n > 0 && n < size);
		CHECK(memchr(ret, '\n', n) == NULL);
	}
	free(ret);
}

/* The input as one recv() of the connector socket would hand it. */
static void fuzz_cn(const uint8_t *data, size_t size)
{
	/* The least a parsed message takes: headers, then what, cpu,
	 * timestamp, pid and tgid of a proc_event. */
	const size_t least = NLMSG_HDRLEN + sizeof(struct cn_msg) + 24;
	struct fg_cn_event ev[16], again[16];
	size_t n, max = sizeof(ev) / sizeof(ev[0]);

	memset(ev, POISON, sizeof(ev));
	n = fg_cn_parse(data, size, ev, max);
	CHECK(n <= max && n * least <= size);
	CHECK(poisoned(&ev[n], (max - n) * sizeof(ev[0])));
	if (n == 0)
		return;
	/* A smaller max gives the same events, up to it. */
	memset(again, POISON, sizeof(again));
	CHECK(fg_cn_parse(data, size, again, n - 1) == n - 1);
	CHECK(memcmp(again, ev, (n - 1) * sizeof(ev[0])) == 0);
	CHECK(poisoned(&again[n - 1], (max - n + 1) * sizeof(again[0])));
}

/* The same parser over framed messages: random bytes seldom get past the
 * headers. Each chunk of the input is a selector byte, then a body of
 * 24 + (selector & 31) bytes (less at the end); the selector's top bits
 * make the message foreign (0x20), its cn_msg.len one past the body (0x40)
 * or its nlmsg_len 4 bytes too long (0x80). Without 0x80 anywhere the
 * events are known: one per good message with at least 24 body bytes,
 * pid and tgid at body offset 16. */
static void fuzz_cn_framed(const uint8_t *data, size_t size)
{
	struct fg_cn_event ev[16], want[16];
	size_t max = sizeof(ev) / sizeof(ev[0]), total = 0, n_want = 0, off = 0;
	bool exact = true;
	uint8_t *buf;

	for (size_t i = 0; i < size;) {
		size_t b =
		    size - i - 1 < 24u + (data[i] & 31) ? size - i - 1 : 24u + (data[i] & 31);
		total += NLMSG_SPACE(sizeof(struct cn_msg) + b);
		i += 1 + b;
	}
	buf = malloc(total ? total : 1);
	CHECK(buf);
	memset(buf, 0, total ? total : 1);
	for (size_t i = 0; i < size;) {
		uint8_t sel = data[i];
		size_t b = size - i - 1 < 24u + (sel & 31) ? size - i - 1 : 24u + (sel & 31);
		struct nlmsghdr nh = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct cn_msg) + b),
				      .nlmsg_type = NLMSG_DONE};
		struct cn_msg cn = {.id = {CN_IDX_PROC, CN_VAL_PROC}, .len = (uint16_t)b};

		if (sel & 0x20)
			cn.id.val++;
		if (sel & 0x40)
			cn.len++;
		if (sel & 0x80)
			nh.nlmsg_len += 4;
		exact = exact && !(sel & 0x80);
		memcpy(buf + off, &nh, sizeof(nh));
		memcpy(buf + off + NLMSG_HDRLEN, &cn, sizeof(cn));
		memcpy(buf + off + NLMSG_HDRLEN + sizeof(cn), data + i + 1, b);
		if (!(sel & 0x60) && b >= 24 && n_want < max) {
			memcpy(&want[n_want].what, data + i + 1, 4);
			memcpy(&want[n_want].pid, data + i + 1 + 16, 4);
			memcpy(&want[n_want].tgid, data + i + 1 + 20, 4);
			n_want++;
		}
		off += NLMSG_SPACE(sizeof(cn) + b);
		i += 1 + b;
	}
	memset(ev, POISON, sizeof(ev));
	size_t n = fg_cn_parse(buf, total, ev, max);
	CHECK(n <= max);
	CHECK(poisoned(&ev[n], (max - n) * sizeof(ev[0])));
	if (exact) {
		CHECK(n == n_want);
		for (size_t i = 0; i < n; i++)
			CHECK(ev[i].what == want[i].what && ev[i].pid == want[i].pid &&
			      ev[i].tgid == want[i].tgid);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf;
	size_t len;

	fuzz_cn(data, size);
	fuzz_cn_framed(data, size);
	if (size < 1)
		return 0;
	buf = (const char *)data + 1;
	len = size - 1;
	switch (data[0] & 3) {
	case 0:
		fuzz_stat(buf, len);
		break;
	case 1:
		fuzz_status(buf, len);
		break;
	case 2:
		fuzz_syscall(buf, len);
		break;
	default:
		fuzz_cgroup(buf, len, data[0]);
		break;
	}
	/* Flags come from a register or from open_how: any 64 bits. */
	if (len >= 8) {
		uint64_t f;
		memcpy(&f, buf, sizeof(f));
		enum fg_intent in = fg_intent_from_flags(f);
		CHECK(in == FG_INTENT_READ || in == FG_INTENT_WRITE);
		CHECK(in == FG_INTENT_WRITE || (f & (O_ACCMODE | O_CREAT | O_TRUNC)) == 0);
	}
	return 0;
}
