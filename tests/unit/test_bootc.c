/* Unit tests for the bootc status parser: documents shaped like bootc's own
 * (tests/data/bootc, written from spec.rs and host-v1.schema.json), every
 * field it reads, nulls, unknown fields, both apiVersions, and malformed
 * input named by its field. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fanguard/bootc.h"
#include "fanguard/util.h"

static struct fg_bootc_host h;
static char err[FG_BOOTC_ERR_LEN];

static char *slurp(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf = malloc(1 << 20);

	snprintf(path, sizeof(path), "%s/bootc/%s", FG_TEST_DATA, name);
	f = fopen(path, "re");
	ck_assert_msg(f != NULL, "%s", path);
	ck_assert_ptr_nonnull(buf);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	buf[*len] = '\0';
	return buf;
}

static int parse_file(const char *name)
{
	size_t len;
	char *buf = slurp(name, &len);
	int r = fg_bootc_parse(buf, len, &h, err, sizeof(err));

	free(buf);
	return r;
}

static int parse_str(const char *json)
{
	return fg_bootc_parse(json, strlen(json), &h, err, sizeof(err));
}

START_TEST(test_fg_bootc_parse_staged_booted)
{
	const struct fg_bootc_entry *st = &h.slot[FG_SLOT_STAGED], *bt = &h.slot[FG_SLOT_BOOTED];

	ck_assert_int_eq(parse_file("seq-02-staged.json"), 0);
	ck_assert_int_eq(h.api, FG_BOOTC_V1);
	ck_assert(h.spec_image.present);
	ck_assert_str_eq(h.spec_image.image, "quay.io/example/os:stable");
	ck_assert_str_eq(h.spec_image.transport, "registry");
	ck_assert_int_eq(h.spec_image.sig, FG_BOOTC_SIG_CONTAINER_POLICY);
	ck_assert(!h.boot_order_rollback);
	ck_assert(st->present && st->image.present);
	ck_assert_str_eq(st->image.digest,
			 "sha256:"
			 "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2");
	ck_assert_str_eq(st->image.version, "1.1");
	/* fractional seconds are read and dropped */
	ck_assert(st->image.has_timestamp);
	ck_assert_int_eq(st->image.timestamp, 1770710400);
	ck_assert_str_eq(st->image.timestamp_s, "2026-02-10T08:00:00.123456789Z");
	ck_assert_str_eq(st->image.architecture, "x86_64");
	ck_assert_str_eq(st->checksum,
			 "7c2d7c2d7c2d7c2d7c2d7c2d7c2d7c2d7c2d7c2d7c2d7c2d7c2d7c2d7c2d7c2d");
	ck_assert_str_eq(st->stateroot, "default");
	ck_assert_uint_eq(st->deploy_serial, 0);
	ck_assert(st->has_ostree && !st->pinned && !st->incompatible && !st->download_only);
	ck_assert(bt->present);
	ck_assert_int_eq(bt->image.timestamp, 1768032000);
	ck_assert(!h.slot[FG_SLOT_ROLLBACK].present);
	ck_assert(!h.rollback_queued && !h.has_usr_overlay);
	ck_assert_str_eq(h.type, "bootcHost");
}
END_TEST

START_TEST(test_fg_bootc_parse_offset_timestamp)
{
	/* 08:00 at +02:00 is 06:00 UTC */
	ck_assert_int_eq(parse_file("seq-06-downgrade-staged.json"), 0);
	ck_assert_int_eq(h.slot[FG_SLOT_STAGED].image.timestamp, 1748757600);
}
END_TEST

START_TEST(test_fg_bootc_parse_rollback_queued)
{
	ck_assert_int_eq(parse_file("seq-04-rollback-queued.json"), 0);
	ck_assert(h.rollback_queued);
	ck_assert(h.boot_order_rollback);
	ck_assert(h.slot[FG_SLOT_ROLLBACK].present);
	ck_assert_str_eq(h.slot[FG_SLOT_ROLLBACK].image.version, "1.0");
}
END_TEST

