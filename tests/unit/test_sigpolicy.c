/* Unit tests for sigpolicy: policy.json documents (tests/data/policy and
 * inline ones) judged for the host's image, with the entry that decides
 * each scope, malformed documents naming their field, and the changes
 * between two verdicts. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fanguard/sigpolicy.h"
#include "fanguard/util.h"

static struct fg_sigpolicy_verdict v;

static void eval_file(const char *name, const char *const *images, unsigned n)
{
	char path[512];
	struct fg_sigpolicy_cfg cfg = {.images = images, .n_images = n};

	snprintf(path, sizeof(path), "%s/policy/%s", FG_TEST_DATA, name);
	ck_assert_int_eq(fg_sigpolicy_eval_file(path, &cfg, &v), 0);
}

static void eval_str(const char *json, const char *image)
{
	const char *images[1] = {image};
	struct fg_sigpolicy_cfg cfg = {.images = images, .n_images = image ? 1 : 0};

	ck_assert_int_eq(fg_sigpolicy_eval(json, strlen(json), &cfg, &v), 0);
}

static const struct fg_sigpolicy_scope *scope(const char *name)
{
	for (unsigned i = 0; i < v.n_scopes; i++)
		if (!strcmp(v.scopes[i].name, name))
			return &v.scopes[i];
	ck_abort_msg("no scope %s", name);
	return NULL;
}

#define ASSERT_SCOPE(name_, req_, entry_)                                                          \
	do {                                                                                       \
		const struct fg_sigpolicy_scope *s_ = scope(name_);                                \
		ck_assert_str_eq(s_->req_name, req_);                                              \
		ck_assert_str_eq(s_->entry, entry_);                                               \
	} while (0)

START_TEST(test_fg_sigpolicy_eval_secure)
{
	const char *img[] = {"quay.io/example/os:stable", "registry.access.redhat.com/rhel10/os"};

	eval_file("secure.json", img, 2);
	ck_assert_str_eq(fg_sigverdict_name(v.verdict), "enforced");
	ck_assert_uint_eq(v.n_scopes, 3);
	ASSERT_SCOPE("default", "reject", "default");
	ASSERT_SCOPE("quay.io/example/os:stable", "sigstoreSigned",
		     "transports.docker[\"quay.io/example\"]");
	/* the host is the last namespace of the chain */
	ASSERT_SCOPE("registry.access.redhat.com/rhel10/os", "signedBy",
		     "transports.docker[\"registry.access.redhat.com\"]");
	ck_assert_str_eq(v.error, "");
}
END_TEST

START_TEST(test_fg_sigpolicy_eval_insecure_default)
{
	eval_file("insecure-default.json", NULL, 0);
	ck_assert_str_eq(fg_sigverdict_name(v.verdict), "weakened");
	ASSERT_SCOPE("default", "insecureAcceptAnything", "default");
	/* without images, the docker transport's own default is judged */
	ASSERT_SCOPE("docker", "insecureAcceptAnything", "default");
}
END_TEST

START_TEST(test_fg_sigpolicy_eval_transport_override)
{
	const char *img[] = {"quay.io/example/os:stable"};

	/* docker's "" accepts anything, the host's repository is signed */
	eval_file("docker-override.json", img, 1);
	ck_assert_str_eq(fg_sigverdict_name(v.verdict), "enforced");
	ASSERT_SCOPE("quay.io/example/os:stable", "sigstoreSigned",
		     "transports.docker[\"quay.io/example/os\"]");
	/* ...but without images it is docker's "" that counts */
	eval_file("docker-override.json", NULL, 0);
	ck_assert_str_eq(fg_sigverdict_name(v.verdict), "weakened");
	ASSERT_SCOPE("docker", "insecureAcceptAnything", "transports.docker[\"\"]");
	/* and another registry's image falls to it */
	img[0] = "ghcr.io/other/os:1";
	eval_file("docker-override.json", img, 1);
	ck_assert_str_eq(fg_sigverdict_name(v.verdict), "weakened");
	ASSERT_SCOPE("ghcr.io/other/os:1", "insecureAcceptAnything", "transports.docker[\"\"]");
}
END_TEST

START_TEST(test_fg_sigpolicy_eval_more_specific_scope_wins)
{
	const char *img[] = {"quay.io/example/os:stable"};

	/* the repository's own entry beats its namespace's */
	eval_file("repo-weakened.json", img, 1);
	ck_assert_str_eq(fg_sigverdict_name(v.verdict), "weakened");
	ASSERT_SCOPE("quay.io/example/os:stable", "insecureAcceptAnything",
		     "transports.docker[\"quay.io/example/os\"]");
	/* a tag's entry applies to that tag only */
	eval_file("tag-weakened.json", img, 1);
	ck_assert_str_eq(fg_sigverdict_name(v.verdict), "enforced");
	img[0] = "quay.io/example/os:debug";
	eval_file("tag-weakened.json", img, 1);
	ck_assert_str_eq(fg_sigverdict_name(v.verdict), "weakened");
	ASSERT_SCOPE("quay.io/example/os:debug", "insecureAcceptAnything",
		     "transports.docker[\"quay.io/example/os:debug\"]");
}
END_TEST

