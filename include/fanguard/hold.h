/* Holding the gate across restarts (on_daemon_exit = hold, DESIGN 16).
 *
 * The kernel lets every pending and future open through once the last
 * reference to a permission group is gone. In hold mode that reference
 * outlives us: right after fanotify_init the group goes to the service
 * manager's fd store (systemd, or any supervisor speaking the same
 * NOTIFY_SOCKET protocol), so a kill -9 leaves openers blocked instead of
 * let through, and the next fanguardd gets the group back in $LISTEN_FDS.
 *
 * The one trap is the events the dead daemon had read and not answered:
 * the kernel matches a response to such an event by the fd number it had
 * in the dead process, so only a response naming that number releases it.
 * A journal records those numbers: a memfd, stored too, mapped here, one
 * byte per fd number, written by the answering thread as it reads and
 * answers (plain stores, no syscall). A successor answers every journaled
 * number before its first read of the group (once it reads, numbers are
 * reused and a response could hit a new event): deny, unless the event was
 * known to be a read. Without a usable journal it sweeps every number up
 * to the fd limit, denying.
 *
 * A takeover is a reload into a fresh group: the stored group keeps its
 * old marks while the successor loads its config (a bridge thread answers
 * our own opens and reads on it meanwhile, holding everything else), marks
 * a new group and hands it to the store, and only then is the stored one
 * drained and dropped. So no stale mark outlives a config change. */
#ifndef FANGUARD_HOLD_H
#define FANGUARD_HOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "fanguard/config.h"
#include "fanguard/proc.h"

#define FG_HOLD_NAME_MAX 16
#define FG_HOLD_GROUPS	 2 /* stored groups at most: the current one and one being replaced */
/* Names in the store: the group (alternating with each new one, so the
 * replaced one can be removed by name) and the journal. */
#define FG_HOLD_NAME_A	     "fanotify"
#define FG_HOLD_NAME_B	     "fanotify-next"
#define FG_HOLD_NAME_JOURNAL "fanotify-journal"
#define FG_HOLD_JOURNAL_MAX  (1U << 22) /* fd numbers journaled at most */

/* What a journal byte says of the event read under that fd number. */
enum fg_hold_entry { FG_HOLD_FREE = 0, FG_HOLD_READ, FG_HOLD_WRITE, FG_HOLD_UNKNOWN };

/* The journal's layout in the memfd; shared with every successor. */
struct fg_hold_journal {
	uint32_t magic;			 /* FG_HOLD_MAGIC */
	uint32_t size;			 /* entries in ent[] */
	uint32_t reading;		 /* set around a read: its fds may not all be noted yet */
	uint32_t overflow;		 /* an fd number >= size was read: not journaled */
	uint64_t takeovers;		 /* successors that took the group over so far */
	char complete[FG_HOLD_NAME_MAX]; /* the stored group known to carry every mark */
	uint8_t ent[];			 /* enum fg_hold_entry, by fd number */
};

/* ---- the answering thread's side: stores into the mapping, no syscall ---- */

static inline void fg_hold_reading(struct fg_hold_journal *j, bool on)
{
	if (j)
		__atomic_store_n(&j->reading, on, __ATOMIC_RELEASE);
}

static inline void fg_hold_note(struct fg_hold_journal *j, int fd, enum fg_intent intent)
{
	uint8_t v = intent == FG_INTENT_READ	? FG_HOLD_READ
		    : intent == FG_INTENT_WRITE ? FG_HOLD_WRITE
						: FG_HOLD_UNKNOWN;

	if (!j || fd < 0)
		return;
	if ((uint32_t)fd < j->size)
		__atomic_store_n(&j->ent[fd], v, __ATOMIC_RELAXED);
	else
		__atomic_store_n(&j->overflow, 1, __ATOMIC_RELAXED);
}

/* Right after a read of buf[0..len): every event's fd is noted as of
 * unknown intent, then `reading` is cleared. */
void fg_hold_note_batch(struct fg_hold_journal *j, const void *buf, ssize_t len);

/* The event under fd is answered (or dropped): its entry is cleared before
 * the fd is closed, so a kill in between leaves a number that matches
 * nothing (the successor's response gets ENOENT). */
static inline void fg_hold_close(struct fg_hold_journal *j, int fd)
{
	if (j && fd >= 0 && (uint32_t)fd < j->size)
		__atomic_store_n(&j->ent[fd], FG_HOLD_FREE, __ATOMIC_RELEASE);
	if (fd >= 0)
		close(fd);
}

/* ---- the main thread's side ---- */

