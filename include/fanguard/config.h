/* Reading fanguard's INI files into one plain struct, with validation whose
 * every message reads "file:line: message". Pure: no logging, no globals. */
#ifndef FANGUARD_CONFIG_H
#define FANGUARD_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FG_NAME_MAX	64   /* subtree / writer names and keys, with NUL */
#define FG_LIST_MAX	32   /* items in one space-separated list value */
#define FG_SUBTREES_MAX 64   /* policy uses a 64-bit subtree mask */
#define FG_WRITERS_MAX	4096 /* writer rules across all files */
#define FG_FILES_MAX	64   /* config files loaded (main + drop-ins) */
#define FG_DIAG_MAX	32   /* error messages kept; more are counted */
#define FG_DIAG_LEN	512
#define FG_LINE_MAX	200 /* inih's line buffer; longer lines are errors */

struct fg_deployment; /* twins.h */

/* Logger defaults (fanguard.conf(5), docs/events.md). 7,500 bytes leave
 * room for the syslog header under rsyslog's 8 KiB maxMessageSize and
 * under Splunk's 10,000-byte TRUNCATE. */
#define FG_MAX_LINE_DEFAULT	    7500
#define FG_REPEAT_THRESHOLD_DEFAULT 20
#define FG_REPEAT_WINDOW_DEFAULT    10	 /* seconds */
#define FG_HEARTBEAT_DEFAULT	    3600 /* seconds */

/* Default locations; --config replaces the whole search. The image's policy
 * follows the install prefix (<prefix>/lib/fanguard/fanguard.conf, defined
 * by CMakeLists.txt); /etc/fanguard does not: it is the guarded drop-in dir. */
#ifndef FG_CONF_IMAGE
#error "FG_CONF_IMAGE comes from the build (CMakeLists.txt)"
#endif
#ifndef FG_CONF_IMAGE_DROPINS
#error "FG_CONF_IMAGE_DROPINS comes from the build (CMakeLists.txt)"
#endif
#define FG_CONF_ETC		 "/etc/fanguard/fanguard.conf"
#define FG_CONF_DROPIN_DIR	 "/etc/fanguard/conf.d"
#define FG_STATUS_SOCKET_DEFAULT "/run/fanguard/status.sock"

enum fg_mode { FG_MODE_INHERIT = 0, FG_MODE_ENFORCE, FG_MODE_AUDIT };
enum fg_markkind { FG_MARK_INODE = 0 };
enum fg_failverdict { FG_FAIL_DENY = 0, FG_FAIL_ALLOW };
enum fg_unknown_intent { FG_UNKNOWN_WRITE = 0, FG_UNKNOWN_READ };
enum fg_overload { FG_OVERLOAD_DENY_WRITES = 0, FG_OVERLOAD_ALLOW, FG_OVERLOAD_DENY };
/* Kernel audit records of write decisions (FAN_AUDIT): denials only, all, none. */
enum fg_auditrec { FG_AUDITREC_DENY = 0, FG_AUDITREC_YES, FG_AUDITREC_NO };
enum fg_logsink { FG_SINK_STDERR = 0, FG_SINK_SYSLOG, FG_SINK_FILE, FG_SINK_JOURNAL };
enum fg_logformat { FG_FMT_JSON = 0, FG_FMT_TEXT };
/* When the daemon dies: the kernel lets everything through (release), or
 * the fd store keeps the permission group and openers wait (hold). */
enum fg_onexit { FG_ONEXIT_RELEASE = 0, FG_ONEXIT_HOLD };

/* Where a value came from: index into fg_config.files and a 1-based line. */
struct fg_where {
	int file;
	int line;
};

/* A space-separated list value; strings are heap-owned by the config. */
struct fg_strlist {
	unsigned n;
	char *v[FG_LIST_MAX];
};

/* A list of numeric ids (uid, auid). `any` is set by "*". "unset" is stored
 * as FG_AUID_UNSET (util.h). `admins` (auid only) stands for every login
 * uid that a people rule names (policy.h). n == 0 && !any && !admins means
 * "no condition". */
