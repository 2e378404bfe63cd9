/* The log's words for what identity verification found (ident.h). Apart
 * from ident.c so that the formatters, and their fuzzers, need nothing
 * else of it. */
#include "fanguard/ident.h"
#include "fanguard/util.h"

static const char *const problem_names[FG_IDP_N] = {
    [FG_IDP_NONE] = "none",
    [FG_IDP_EXE_UNMAPPED] = "exe-unmapped",
    [FG_IDP_EXE_OTHER_FS] = "exe-other-filesystem",
    [FG_IDP_UNREADABLE] = "unreadable",
    [FG_IDP_FOREIGN_CODE] = "foreign-code",
    [FG_IDP_ANON_CODE] = "anonymous-code",
    [FG_IDP_PRELOAD] = "preload",
    [FG_IDP_TRACED] = "traced",
    [FG_IDP_NO_SESSION] = "no-login-session",
    [FG_IDP_NO_DIGEST] = "digest-unavailable",
    [FG_IDP_DIGEST] = "digest-mismatch",
    [FG_IDP_MODIFIED_CODE] = "modified-code",
    [FG_IDP_PRE_EXEC] = "forked-before-exec",
};

const char *fg_ident_problem_name(unsigned problem)
{
	return problem < FG_IDP_N ? problem_names[problem] : "unknown";
}

bool fg_ident_problem_is_exe(unsigned problem)
{
	return problem == FG_IDP_EXE_UNMAPPED || problem == FG_IDP_EXE_OTHER_FS ||
	       problem == FG_IDP_UNREADABLE;
}

const char *fg_ident_reason(unsigned problem)
{
	if (fg_ident_problem_is_exe(problem))
		return "exe-unverified";
	switch (problem) {
	case FG_IDP_NO_SESSION:
		return "auid-unverified";
	case FG_IDP_NO_DIGEST:
		return "digest-unavailable";
	case FG_IDP_DIGEST:
		return "digest-mismatch";
	default:
		return "code-untrusted";
	}
}

const char *fg_ident_method_name(unsigned method)
{
	static const char *const names[] = {NULL, "path", "sha256", "fs-verity"};

	return method < FG_ARRAY_SIZE(names) ? names[method] : NULL;
}
