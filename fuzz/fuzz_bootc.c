/* libFuzzer harness for the bootc status parser and the deployments
 * comparison. The input is the document, passed without a terminator so
 * that ASan sees any read past `len`.
 *
 * Checked besides memory safety: a failed parse says why and leaves the
 * host zeroed; a parsed one has its strings terminated, its counts in
 * range and its timestamps consistent; and compared twice, first with no
 * state (the baseline) and then with the state the first run left, the
 * second run fires nothing: every finding fires once. */
#include "fanguard/bootc.h"
#include "fanguard/deployments.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_bootc: %s:%d: check failed: %s\n", __FILE__,         \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define TERMINATED(a) CHECK(memchr((a), '\0', sizeof(a)) != NULL)

static struct fg_bootc_host host, zero;
static struct fg_deploy_state empty, first, second;
static struct fg_finding found[FG_FINDINGS_MAX];

static void check_ref(const struct fg_bootc_ref *r)
{
	TERMINATED(r->image);
	TERMINATED(r->transport);
	TERMINATED(r->sig_remote);
	CHECK(r->present || (!r->image[0] && r->sig == FG_BOOTC_SIG_ABSENT));
	CHECK(r->sig <= FG_BOOTC_SIG_OSTREE_REMOTE);
}

static void check_image(const struct fg_bootc_image *i)
{
	check_ref(&i->ref);
	TERMINATED(i->version);
	TERMINATED(i->timestamp_s);
	TERMINATED(i->digest);
	TERMINATED(i->architecture);
	CHECK(!i->has_timestamp || i->timestamp_s[0]);
	CHECK(!i->present || i->ref.present);
}

static void check_entry(const struct fg_bootc_entry *e)
{
	check_image(&e->image);
	check_image(&e->cached_update);
	TERMINATED(e->checksum);
	TERMINATED(e->stateroot);
	CHECK(e->present || (!e->image.present && !e->has_ostree));
}

/* The policy the comparison is held to: every rule on. */
static void compare(void)
{
	static char img0[] = "quay.io/example/*", img1[] = "registry.example.com/os:stable";
	static struct fg_deployments_cfg cfg = {
	    .require_signature = true, .has_min_timestamp = true, .min_timestamp = 1700000000};
	static struct fg_approved_entry ae[] = {{.digest = "sha256:aa", .ticket = "T-1"}};
	static struct fg_approved approved = {.n = 1, .e = ae};
	struct fg_deploy_input in = {.cfg = &cfg, .approved = &approved};
	unsigned n;

	cfg.images.n = 2;
	cfg.images.v[0] = img0;
	cfg.images.v[1] = img1;
	fg_deploy_compare(&host, &in, &empty, &first, found, FG_FINDINGS_MAX, &n);
	CHECK(n <= FG_FINDINGS_MAX && first.present && first.n_active == n);
	for (unsigned i = 0; i < n; i++) {
		CHECK(found[i].fired && found[i].action && found[i].reason);
		TERMINATED(found[i].key);
		TERMINATED(found[i].message);
	}
	fg_deploy_compare(&host, &in, &first, &second, found, FG_FINDINGS_MAX, &n);
	for (unsigned i = 0; i < n; i++)
		CHECK(!found[i].fired);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[FG_BOOTC_ERR_LEN];
	char *buf = malloc(size ? size : 1);
	int r;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	memset(err, 0, sizeof(err));
	r = fg_bootc_parse(buf, size, &host, err, sizeof(err));
	if (r < 0) {
		CHECK(err[0] != '\0');
		CHECK(memcmp(&host, &zero, sizeof(host)) == 0);
		free(buf);
		return 0;
	}
	CHECK(r == 0);
	CHECK(host.api == FG_BOOTC_V1ALPHA1 || host.api == FG_BOOTC_V1);
	check_ref(&host.spec_image);
	for (unsigned s = 0; s < FG_SLOT_N; s++)
		check_entry(&host.slot[s]);
	CHECK(host.n_other <= FG_BOOTC_OTHER_MAX && host.n_other <= host.other_total);
	for (unsigned i = 0; i < host.n_other; i++)
		check_entry(&host.other[i]);
	TERMINATED(host.usr_access);
	TERMINATED(host.usr_persistence);
	TERMINATED(host.type);
	compare();
	free(buf);
	return 0;
}