struct fg_idlist {
	unsigned n;
	bool any;
	bool admins;
	uint32_t v[FG_LIST_MAX];
};

struct fg_subtree_cfg {
	char name[FG_NAME_MAX]; /* from "[subtree NAME]" */
	char *path;		/* absolute, normalised; a dir or a file */
	char key[FG_NAME_MAX];	/* SIEM key, e.g. priv_esc_persist; default: name */
	bool recursive;		/* mark subdirectories too (default yes) */
	enum fg_mode mode;	/* INHERIT means the [fanguard] mode */
	enum fg_markkind mark;	/* inode marks (default) or one mount mark */
	bool optional;		/* guarded where it exists: its absence is no
				 * degradation (the input of a tool that may
				 * not be installed) */
	struct fg_where where;	/* the section header */
	/* A deployment twin (twins.h): 0 for a subtree of the files, else the
	 * index + 1 of the subtree whose copy in deployment dep it is. */
	unsigned twin;
	const struct fg_deployment *dep;
};

struct fg_writer_cfg {
	char name[FG_NAME_MAX];		/* from "[writer NAME]" */
	struct fg_strlist exe;		/* globs on /proc/PID/exe */
	struct fg_strlist comm;		/* globs on comm */
	struct fg_idlist uid;		/* real uid */
	struct fg_idlist auid;		/* loginuid; "unset" or "*" allowed */
	struct fg_strlist ancestor;	/* glob: some ancestor's exe matches */
	struct fg_strlist parent;	/* glob: the parent's exe matches */
	struct fg_strlist cgroup;	/* unit cgroup paths, exact (unitcg.h) */
	struct fg_strlist sha256;	/* the exe's content digest (or its fs-verity
					 * digest), lower-case hex */
	struct fg_strlist subtrees;	/* subtree names; empty means every subtree
					 * but fanguard's own (selfprot.h) */
	bool quiet;			/* counted, not logged */
	bool deployments;		/* applies in deployments' etc too (twins.h) */
	struct fg_where where;		/* the section header */
	struct fg_where subtrees_where; /* the `subtrees` line, for errors */
};

/* Where the transaction passthrough applies (issue 16). */
enum fg_tx_scope {
	FG_TX_SCOPE_DEPLOYMENTS = 0, /* deployment roots and what the upgrade writes
				      * in the running system (fg_tx_in_scope) */
	FG_TX_SCOPE_ALL,	     /* every subtree but fanguard's own */
};

struct fg_transaction_cfg {
	bool present;		  /* a [transaction] section was seen */
	enum fg_tx_scope scope;	  /* default deployments; a later file's value wins */
	struct fg_strlist exe;	  /* exe paths (globs) that open a transaction */
	struct fg_idlist uid;	  /* optional: the transaction process's uid */
	struct fg_strlist cgroup; /* optional: its unit cgroup, exact */
	struct fg_strlist sha256; /* optional: the only contents a transaction exe
				   * may have; also what a temp copy is known by */
	struct fg_where where;
};

/* Where the signature policy is, unless [deployments] signature_policy
 * says otherwise (containers-policy.json(5)). */
#define FG_SIGPOLICY_PATH_DEFAULT "/etc/containers/policy.json"

/* [deployments]: what `fanguard deployments` holds bootc's status to, and
 * whose images the signature policy is judged for. A later file's value
 * replaces an earlier one, lists included. */
