/* `bootc status --format=json` read into a plain struct: the BootcHost
 * object of bootc's crates/lib/src/spec.rs (apiVersion
 * org.containers.bootc/v1alpha1 or v1). Unknown fields are ignored, as
 * serde does; a known field of the wrong type, a missing required one or
 * a value longer than its buffer makes the whole document malformed, with
 * a message naming the field. Pure: no I/O, no logging. */
#ifndef FANGUARD_BOOTC_H
#define FANGUARD_BOOTC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FG_BOOTC_MAX_BYTES (4 * 1024 * 1024) /* a larger status is malformed */
#define FG_BOOTC_OTHER_MAX 16		     /* otherDeployments kept; more are counted */
#define FG_BOOTC_REF_LEN   512
#define FG_BOOTC_ERR_LEN   320

enum fg_bootc_api { FG_BOOTC_V1ALPHA1 = 1, FG_BOOTC_V1 };

/* spec.image.signature / ImageSignature. */
enum fg_bootc_sig {
	FG_BOOTC_SIG_ABSENT = 0,       /* not given: bootc defers to policy.json */
	FG_BOOTC_SIG_INSECURE,	       /* "insecure": nothing is verified */
	FG_BOOTC_SIG_CONTAINER_POLICY, /* "containerPolicy": policy.json decides */
	FG_BOOTC_SIG_OSTREE_REMOTE,    /* {"ostreeRemote": NAME}: the remote's keys */
};

/* ImageReference: spec.image, and each deployment's image.image. */
struct fg_bootc_ref {
	bool present;
	char image[FG_BOOTC_REF_LEN]; /* e.g. quay.io/fedora/fedora-bootc:42 */
	char transport[32];	      /* registry, oci, containers-storage, ... */
	enum fg_bootc_sig sig;
	char sig_remote[128]; /* FG_BOOTC_SIG_OSTREE_REMOTE: the remote */
};

/* ImageStatus: what a deployment was made from. */
struct fg_bootc_image {
	bool present;
	struct fg_bootc_ref ref;
	char version[128];     /* "" when null */
	bool has_timestamp;    /* the build time is known */
	int64_t timestamp;     /* seconds since the epoch */
	char timestamp_s[40];  /* as bootc wrote it */
	char digest[160];      /* imageDigest, e.g. sha256:... */
	char architecture[32]; /* "" when absent */
};

/* BootEntry: one deployment. */
struct fg_bootc_entry {
	bool present; /* false: the slot is null or absent */
	struct fg_bootc_image image;
	struct fg_bootc_image cached_update; /* last fetched update, if any */
	bool incompatible, pinned, download_only, soft_reboot_capable;
	bool has_ostree;
	char checksum[80]; /* ostree commit */
	uint32_t deploy_serial;
	char stateroot[64];
};

enum fg_bootc_slot { FG_SLOT_STAGED = 0, FG_SLOT_BOOTED, FG_SLOT_ROLLBACK, FG_SLOT_N };

struct fg_bootc_host {
	enum fg_bootc_api api;
	struct fg_bootc_ref spec_image; /* spec.image; .present false when null */
	bool boot_order_rollback;	/* spec.bootOrder == "rollback" */
	struct fg_bootc_entry slot[FG_SLOT_N];
	struct fg_bootc_entry other[FG_BOOTC_OTHER_MAX];
	unsigned n_other;     /* kept in other[] */
	unsigned other_total; /* in the document */
	bool rollback_queued;
	bool has_usr_overlay;	  /* status.usrOverlay is an object */
	char usr_access[16];	  /* readOnly / readWrite */
	char usr_persistence[16]; /* transient / persistent */
	char type[32];		  /* status.type, e.g. bootcHost; "" when null */
};

/* Parses json (len bytes, need not be terminated) into *ret (zeroed
 * first). Returns 0, or -EINVAL with a message naming the field in err
 * (errcap bytes, may be 0), or -ENOMEM. */
int fg_bootc_parse(const char *json, size_t len, struct fg_bootc_host *ret, char *err,
		   size_t errcap);

const char *fg_bootc_slot_name(enum fg_bootc_slot s);
/* "insecure", "containerPolicy", "ostreeRemote" or "" when absent. */
const char *fg_bootc_sig_name(enum fg_bootc_sig s);

#endif