START_TEST(test_fg_sigpolicy_eval_glob_takes_the_weakest)
{
	const char *img[] = {"quay.io/example/os:*"};

	/* some tag the glob allows is accepted unsigned */
	eval_file("tag-weakened.json", img, 1);
	ck_assert_str_eq(fg_sigverdict_name(v.verdict), "weakened");
	ASSERT_SCOPE("quay.io/example/os:*", "insecureAcceptAnything",
		     "transports.docker[\"quay.io/example/os:debug\"]");
	eval_file("secure.json", img, 1);
	ck_assert_str_eq(fg_sigverdict_name(v.verdict), "enforced");
	ASSERT_SCOPE("quay.io/example/os:*", "sigstoreSigned",
		     "transports.docker[\"quay.io/example\"]");
}
END_TEST

START_TEST(test_fg_sigpolicy_eval_wildcard_host)
{
	const char *img[] = {"reg.example.io/os:1", "other.example.io/os:1", "example.io/os:1"};

	eval_file("wildcard-host.json", img, 3);
	ASSERT_SCOPE("reg.example.io/os:1", "signedBy", "transports.docker[\"reg.example.io/os\"]");
	ASSERT_SCOPE("other.example.io/os:1", "insecureAcceptAnything",
		     "transports.docker[\"*.example.io\"]");
	/* *.example.io does not cover example.io itself */
	ASSERT_SCOPE("example.io/os:1", "reject", "default");
	ck_assert_str_eq(fg_sigverdict_name(v.verdict), "weakened");
}
END_TEST

START_TEST(test_fg_sigpolicy_eval_expanded_names)
{
	/* "fedora" is docker.io/library/fedora:latest to containers/image */
	eval_str("{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{"
		 "\"docker.io/library/fedora:latest\":[{\"type\":\"insecureAcceptAnything\"}]}}}",
		 "fedora");
	ASSERT_SCOPE("fedora", "insecureAcceptAnything",
		     "transports.docker[\"docker.io/library/fedora:latest\"]");
	/* a digest reference drops its tag; docker:// is dropped too */
	eval_str("{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{"
		 "\"quay.io/x/os@sha256:00\":[{\"type\":\"insecureAcceptAnything\"}]}}}",
		 "docker://quay.io/x/os:1@sha256:00");
	ASSERT_SCOPE("docker://quay.io/x/os:1@sha256:00", "insecureAcceptAnything",
		     "transports.docker[\"quay.io/x/os@sha256:00\"]");
	/* a local transport is judged by its "" scope */
	eval_str("{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"oci\":{"
		 "\"\":[{\"type\":\"insecureAcceptAnything\"}]}}}",
		 "oci:/var/lib/images/os");
	ASSERT_SCOPE("oci:/var/lib/images/os", "insecureAcceptAnything", "transports.oci[\"\"]");
}
END_TEST

START_TEST(test_fg_sigpolicy_eval_requirement_arrays)
{
	eval_file("both-signed.json", NULL, 0);
	ASSERT_SCOPE("default", "signedBy+sigstoreSigned", "default");
	ck_assert_str_eq(fg_sigverdict_name(v.verdict), "enforced");
	/* a base layer's identity is not the image's signature */
	eval_file("base-layer-only.json", NULL, 0);
	ASSERT_SCOPE("default", "signedBaseLayer", "default");
	ck_assert_str_eq(fg_sigverdict_name(v.verdict), "weakened");
	/* every requirement must hold: one reject rejects */
	eval_str("{\"default\":[{\"type\":\"insecureAcceptAnything\"},{\"type\":\"reject\"}]}",
		 NULL);
	ASSERT_SCOPE("default", "reject", "default");
	/* insecureAcceptAnything next to signedBy still needs the signature */
	eval_str("{\"default\":[{\"type\":\"insecureAcceptAnything\"},{\"type\":\"signedBy\","
		 "\"keyType\":\"GPGKeys\",\"keyData\":\"AAAA\"}]}",
		 NULL);
	ASSERT_SCOPE("default", "signedBy", "default");
}
END_TEST

/* A malformed document is unparseable, and the message names the field. */
static void assert_bad(const char *name, const char *json, const char *needle)
{
	if (name)
		eval_file(name, NULL, 0);
	else
		eval_str(json, NULL);
	ck_assert_str_eq(fg_sigverdict_name(v.verdict), "unparseable");
	ck_assert_uint_eq(v.n_scopes, 0);
	ck_assert_msg(strstr(v.error, needle), "'%s' does not say '%s'", v.error, needle);
}