struct fg_deployments_cfg {
	bool present;		   /* a [deployments] section was seen */
	struct fg_strlist images;  /* allowed image reference globs; empty: any */
	char *approved;		   /* approved digests file; NULL: nothing approved */
	int64_t min_timestamp;	   /* oldest acceptable build, epoch seconds */
	bool has_min_timestamp;	   /* min_timestamp was given */
	bool require_signature;	   /* signatures must be enforced (default yes) */
	bool allow_rollback;	   /* a queued rollback is fine (default no) */
	bool allow_usroverlay;	   /* a writable /usr overlay is fine (default no) */
	char *signature_policy;	   /* policy.json; NULL: FG_SIGPOLICY_PATH_DEFAULT */
	struct fg_where where;	   /* the first [deployments] header */
	struct fg_where approved_where; /* the approved line, for its errors */
	/* Deployment twins (twins.h): the globs that find deployment roots
	 * (not given: FG_TWINS_ROOTS_DEFAULT; given empty: none) and the
	 * running etc whose subtrees get a twin in each root's etc. */
	struct fg_strlist roots;
	bool roots_set;
	char *etc; /* NULL: "/etc" */
	/* What was found, at load and while running (twins.c): records are
	 * never freed before the config, so a reader's pointer stays good. */
	struct fg_deployment **found; /* FG_TWINS_RECORDS slots */
	unsigned n_found;
	const struct fg_deployment *booted; /* the one whose etc is `etc`; NULL */
	unsigned cap_subtrees;		    /* room in subtrees, fixed once twinned */
	char **retired;			    /* twin paths replaced (readers may hold them) */
	unsigned n_retired;
	unsigned scan_more;   /* roots the last scan found past its room: unguarded */
	unsigned short_twins; /* twins or deployments that found no room since load */
};

struct fg_config {
	enum fg_mode mode;		       /* enforce (default) or audit */
	enum fg_logsink log;		       /* stderr (default), syslog, file, journal */
	char log_path[PATH_MAX];	       /* for log = file:PATH */
	enum fg_logformat log_format;	       /* json (default) or text */
	char status_socket[108];	       /* sun_path; default FG_STATUS_SOCKET_DEFAULT */
	char status_group[FG_NAME_MAX];	       /* group allowed besides root; "" = none */
	enum fg_failverdict on_error;	       /* writer vanished/unresolvable: deny */
	enum fg_unknown_intent unknown_intent; /* intent unreadable: write */
	enum fg_overload on_overload;	       /* internal queue full: deny writes */
	enum fg_auditrec audit_records;	       /* default: an audit record per denial */
	enum fg_onexit on_daemon_exit;	       /* default release; hold: hold.h */
	uint32_t max_line;		       /* bytes per log line, newline included */
	uint32_t repeat_threshold;	       /* full lines per writer and window; 0: off */
	uint32_t repeat_window;		       /* seconds */
	uint32_t heartbeat_interval;	       /* seconds; 0: no heartbeat */
	/* Where trusted code lives (default /usr): executable mappings from
	 * elsewhere make an allowed writer a denied one (ident.c). */
	struct fg_strlist trusted_prefix;

	struct fg_subtree_cfg *subtrees; /* n_subtrees entries, heap */
	unsigned n_subtrees;
	struct fg_writer_cfg *writers; /* n_writers entries, heap, in file order */
	unsigned n_writers;
	struct fg_transaction_cfg transaction;
	struct fg_deployments_cfg deployments;

	char *files[FG_FILES_MAX]; /* every file loaded, in order */
	unsigned n_files;
	uint64_t trusted_files; /* bit i: files[i] is the image's policy (or
				 * was named with --config), so it may name
				 * fanguard's own subtree in a rule */
};

/* Errors collected while loading: each "file:line: message". */
struct fg_diag {
	unsigned n;	  /* messages kept (<= FG_DIAG_MAX) */
	unsigned dropped; /* messages past FG_DIAG_MAX */
	char msg[FG_DIAG_MAX][FG_DIAG_LEN];
};

/* Sets every default. Call before loading files into cfg. */
void fg_config_init(struct fg_config *cfg);

/* Parses one file into cfg: [fanguard] keys override earlier files,
 * subtrees/writers are appended. The file counts as the image's policy
 * (trusted_files). Returns 0, or -EINVAL when the file had
 * errors (each added to diag), or -errno when it could not be read (also
 * added to diag). cfg stays freeable either way. */
int fg_config_load_file(struct fg_config *cfg, const char *path, struct fg_diag *diag);