START_TEST(test_fg_bootc_parse_usroverlay_insecure)
{
	ck_assert_int_eq(parse_file("seq-08-usroverlay.json"), 0);
	ck_assert(h.has_usr_overlay);
	ck_assert_str_eq(h.usr_access, "readWrite");
	ck_assert_str_eq(h.usr_persistence, "transient");
	ck_assert_int_eq(parse_file("seq-07-unapproved.json"), 0);
	ck_assert_int_eq(h.spec_image.sig, FG_BOOTC_SIG_INSECURE);
	/* null version and timestamp */
	ck_assert_str_eq(h.slot[FG_SLOT_STAGED].image.version, "");
	ck_assert(!h.slot[FG_SLOT_STAGED].image.has_timestamp);
}
END_TEST

START_TEST(test_fg_bootc_parse_pinned_others_cached_unknown_fields)
{
	ck_assert_int_eq(parse_file("pinned-other-cached.json"), 0);
	ck_assert(h.slot[FG_SLOT_BOOTED].pinned);
	ck_assert(h.slot[FG_SLOT_BOOTED].cached_update.present);
	ck_assert_str_eq(h.slot[FG_SLOT_BOOTED].cached_update.version, "1.1");
	ck_assert_uint_eq(h.n_other, 1);
	ck_assert_uint_eq(h.other_total, 1);
	ck_assert(h.other[0].pinned);
	ck_assert_str_eq(h.other[0].image.ref.image, "quay.io/centos-bootc/centos-bootc:stream9");
	ck_assert(!h.other[0].image.has_timestamp);
}
END_TEST

START_TEST(test_fg_bootc_parse_v1alpha1_without_signature)
{
	ck_assert_int_eq(parse_file("v1alpha1-nosig.json"), 0);
	ck_assert_int_eq(h.api, FG_BOOTC_V1ALPHA1);
	ck_assert_int_eq(h.spec_image.sig, FG_BOOTC_SIG_ABSENT);
	ck_assert_str_eq(fg_bootc_sig_name(h.spec_image.sig), "");
	ck_assert_str_eq(h.type, "");
	ck_assert(!h.rollback_queued);
	ck_assert_int_eq(parse_file("ostree-remote.json"), 0);
	ck_assert_int_eq(h.spec_image.sig, FG_BOOTC_SIG_OSTREE_REMOTE);
	ck_assert_str_eq(h.spec_image.sig_remote, "fedora");
}
END_TEST

START_TEST(test_fg_bootc_parse_all_null)
{
	ck_assert_int_eq(parse_file("v1-null.json"), 0);
	ck_assert(!h.spec_image.present);
	for (unsigned s = 0; s < FG_SLOT_N; s++)
		ck_assert(!h.slot[s].present);
	/* bootc's minimal document: no spec, no status */
	ck_assert_int_eq(
	    parse_str("{\"apiVersion\":\"org.containers.bootc/v1\",\"kind\":\"BootcHost\"}"), 0);
	ck_assert(!h.slot[FG_SLOT_BOOTED].present);
	/* a deployment without an image is there, with nothing to compare */
	ck_assert_int_eq(
	    parse_str("{\"apiVersion\":\"org.containers.bootc/v1\",\"kind\":\"BootcHost\","
		      "\"status\":{\"booted\":{\"image\":null,\"pinned\":false,"
		      "\"incompatible\":true}}}"),
	    0);
	ck_assert(h.slot[FG_SLOT_BOOTED].present && !h.slot[FG_SLOT_BOOTED].image.present);
	ck_assert(h.slot[FG_SLOT_BOOTED].incompatible);
}
END_TEST

static void assert_bad(const char *json, const char *needle)
{
	ck_assert_int_eq(parse_str(json), -EINVAL);
	ck_assert_msg(strstr(err, needle), "'%s' does not say '%s'", err, needle);
	/* a failed parse leaves nothing half-filled */
	ck_assert(!h.spec_image.present && !h.slot[FG_SLOT_BOOTED].present && h.api == 0);
}