/* What start-up found in the store and did with it. */
struct fg_hold_takeover {
	unsigned groups;       /* permission groups taken from the store (0: none usable) */
	unsigned dropped;      /* of them, closed at once (a half-marked spare) */
	unsigned rejected;     /* stored fds that were not what their name says */
	bool journal;	       /* a usable journal came with them */
	const char *sweep_why; /* why a sweep was needed; NULL: none */
	unsigned allowed;      /* orphans answered from the journal: reads allowed */
	unsigned denied;       /* writes, and events of unknown intent, denied */
	unsigned stale;	       /* journaled numbers no group held (already answered) */
	unsigned swept;	       /* fd numbers a sweep answered */
	unsigned sweep_hits;   /* of them, orphans the sweep found (denied) */
	uint64_t orphans_ns;   /* from the start of the takeover to the orphans answered */
	uint64_t bridge_self;  /* start-up: our own opens the bridge answered */
	uint64_t bridge_reads; /* read-only opens it allowed */
	uint64_t bridge_held;  /* opens it held for the answering thread */
};

struct fg_hold_bridge;
struct fg_guard;

struct fg_hold {
	bool asked;		   /* on_daemon_exit = hold in the config */
	bool on;		   /* ... and it is safe: the groups go to the store */
	const char *refused;	   /* why not, when asked but not on; NULL */
	char refused_buf[PATH_MAX + 128];
	bool notify;		   /* a NOTIFY_SOCKET to talk to */
	int jfd;		   /* the journal memfd, -1 */
	struct fg_hold_journal *j; /* its mapping, NULL */
	size_t jlen;
	int held[FG_HOLD_GROUPS]; /* groups taken over, until retired; -1 */
	char held_name[FG_HOLD_GROUPS][FG_HOLD_NAME_MAX];
	unsigned n_held;
	char cur[FG_HOLD_NAME_MAX]; /* the store's name of our current group; "" none */
	char old[FG_HOLD_NAME_MAX]; /* a stored group to remove once retired; "" none */
	int store_err;		    /* the last failure to store: -errno, 0 */
	struct fg_hold_takeover tk;
	struct fg_hold_bridge *bridge;
};

/* Sets h up empty (nothing held, nothing mapped). */
void fg_hold_init(struct fg_hold *h);

/* First thing at start, before any path is opened: takes what the store
 * passed ($LISTEN_FDS, then unset), checks each group is a fanotify
 * permission group with our flags (/proc/self/fdinfo), answers the
 * orphans (journal, else sweep) before anything reads the group, resets
 * the journal, and starts the bridge on the group kept. Returns the number
 * of groups taken over (0: a plain start), or -errno. */
int fg_hold_takeover(struct fg_hold *h);

/* Once the config is known: hold mode when cfg asks for it and no subtree
 * covers what the successor's start needs (PID 1's /etc/systemd, the
 * dynamic loader's files, fanguardd itself; otherwise refused, and status
 * says why). With hold and no journal yet, makes one and stores it.
 * Returns 0 or -errno (store_err says it too). */
int fg_hold_setup(struct fg_hold *h, const struct fg_config *cfg);

/* Why hold mode would be unsafe with cfg (into buf, returned), or NULL. A
 * reload to such a config is refused while the group is held. */
const char *fg_hold_unsafe(const struct fg_config *cfg, char *buf, size_t size);

/* The bridge stops for a moment (capability sets are per thread: it must
 * not be there when they drop) and starts again with what it held. */
void fg_hold_bridge_pause(struct fg_hold *h);
int fg_hold_bridge_resume(struct fg_hold *h);

/* A new permission group, before its first mark: hands it to the store
 * under the name the current one does not have. Returns 0 or -errno; a
 * no-op returning 0 when not in hold mode. */
int fg_hold_store(struct fg_hold *h, int group);
/* The group stored last was not taken into use (a refused reload). */
void fg_hold_unstore(struct fg_hold *h);
/* The group stored last carries every mark: a successor prefers it. */
void fg_hold_complete(struct fg_hold *h);
/* The group it replaced (or the one taken over) is closed in this process:
 * the store lets it go too. In release mode everything stored goes. */
void fg_hold_retired(struct fg_hold *h);

/* Before the answering thread starts: the bridge stops and what it held
 * becomes the answering thread's deferred events on the taken-over group,
 * which is read and retired like a group replaced by a reload. */
void fg_hold_handover(struct fg_hold *h, struct fg_guard *g);

/* A reload to cfg is refused while the group is held and cfg is unsafe
 * (fg_hold_unsafe): the reason goes into diag. */
bool fg_hold_refuses(const struct fg_hold *h, const struct fg_config *cfg, struct fg_diag *diag);

/* Right after the answering thread started: waits until it retired the
 * taken-over group, lets the store drop it, and logs the takeover and any
 * failure to hold. */
void fg_hold_started(struct fg_hold *h, struct fg_guard *g);

/* One line on the takeover for the log. Returns the length. */
size_t fg_hold_describe(const struct fg_hold *h, char *buf, size_t size);
/* What status says of the store: "held", "not held: ...". */
const char *fg_hold_state(const struct fg_hold *h);
uint64_t fg_hold_takeovers(const struct fg_hold *h);

/* Stops the bridge (what it held stays journaled for a successor), unmaps
 * the journal and closes what is still open. The store keeps its copies. */
void fg_hold_free(struct fg_hold *h);

#endif