/* Frees what a string list or a writer entry holds (not the entry). */
void fg_strlist_free(struct fg_strlist *l);
void fg_config_writer_free(struct fg_writer_cfg *w);

/* One file into cfg, as fg_config_load_file does, for the search
 * (confdir.c): with missing_ok a file that does not exist returns -ENOENT
 * without a message; trusted: the image's policy (selfprot.h), not a
 * drop-in. Same returns as fg_config_load_file. */
int fg_config_load_path(struct fg_config *cfg, const char *path, struct fg_diag *diag,
			bool missing_ok, bool trusted);

/* len bytes of data into cfg as the file `name`, as fg_config_load_path
 * loads a file (name is what messages say). Same returns. */
int fg_config_load_mem(struct fg_config *cfg, const char *name, const char *data, size_t len,
		       struct fg_diag *diag, bool trusted);

/* Cross-file validation once every file is in: writers naming unknown
 * subtrees, duplicate subtree paths, and the rules of fanguard's own
 * subtree (selfprot.h). Returns 0 or -EINVAL (diag filled). */
int fg_config_finish(struct fg_config *cfg, struct fg_diag *diag);

/* The whole load: `path` if non-NULL, else FG_CONF_IMAGE,
 * FG_CONF_IMAGE_DROPINS/\*.conf, FG_CONF_ETC and
 * FG_CONF_DROPIN_DIR/\*.conf, each directory in lexical order (missing ones skipped, but at
 * least one must exist); then fg_config_finish. Only FG_CONF_IMAGE is
 * trusted, with the image's drop-ins (the others are drop-ins). With the default search,
 * /etc/fanguard is added as a subtree (key fanguard_config) if no subtree
 * has that path. On success *ret owns everything; on failure *ret is freed and
 * zeroed and diag says why. Returns 0, -EINVAL or -errno. */
int fg_config_load(struct fg_config *ret, const char *path, struct fg_diag *diag);

/* Where the default search looks. The image's file and its drop-in
 * directory (FG_CONF_IMAGE_DROPINS, baked in at build time) are trusted;
 * /etc's are drop-ins. `join` is a drop-in file not installed yet, loaded
 * as if it were dropins/<its name> (replacing a file of that name there):
 * what `fanguard policy install` and `check-config DROPIN` check. */
struct fg_config_search {
	const char *image;
	const char *image_dropins; /* NULL: none */
	const char *etc;
	const char *dropins;
	const char *join; /* NULL: none */
	/* Not NULL: join's bytes, read once already (join only names them),
	 * so that what is checked is what gets installed. */
	const char *join_data;
	size_t join_len;
};

/* The default locations (no join). */
void fg_config_search_default(struct fg_config_search *ret);

/* The search load over s, as fg_config_load(ret, NULL, diag) does over
 * the defaults. Same returns. */
int fg_config_load_with(struct fg_config *ret, const struct fg_config_search *s,
			struct fg_diag *diag);

/* For tests: fg_config_load(ret, NULL, diag) with the search locations
 * given instead of FG_CONF_IMAGE, FG_CONF_ETC and FG_CONF_DROPIN_DIR. */
int fg_config_load_search(struct fg_config *ret, const char *image, const char *etc,
			  const char *dropin_dir, struct fg_diag *diag);

/* Frees everything cfg owns and zeroes it. */
void fg_config_free(struct fg_config *cfg);

/* Appends a formatted message to diag (used by callers for their own
 * errors, e.g. a subtree that cannot be marked). */
void fg_diag_add(struct fg_diag *diag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "FILE:LINE" of a recorded location into buf, or "(built-in)". */
const char *fg_config_where(const struct fg_config *cfg, struct fg_where w, char *buf, size_t size);

/* Names for enums, as they appear in the config and in logs. */
const char *fg_mode_name(enum fg_mode m);

/* Index of the subtree named `name`, or -1. */
int fg_config_find_subtree(const struct fg_config *cfg, const char *name);

#endif
