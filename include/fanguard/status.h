/* What `fanguard status` shows, and the unix socket it is asked over.
 *
 * The renderers are pure functions of a snapshot (so they are unit tested
 * from a filled struct, without a daemon). The server lives in the daemon's
 * poll loop: every socket is non-blocking, clients and request sizes are
 * capped, and a client that stalls is dropped, so no client can hold up the
 * answer to a permission event.
 *
 * Protocol: the client sends one line ("status json", "status text" or
 * "reload"); the daemon answers with a status line ("OK enforcing", "OK
 * audit", "OK degraded", "OK reloaded generation N", "OK allow" / "OK deny"
 * for explain and last, "ERR ...") and for
 * status the body, then closes. */
#ifndef FANGUARD_STATUS_H
#define FANGUARD_STATUS_H

#include <stdbool.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "fanguard/config.h"
#include "fanguard/fan.h"
#include "fanguard/pcache.h"
#include "fanguard/state.h"

#define FG_STATUS_CLIENTS_MAX 8
/* A longer request closes the client; an explain request carries its
 * paths in hex. */
#define FG_STATUS_REQ_MAX     24576
#define FG_STATUS_IDLE_MS     2000	   /* a request must arrive within this */
#define FG_STATUS_BUF	      (256 * 1024) /* one rendered reply at most */
#define FG_STATUS_WIDTH	      80	   /* the text form fits this terminal */

/* Everything the renderers read. Pointers are borrowed. */
struct fg_snapshot {
	pid_t pid;
	const char *version;
	struct timespec started; /* CLOCK_REALTIME */
	uint64_t uptime_ns;
	uint64_t now_mono_ns; /* for the age of transactions in progress */
	uint64_t generation;
	const struct fg_config *cfg;
	const struct fg_fan_subtree *st; /* cfg->n_subtrees entries */
	const struct fg_fan_check *check; /* a fresh check of each; NULL: none */
	uint64_t marks;			 /* all permission marks */
	uint64_t fan_mark_errors;
	const struct fg_state *state;
	uint64_t log_written, log_dropped, log_errors;
	int selftest;		    /* 1 passed, 0 not run, -1 failed */
	const struct fg_pcache *pc; /* the writer cache; NULL: none */
	const char *audit_records;  /* kernel audit records: on, off, why not; NULL: not known */
	/* on, off, unknown: whether a set login uid can change at all */
	const char *loginuid_immutable;
	uint64_t digests_hashed, digests_failed; /* executables hashed (ident.c) */
	const char *on_daemon_exit; /* hold or release; NULL: not known */
	const char *fd_store;	    /* hold mode: held, NOT HELD (why); release: released */
	uint64_t takeovers;	    /* restarts that took the held group over */
	const char *sigpolicy;	    /* policy.json's verdict; NULL: not watched yet */
	const char *instance;	    /* fanguard.instance, for event ids; NULL: none */
};

enum fg_status_word { FG_STATUS_ENFORCING = 0, FG_STATUS_AUDIT, FG_STATUS_DEGRADED };

/* degraded when a subtree is missing, unmarked (by the fresh check) or a
 * mark failed, else audit when any subtree is in audit mode, else
 * enforcing. */
enum fg_status_word fg_status_word(const struct fg_snapshot *s);
const char *fg_status_word_name(enum fg_status_word w);

/* Render into buf (cap bytes, terminated). Return the length; the JSON is
 * always one valid object (cut members are flagged "truncated"), the text
 * is cut at a line boundary when it does not fit. */
size_t fg_status_render_json(const struct fg_snapshot *s, char *buf, size_t cap);
size_t fg_status_render_text(const struct fg_snapshot *s, char *buf, size_t cap);

/* Copies the printable form of src into dst (width columns + NUL):
 * control and non-ASCII bytes become '?' (paths are attacker-chosen and
 * land on a terminal), and a longer string keeps its head and tail around
 * "...". Returns dst. */
char *fg_status_fit(char *dst, const char *src, size_t width);

enum fg_status_req {
	FG_REQ_STATUS_JSON = 0,
	FG_REQ_STATUS_TEXT,
	FG_REQ_RELOAD,
	FG_REQ_EXPLAIN, /* "explain ARGS" (explain.h: fg_explain_req_encode) */
	FG_REQ_LAST,	/* "last [exe=HEX] [seq=N] [id=ID] [json=1]": a recent denial */
};

/* Writes the whole reply (status line and body) for req into buf (cap
 * bytes); returns its length. args: the request's arguments (after the
 * word; "" for none), the callee's to change. Called on the main thread. */
typedef size_t (*fg_status_answer_fn)(void *ctx, enum fg_status_req req, char *args, char *buf,
				      size_t cap);

struct fg_status_client {
	int fd;		      /* -1: free slot */
	uint64_t deadline_ns; /* monotonic: drop if no request by then */
	size_t req_len;
	char req[FG_STATUS_REQ_MAX + 2]; /* one byte over the cap shows it was passed, + NUL */
	char *out;			 /* the reply, owned; NULL while reading */
	size_t out_len, out_off;
};

struct fg_status_server {
	int fd; /* listening socket, -1 when closed */
	char path[108];
	bool have_group;
	gid_t group;
	char *scratch; /* FG_STATUS_BUF bytes for rendering */
	struct fg_status_client c[FG_STATUS_CLIENTS_MAX];
	uint64_t refused;     /* peers that were not allowed */
	uint64_t turned_away; /* connections over the client cap */
};

/* Binds path (unlinking a stale socket, creating its directory 0755),
 * mode 0600, or 0660 owned by root:group when group is non-empty. Returns
 * 0 or -errno (-ENOENT for an unknown group). */
int fg_status_open(struct fg_status_server *srv, const char *path, const char *group);
/* Closes every client and the socket, and unlinks it. Safe to call twice. */
void fg_status_close(struct fg_status_server *srv);

/* Fills 1 + FG_STATUS_CLIENTS_MAX pollfds (unused ones get fd -1). */
void fg_status_pollfds(const struct fg_status_server *srv, struct pollfd *p);
/* Milliseconds until the next client deadline, or -1 for none. */
int fg_status_timeout_ms(const struct fg_status_server *srv, uint64_t now_ns);
/* Handles what poll reported on the fds of fg_status_pollfds, and drops
 * clients past their deadline. Never blocks. */
void fg_status_dispatch(struct fg_status_server *srv, const struct pollfd *p, uint64_t now_ns,
			fg_status_answer_fn answer, void *ctx);

/* Whether a peer (uid, gid, pid) may talk to the server: root, or a member
 * of the group (primary, or supplementary per /proc/PID/status). */
bool fg_status_peer_allowed(const struct fg_status_server *srv, uid_t uid, gid_t gid, pid_t pid);

#endif