#define HOST(status)                                                                               \
	"{\"apiVersion\":\"org.containers.bootc/v1\",\"kind\":\"BootcHost\"," status "}"
#define BOOTED(img) HOST("\"status\":{\"booted\":{\"image\":" img "}}")
#define REF	    "{\"image\":\"quay.io/x/os:1\",\"transport\":\"registry\"}"

START_TEST(test_fg_bootc_parse_malformed)
{
	assert_bad("", "not valid JSON");
	assert_bad("{\"apiVersion\":", "not valid JSON: line 1");
	assert_bad("[]", "not a JSON object");
	assert_bad("{\"kind\":\"BootcHost\"}", "apiVersion: missing (is this `bootc status");
	assert_bad("{\"apiVersion\":\"org.containers.bootc/v2\",\"kind\":\"BootcHost\"}",
		   "apiVersion: \"org.containers.bootc/v2\" is not");
	assert_bad("{\"apiVersion\":\"org.containers.bootc/v1\",\"kind\":\"Pod\"}",
		   "kind: \"Pod\" is not BootcHost");
	assert_bad(HOST("\"spec\":[]"), "spec: not an object");
	assert_bad(HOST("\"spec\":{\"image\":{\"image\":\"x\"}}"), "spec.image.transport: missing");
	assert_bad(HOST("\"spec\":{\"bootOrder\":\"sideways\"}"), "spec.bootOrder: \"sideways\"");
	assert_bad(HOST("\"spec\":{\"image\":{\"image\":\"x\",\"transport\":\"registry\","
			"\"signature\":\"maybe\"}}"),
		   "spec.image.signature: unknown value \"maybe\"");
	assert_bad(HOST("\"spec\":{\"image\":{\"image\":\"x\",\"transport\":\"registry\","
			"\"signature\":{\"ostreeRemote\":7}}}"),
		   "spec.image.signature.ostreeRemote: not a string");
	assert_bad(HOST("\"status\":{\"booted\":7}"), "status.booted: not an object");
	assert_bad(BOOTED("{\"image\":" REF "}"), "status.booted.image.imageDigest: missing");
	assert_bad(
	    BOOTED("{\"image\":" REF ",\"imageDigest\":\"sha256:1\",\"timestamp\":\"yesterday\"}"),
	    "status.booted.image.timestamp: \"yesterday\" is not an RFC 3339 time");
	assert_bad(BOOTED("{\"imageDigest\":\"sha256:1\"}"), "status.booted.image.image: missing");
	assert_bad(HOST("\"status\":{\"rollback\":{\"pinned\":\"yes\"}}"),
		   "status.rollback.pinned: not a boolean");
	assert_bad(
	    HOST("\"status\":{\"staged\":{\"ostree\":{\"checksum\":\"a\",\"stateroot\":\"d\"}}}"),
	    "status.staged.ostree.deploySerial: missing");
	assert_bad(
	    HOST("\"status\":{\"staged\":{\"ostree\":{\"checksum\":\"a\",\"stateroot\":\"d\","
		 "\"deploySerial\":-1}}}"),
	    "status.staged.ostree.deploySerial: not an integer");
	assert_bad(HOST("\"status\":{\"otherDeployments\":{}}"),
		   "status.otherDeployments: not an array");
	assert_bad(HOST("\"status\":{\"otherDeployments\":[null,{\"pinned\":1}]}"),
		   "status.otherDeployments[1].pinned: not a boolean");
	assert_bad(HOST("\"status\":{\"usrOverlay\":{\"persistence\":\"transient\"}}"),
		   "status.usrOverlay.accessMode: missing");
	assert_bad(HOST("\"status\":{\"rollbackQueued\":\"no\"}"),
		   "status.rollbackQueued: not a boolean");
}
END_TEST

