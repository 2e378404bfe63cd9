/* `fanguard deployments`: bootc's status held to the [deployments] policy
 * and to what the last run saw. The comparison is a pure function of the
 * parsed status, the policy, the approved list, the signature verdict and
 * the saved state; it returns every finding that holds now, each marked
 * `fired` when the last run had not reported it yet, and the state to
 * save. The CLI (deploycli.c) does the reading, logging and printing. */
#ifndef FANGUARD_DEPLOYMENTS_H
#define FANGUARD_DEPLOYMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fanguard/bootc.h"
#include "fanguard/config.h"
#include "fanguard/sigpolicy.h"

#define FG_DEPLOY_STATE_DEFAULT "/var/lib/fanguard/deployments.json"
#define FG_FINDINGS_MAX		64
#define FG_FINDING_KEY_LEN	256
#define FG_TICKET_LEN		128
#define FG_APPROVED_MAX		4096
#define FG_DEPLOY_ERR_LEN	512

/* One approved digest and its change ticket ("" when none was given). */
struct fg_approved_entry {
	char digest[160];
	char ticket[FG_TICKET_LEN];
};

struct fg_approved {
	unsigned n;
	struct fg_approved_entry *e; /* heap, n entries */
};

/* A deployment as a finding names it and the state remembers it. */
struct fg_deploy_mem {
	bool present;
	char digest[160];
	char image[FG_BOOTC_REF_LEN];
	char transport[32];
	char version[128];
	bool has_timestamp;
	int64_t timestamp;
	char signature[32]; /* how it was fetched: insecure, containerPolicy, ... */
};

/* What one run leaves for the next. */
struct fg_deploy_state {
	bool present; /* loaded from a file: false on the first run */
	struct fg_deploy_mem slot[FG_SLOT_N];
	struct fg_deploy_mem spec;	    /* spec.image (image, transport, signature) */
	struct fg_deploy_mem newest_booted; /* the newest build ever seen booted */
	unsigned n_active;		    /* findings that held at the last run */
	char active[FG_FINDINGS_MAX][FG_FINDING_KEY_LEN];
};

struct fg_finding {
	const char *action;	  /* deployment-staged, booted-changed, ... (static) */
	bool alert;		  /* false: informational */
	bool fired;		  /* new since the last run: log it */
	const char *slot;	  /* staged, booted, rollback, spec, or NULL (the host) */
	const char *reason;	  /* a word: not-approved, older-than-booted, ... */
	struct fg_deploy_mem dep; /* the deployment concerned (may be !present) */
	bool approved;
	char ticket[FG_TICKET_LEN];
	char key[FG_FINDING_KEY_LEN]; /* what makes it the same finding next time */
	char message[512];
};

/* Everything the comparison looks at besides the status and the state. */
struct fg_deploy_input {
	const struct fg_deployments_cfg *cfg;
	const struct fg_approved *approved;	/* NULL: no approved file */
	const struct fg_sigpolicy_verdict *sig; /* policy.json judged for the spec
						 * image (a scope named after it);
						 * NULL: not read */
	const char *sig_path;			/* where it was read, for messages */
};

/* Reads the approved file: "DIGEST [TICKET]" a line, '#' comments and
 * blank lines ignored. Returns 0, or -EINVAL / -errno with "file:line:
 * message" in err (cap bytes). On failure *ret is empty. */
int fg_approved_load(const char *path, struct fg_approved *ret, char *err, size_t cap);
void fg_approved_free(struct fg_approved *a);
const struct fg_approved_entry *fg_approved_find(const struct fg_approved *a, const char *digest);

/* Reads a saved state. Returns 0, -ENOENT when there is none (the first
 * run), or -EINVAL / -errno with the reason in err. */
int fg_deploy_state_load(const char *path, struct fg_deploy_state *ret, char *err, size_t cap);
/* Writes st to path atomically (a temporary file in the same directory,
 * fsync, rename, fsync of the directory), mode 0640; creates the directory
 * (0750) when missing. Returns 0 or -errno. */
int fg_deploy_state_save(const char *path, const struct fg_deploy_state *st);

/* Compares: fills out[] (at most max) with every finding that holds now,
 * *ret_n with their count, and *next with the state to save. prev may be
 * an empty state (present false): the baseline. Returns 0, or -E2BIG when
 * findings were left out for lack of room (the rest are still filled). */
int fg_deploy_compare(const struct fg_bootc_host *h, const struct fg_deploy_input *in,
		      const struct fg_deploy_state *prev, struct fg_deploy_state *next,
		      struct fg_finding *out, unsigned max, unsigned *ret_n);

/* Every finding action, NULL past the end (for the man page test and the
 * ECS fixtures). */
const char *fg_deploy_action(unsigned i);

#endif
