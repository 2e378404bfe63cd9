/* libFuzzer harness for the signature policy's judgement. The first byte
 * picks which host images are judged (low two bits: how many of a fixed
 * list, some of them globs); the rest is the policy.json document, passed
 * without a terminator.
 *
 * Checked besides memory safety: the verdict is one of three, unparseable
 * exactly when no scope was judged and an error says why, every judged
 * scope has a requirement, a name and an entry, weakened exactly when some
 * scope accepts unsigned images; judging the same bytes twice gives the
 * same verdict; a verdict compared with itself has no changes, and with
 * the previous input's verdict the change list stays terminated. */
#include "fanguard/sigpolicy.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_sigpolicy: %s:%d: check failed: %s\n", __FILE__,     \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static struct fg_sigpolicy_verdict v, again, prev;

static void check(const struct fg_sigpolicy_verdict *x, unsigned n_images)
{
	bool insecure = false;

	CHECK(x->verdict <= FG_SIGVERDICT_UNPARSEABLE);
	CHECK(memchr(x->error, '\0', sizeof(x->error)));
	if (x->verdict == FG_SIGVERDICT_UNPARSEABLE) {
		CHECK(x->n_scopes == 0 && x->error[0]);
		return;
	}
	CHECK(!x->error[0]);
	CHECK(x->n_scopes >= 1 && x->n_scopes <= 1 + (n_images ? n_images : 1));
	CHECK(!strcmp(x->scopes[0].name, "default"));
	for (unsigned i = 0; i < x->n_scopes; i++) {
		const struct fg_sigpolicy_scope *s = &x->scopes[i];

		CHECK(s->req >= FG_SIGREQ_INSECURE && s->req <= FG_SIGREQ_REJECT);
		CHECK(memchr(s->name, '\0', sizeof(s->name)) && s->name[0]);
		CHECK(memchr(s->entry, '\0', sizeof(s->entry)) && s->entry[0]);
		CHECK(memchr(s->req_name, '\0', sizeof(s->req_name)) && s->req_name[0]);
		insecure |= s->req == FG_SIGREQ_INSECURE;
	}
	CHECK(insecure == (x->verdict == FG_SIGVERDICT_WEAKENED));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const images[] = {"quay.io/example/os:*", "fedora",
					     "docker://reg.example.io:5000/a/b@sha256:00"};
	struct fg_sigpolicy_cfg cfg = {.images = images};
	char changes[512], *buf;

	if (size < 1)
		return 0;
	cfg.n_images = data[0] & 3;
	if (cfg.n_images > 3)
		cfg.n_images = 3;
	buf = malloc(size - 1 ? size - 1 : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	CHECK(fg_sigpolicy_eval(buf, size - 1, &cfg, &v) == 0);
	check(&v, cfg.n_images);
	CHECK(fg_sigpolicy_eval(buf, size - 1, &cfg, &again) == 0);
	CHECK(memcmp(&v, &again, sizeof(v)) == 0);
	CHECK(fg_sigpolicy_changes(&v, &v, changes, sizeof(changes)) == 0 && !changes[0]);
	fg_sigpolicy_changes(&prev, &v, changes, sizeof(changes));
	CHECK(memchr(changes, '\0', sizeof(changes)));
	prev = v;
	free(buf);
	return 0;
}