START_TEST(test_fg_bootc_parse_limits)
{
	size_t n = FG_BOOTC_MAX_BYTES + 1;
	char *big = malloc(n), json[2048];

	ck_assert_ptr_nonnull(big);
	memset(big, ' ', n);
	ck_assert_int_eq(fg_bootc_parse(big, n, &h, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "larger than"));
	free(big);
	/* an image reference longer than its buffer is an error, not a cut */
	memset(big = malloc(700), 'a', 699);
	big[699] = '\0';
	snprintf(json, sizeof(json),
		 HOST("\"spec\":{\"image\":{\"image\":\"%s\",\"transport\":\"registry\"}}"), big);
	free(big);
	assert_bad(json, "spec.image.image: longer than 511 bytes");
	/* no room for the message: still refused */
	ck_assert_int_eq(fg_bootc_parse("{}", 2, &h, NULL, 0), -EINVAL);
	ck_assert_int_eq(fg_bootc_parse(NULL, 0, &h, err, sizeof(err)), -EINVAL);
	/* more other deployments than kept: counted, and all checked */
	{
		char many[8192] = HOST("\"status\":{\"otherDeployments\":[");
		size_t l = strlen(many) - 1; /* drop the closing brace */

		for (int i = 0; i < FG_BOOTC_OTHER_MAX + 3; i++)
			l += (size_t)snprintf(many + l, sizeof(many) - l, "%s{\"pinned\":true}",
					      i ? "," : "");
		snprintf(many + l, sizeof(many) - l, "]}}");
		ck_assert_int_eq(parse_str(many), 0);
		ck_assert_uint_eq(h.n_other, FG_BOOTC_OTHER_MAX);
		ck_assert_uint_eq(h.other_total, FG_BOOTC_OTHER_MAX + 3);
	}
}
END_TEST

START_TEST(test_fg_parse_time_forms)
{
	int64_t t = 42;

	ck_assert_int_eq(fg_parse_time("1970-01-01T00:00:00Z", false, &t), 0);
	ck_assert_int_eq(t, 0);
	ck_assert_int_eq(fg_parse_time("2024-02-29T23:59:59-01:30", false, &t), 0);
	ck_assert_int_eq(t, 1709251199 + 5400);
	ck_assert_int_eq(fg_parse_time("2024-05-01", true, &t), 0);
	ck_assert_int_eq(t, 1714521600);
	t = 42;
	ck_assert_int_eq(fg_parse_time("2024-05-01", false, &t), -EINVAL);
	ck_assert_int_eq(fg_parse_time("2023-02-29T00:00:00Z", false, &t), -EINVAL);
	ck_assert_int_eq(fg_parse_time("2024-05-01T25:00:00Z", false, &t), -EINVAL);
	ck_assert_int_eq(fg_parse_time("2024-05-01T12:00:00", false, &t), -EINVAL);
	ck_assert_int_eq(fg_parse_time("2024-05-01T12:00:00.Z", false, &t), -EINVAL);
	ck_assert_int_eq(fg_parse_time("2024-05-01T12:00:00+0100", false, &t), -EINVAL);
	ck_assert_int_eq(fg_parse_time("2024-05-01T12:00:00Zjunk", false, &t), -EINVAL);
	ck_assert_int_eq(fg_parse_time("24-05-01", true, &t), -EINVAL);
	ck_assert_int_eq(t, 42);
}
END_TEST

static Suite *bootc_suite(void)
{
	Suite *s = suite_create("bootc");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_fg_bootc_parse_staged_booted);
	tcase_add_test(tc, test_fg_bootc_parse_offset_timestamp);
	tcase_add_test(tc, test_fg_bootc_parse_rollback_queued);
	tcase_add_test(tc, test_fg_bootc_parse_usroverlay_insecure);
	tcase_add_test(tc, test_fg_bootc_parse_pinned_others_cached_unknown_fields);
	tcase_add_test(tc, test_fg_bootc_parse_v1alpha1_without_signature);
	tcase_add_test(tc, test_fg_bootc_parse_all_null);
	tcase_add_test(tc, test_fg_bootc_parse_malformed);
	tcase_add_test(tc, test_fg_bootc_parse_limits);
	tcase_add_test(tc, test_fg_parse_time_forms);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(bootc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