START_TEST(test_fg_sigpolicy_eval_malformed)
{
	assert_bad("malformed-type.json", NULL,
		   "transports.docker[\"quay.io/example/os\"][0].type: \"insecureAcceptAnythin\"");
	assert_bad("duplicate-key.json", NULL, "duplicate");
	assert_bad("not-json.json", NULL, "not valid JSON: line 2");
	assert_bad("signedby-nokey.json", NULL, "default[0]: needs exactly one of keyPath");
	assert_bad(NULL, "[]", "not a JSON object");
	assert_bad(NULL, "{}", "default: missing");
	assert_bad(NULL, "{\"default\":[]}", "default: an empty array");
	assert_bad(NULL, "{\"default\":{}}", "default: must be an array");
	assert_bad(NULL, "{\"default\":[\"reject\"]}",
		   "default[0]: a requirement must be an object");
	assert_bad(NULL, "{\"default\":[{}]}", "default[0].type: missing");
	assert_bad(NULL, "{\"default\":[{\"type\":\"reject\"}],\"extra\":1}",
		   "extra: unknown top-level field");
	assert_bad(NULL, "{\"default\":[{\"type\":\"reject\"}],\"transports\":[]}",
		   "transports: must be an object");
	assert_bad(NULL, "{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":[]}}",
		   "transports.docker: must be an object of scopes");
	assert_bad(NULL,
		   "{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{\"x\":{}}}}",
		   "transports.docker[\"x\"]: must be an array");
	assert_bad(NULL,
		   "{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"X509\","
		   "\"keyPath\":\"/k\"}]}",
		   "default[0].keyType: \"X509\" is not GPGKeys");
	assert_bad(NULL, "{\"default\":[{\"type\":\"sigstoreSigned\"}]}",
		   "default[0]: names no key");
}
END_TEST

START_TEST(test_fg_sigpolicy_eval_file_unreadable)
{
	ck_assert_int_eq(fg_sigpolicy_eval_file("/nonexistent/policy.json", NULL, &v), 0);
	ck_assert_str_eq(fg_sigverdict_name(v.verdict), "unparseable");
	ck_assert_ptr_nonnull(strstr(v.error, "No such file"));
	ck_assert_int_eq(fg_sigpolicy_eval(NULL, 0, NULL, &v), -EINVAL);
}
END_TEST

START_TEST(test_fg_sigpolicy_eval_size_limit)
{
	size_t n = FG_SIGPOLICY_MAX_BYTES + 1;
	char *big = malloc(n);

	ck_assert_ptr_nonnull(big);
	memset(big, ' ', n);
	ck_assert_int_eq(fg_sigpolicy_eval(big, n, NULL, &v), 0);
	ck_assert_str_eq(fg_sigverdict_name(v.verdict), "unparseable");
	ck_assert_ptr_nonnull(strstr(v.error, "larger than"));
	free(big);
}
END_TEST

START_TEST(test_fg_sigpolicy_changes_names_the_scopes)
{
	static struct fg_sigpolicy_verdict old;
	const char *img[] = {"quay.io/example/os:stable"};
	char out[512];

	eval_file("secure.json", img, 1);
	old = v;
	ck_assert_uint_eq(fg_sigpolicy_changes(&old, &v, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
	eval_file("insecure-default.json", img, 1);
	ck_assert_uint_eq(fg_sigpolicy_changes(&old, &v, out, sizeof(out)), 2);
	ck_assert_str_eq(out,
			 "default: reject -> insecureAcceptAnything; "
			 "quay.io/example/os:stable: sigstoreSigned -> insecureAcceptAnything");
	/* unparseable: every scope is gone */
	eval_file("not-json.json", img, 1);
	ck_assert_uint_eq(fg_sigpolicy_changes(&old, &v, out, sizeof(out)), 2);
	ck_assert_ptr_nonnull(strstr(out, "default: reject -> none"));
	/* a tiny buffer stays terminated */
	ck_assert_uint_eq(fg_sigpolicy_changes(&old, &v, out, 8), 2);
	ck_assert_uint_eq(strlen(out), 7);
}
END_TEST

static Suite *sigpolicy_suite(void)
{
	Suite *s = suite_create("sigpolicy");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_fg_sigpolicy_eval_secure);
	tcase_add_test(tc, test_fg_sigpolicy_eval_insecure_default);
	tcase_add_test(tc, test_fg_sigpolicy_eval_transport_override);
	tcase_add_test(tc, test_fg_sigpolicy_eval_more_specific_scope_wins);
	tcase_add_test(tc, test_fg_sigpolicy_eval_glob_takes_the_weakest);
	tcase_add_test(tc, test_fg_sigpolicy_eval_wildcard_host);
	tcase_add_test(tc, test_fg_sigpolicy_eval_expanded_names);
	tcase_add_test(tc, test_fg_sigpolicy_eval_requirement_arrays);
	tcase_add_test(tc, test_fg_sigpolicy_eval_malformed);
	tcase_add_test(tc, test_fg_sigpolicy_eval_file_unreadable);
	tcase_add_test(tc, test_fg_sigpolicy_eval_size_limit);
	tcase_add_test(tc, test_fg_sigpolicy_changes_names_the_scopes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sigpolicy_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
