/* The signature policy (containers-policy.json(5)) judged by its content:
 * which requirement an image the host may boot from would meet, and
 * whether that still means "signed". A policy an allowed writer weakened
 * is as bad as one an attacker did (DESIGN 14), so the judgement looks at
 * the file, never at who wrote it.
 *
 * What counts, per containers/image's own lookup: for a registry image, the
 * most specific scope of the "docker" transport (the image itself, its
 * repository, each parent namespace, the host, "*.domain" wildcards), else
 * that transport's "" scope, else the global "default". All requirements of
 * the chosen array must hold, so one "reject" rejects, and one signedBy or
 * sigstoreSigned requires a signature. Pure: no I/O but the file reader. */
#ifndef FANGUARD_SIGPOLICY_H
#define FANGUARD_SIGPOLICY_H

#include <stdbool.h>
#include <stddef.h>

#define FG_SIGPOLICY_MAX_BYTES	(1024 * 1024) /* a larger policy.json is unparseable */
#define FG_SIGPOLICY_IMAGES_MAX 16	      /* host images judged; more are ignored */
#define FG_SIGPOLICY_SCOPES_MAX (FG_SIGPOLICY_IMAGES_MAX + 2)
#define FG_SIGPOLICY_NAME_LEN	200 /* scope and entry names, cut beyond */
#define FG_SIGPOLICY_ERR_LEN	320

/* What an array of requirements comes to, weakest first. */
enum fg_sigreq {
	FG_SIGREQ_NONE = 0, /* not judged (unparseable policy) */
	FG_SIGREQ_INSECURE, /* insecureAcceptAnything (signedBaseLayer alone too) */
	FG_SIGREQ_SIGNED,   /* signedBy and/or sigstoreSigned */
	FG_SIGREQ_REJECT,   /* reject: nothing is pulled */
};

enum fg_sigverdict {
	FG_SIGVERDICT_ENFORCED = 0, /* every judged scope requires a signature or rejects */
	FG_SIGVERDICT_WEAKENED,	    /* some judged scope accepts unsigned images */
	FG_SIGVERDICT_UNPARSEABLE,  /* not a valid policy: containers/image refuses it */
};

/* One judged scope. */
struct fg_sigpolicy_scope {
	char name[FG_SIGPOLICY_NAME_LEN];  /* "default", "docker", or the image */
	char entry[FG_SIGPOLICY_NAME_LEN]; /* the policy entry that decides it,
					    * e.g. transports.docker["quay.io/x"] */
	enum fg_sigreq req;
	char req_name[48]; /* reject, insecureAcceptAnything, signedBy,
			    * sigstoreSigned, signedBy+sigstoreSigned */
};

struct fg_sigpolicy_verdict {
	enum fg_sigverdict verdict;
	char error[FG_SIGPOLICY_ERR_LEN]; /* unparseable: why, naming the field */
	unsigned n_scopes;
	struct fg_sigpolicy_scope scopes[FG_SIGPOLICY_SCOPES_MAX];
};

/* Whose images are judged besides "default". */
struct fg_sigpolicy_cfg {
	/* Image references or globs (as in [deployments] images, or bootc's
	 * booted image), looked up in the "docker" transport; an optional
	 * "docker://" or "registry:" prefix is dropped. With none, the
	 * "docker" transport's own default is judged instead. */
	const char *const *images;
	unsigned n_images;
};

/* Judges the policy document json (len bytes, need not be terminated).
 * cfg may be NULL (no images). *ret is always filled: a malformed document
 * is the verdict UNPARSEABLE with ret->error naming the field. Returns 0,
 * or -EINVAL when json or ret is NULL, or -ENOMEM. */
int fg_sigpolicy_eval(const char *json, size_t len, const struct fg_sigpolicy_cfg *cfg,
		      struct fg_sigpolicy_verdict *ret);

/* Reads path (at most FG_SIGPOLICY_MAX_BYTES) and judges it. A file that
 * cannot be read is UNPARSEABLE with the errno in ret->error. Returns 0 or
 * -ENOMEM / -EINVAL as fg_sigpolicy_eval. */
int fg_sigpolicy_eval_file(const char *path, const struct fg_sigpolicy_cfg *cfg,
			   struct fg_sigpolicy_verdict *ret);

const char *fg_sigverdict_name(enum fg_sigverdict v);
const char *fg_sigreq_name(enum fg_sigreq r);

/* "name: before -> after" for every scope whose requirement differs between
 * old and new (a scope only in one of them counts), joined by "; " into out
 * (cap bytes, always terminated). Returns how many scopes changed. */
unsigned fg_sigpolicy_changes(const struct fg_sigpolicy_verdict *old,
			      const struct fg_sigpolicy_verdict *new_, char *out, size_t cap);

#endif
