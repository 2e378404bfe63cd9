/* The comparison behind `fanguard deployments`, and the approved list.
 *
 * A finding is keyed by what makes it the same finding again (the action,
 * the slot, the digest, the reason): it fires when the last run did not
 * hold it, and is carried in the state while it holds, so an unchanged
 * status reports nothing twice, and a condition that clears and comes back
 * fires again. */
#include "fanguard/deployments.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fanguard/util.h"

/* The findings, in the order they are reported. */
enum fkind {
	F_STAGED,
	F_BOOTED,
	F_ROLLBACK,
	F_DOWNGRADE,
	F_SWITCHED,
	F_UNAPPROVED,
	F_UNSIGNED,
	F_USROVERLAY,
	F_N
};

/* clang-format off */
static const struct { const char *action; } kinds[F_N] = {
	[F_STAGED] = {.action = "deployment-staged"},
	[F_BOOTED] = {.action = "booted-changed"},
	[F_ROLLBACK] = {.action = "rollback-queued"},
	[F_DOWNGRADE] = {.action = "downgrade"},
	[F_SWITCHED] = {.action = "image-switched"},
	[F_UNAPPROVED] = {.action = "image-unapproved"},
	[F_UNSIGNED] = {.action = "signature-not-enforced"},
	[F_USROVERLAY] = {.action = "usr-overlay"},
};
/* clang-format on */

const char *fg_deploy_action(unsigned i)
{
	return i < F_N ? kinds[i].action : NULL;
}

/* ---- the approved list ---- */

void fg_approved_free(struct fg_approved *a)
{
	free(a->e);
	a->e = NULL;
	a->n = 0;
}

const struct fg_approved_entry *fg_approved_find(const struct fg_approved *a, const char *digest)
{
	for (unsigned i = 0; a && digest[0] && i < a->n; i++)
		if (!strcmp(a->e[i].digest, digest))
			return &a->e[i];
	return NULL;
}

/* "algorithm:encoded" as the OCI image spec writes a digest. */
static bool digest_ok(const char *d)
{
	const char *colon = strchr(d, ':');

	if (!colon || colon == d || !colon[1] || strlen(d) >= 160)
		return false;
	for (const char *p = d; p < colon; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
		    !strchr("+._-", *p))
			return false;
	for (const char *p = colon + 1; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("=_-", *p))
			return false;
	return true;
}

/* One line, comments and blanks already skipped: the digest and the rest. */
static int approved_line(char *line, struct fg_approved_entry *e, char *why, size_t cap)
{
	char *rest;

	line[strcspn(line, "\r\n")] = '\0';
	rest = line + strcspn(line, " \t");
	if (*rest)
		*rest++ = '\0';
	rest += strspn(rest, " \t");
	for (size_t n = strlen(rest); n && isspace((unsigned char)rest[n - 1]); n--)
		rest[n - 1] = '\0';
	if (!digest_ok(line)) {
		snprintf(why, cap, "'%.100s' is not a digest (algorithm:hex, e.g. sha256:...)",
			 line);
		return -EINVAL;
	}
	if (strlen(rest) >= FG_TICKET_LEN) {
		snprintf(why, cap, "the ticket reference is longer than %d bytes",
			 FG_TICKET_LEN - 1);
		return -EINVAL;
	}
	fg_strlcpy(e->digest, line, sizeof(e->digest));
	fg_strlcpy(e->ticket, rest, sizeof(e->ticket));
	return 0;
}

static int approved_add(struct fg_approved *a, const struct fg_approved_entry *e)
{
	struct fg_approved_entry *ne;

	if (a->n >= FG_APPROVED_MAX)
		return -E2BIG;
	if ((a->n & (a->n - 1)) == 0 || a->n == 0) {
		ne = realloc(a->e, (a->n ? 2 * (size_t)a->n : 16) * sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		a->e = ne;
	}
	a->e[a->n++] = *e;
	return 0;
}

int fg_approved_load(const char *path, struct fg_approved *ret, char *err, size_t cap)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	struct fg_approved_entry e;
	char line[1024], why[256];
	int lineno = 0, r;

	memset(ret, 0, sizeof(*ret));
	if (!f) {
		r = -errno;
		snprintf(err, cap, "%s: cannot open: %s", path, strerror(-r));
		return r;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = line + strspn(line, " \t");

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, cap, "%s:%d: line longer than %zu bytes", path, lineno,
				 sizeof(line) - 2);
			fg_approved_free(ret);
			return -EINVAL;
		}
		if (*s == '#' || *s == '\n' || *s == '\r' || *s == '\0')
			continue;
		r = approved_line(s, &e, why, sizeof(why));
		if (r == 0 && fg_approved_find(ret, e.digest))
			snprintf(why, sizeof(why), "%s is listed twice", e.digest), r = -EINVAL;
		if (r == 0 && (r = approved_add(ret, &e)) < 0)
			snprintf(why, sizeof(why), "%s",
				 r == -E2BIG ? "more than 4096 digests" : "out of memory");
		if (r < 0) {
			snprintf(err, cap, "%s:%d: %s", path, lineno, why);
			fg_approved_free(ret);
			return r == -ENOMEM ? r : -EINVAL;
		}
	}
	return 0;
}

/* ---- remembering a deployment ---- */

static void remember(const struct fg_bootc_entry *e, struct fg_deploy_mem *m)
{
	memset(m, 0, sizeof(*m));
	if (!e->present || !e->image.present)
		return;
	m->present = true;
	fg_strlcpy(m->digest, e->image.digest, sizeof(m->digest));
	fg_strlcpy(m->image, e->image.ref.image, sizeof(m->image));
	fg_strlcpy(m->transport, e->image.ref.transport, sizeof(m->transport));
	fg_strlcpy(m->version, e->image.version, sizeof(m->version));
	fg_strlcpy(m->signature, fg_bootc_sig_name(e->image.ref.sig), sizeof(m->signature));
	m->has_timestamp = e->image.has_timestamp;
	m->timestamp = e->image.timestamp;
}

static void remember_ref(const struct fg_bootc_ref *r, struct fg_deploy_mem *m)
{
	memset(m, 0, sizeof(*m));
	if (!r->present)
		return;
	m->present = true;
	fg_strlcpy(m->image, r->image, sizeof(m->image));
	fg_strlcpy(m->transport, r->transport, sizeof(m->transport));
	fg_strlcpy(m->signature, fg_bootc_sig_name(r->sig), sizeof(m->signature));
}

/* ---- building findings ---- */

struct run {
	const struct fg_bootc_host *h;
	const struct fg_deploy_input *in;
	const struct fg_deploy_state *prev;
	struct fg_deploy_state *next;
	struct fg_finding *out;
	unsigned max, n;
	bool full;
	struct fg_deploy_mem now[FG_SLOT_N];
};

static bool was_active(const struct fg_deploy_state *s, const char *key)
{
	for (unsigned i = 0; i < s->n_active; i++)
		if (!strcmp(s->active[i], key))
			return true;
	return false;
}

/* Adds a finding (it holds now) and carries its key into the next state. */
__attribute__((format(printf, 7, 8))) static struct fg_finding *
add(struct run *r, enum fkind k, const char *slot, const struct fg_deploy_mem *dep, bool alert,
    const char *reason, const char *fmt, ...)
{
	struct fg_finding *f;
	va_list ap;

	if (r->n >= r->max || r->n >= FG_FINDINGS_MAX) {
		r->full = true;
		return NULL;
	}
	f = &r->out[r->n++];
	memset(f, 0, sizeof(*f));
	f->action = kinds[k].action;
	f->alert = alert;
	f->slot = slot;
	f->reason = reason;
	if (dep)
		f->dep = *dep;
	snprintf(f->key, sizeof(f->key), "%s:%s:%s:%.160s", f->action, slot ? slot : "host", reason,
		 dep && dep->present ? (dep->digest[0] ? dep->digest : dep->image) : "");
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
	f->fired = !was_active(r->prev, f->key);
	fg_strlcpy(r->next->active[r->next->n_active++], f->key, FG_FINDING_KEY_LEN);
	return f;
}

/* The ticket when dep's digest is approved. */
static bool approval(const struct run *r, const struct fg_deploy_mem *dep, struct fg_finding *f)
{
	const struct fg_approved_entry *a = fg_approved_find(r->in->approved, dep->digest);

	if (f && a) {
		f->approved = true;
		fg_strlcpy(f->ticket, a->ticket, sizeof(f->ticket));
	}
	return a != NULL;
}

static const char *short_digest(const char *d)
{
	const char *c = strchr(d, ':');

	return c ? c + 1 : d;
}

/* A new staged deployment, or a reboot into another one. */
static void changes(struct run *r)
{
	const struct fg_deploy_mem *st = &r->now[FG_SLOT_STAGED], *bt = &r->now[FG_SLOT_BOOTED];
	const struct fg_deploy_mem *pst = &r->prev->slot[FG_SLOT_STAGED];
	const struct fg_deploy_mem *pbt = &r->prev->slot[FG_SLOT_BOOTED];
	struct fg_finding *f;
	bool ok;

	if (st->present && (!pst->present || strcmp(st->digest, pst->digest))) {
		ok = approval(r, st, NULL);
		f = add(r, F_STAGED, "staged", st, !ok, ok ? "approved" : "not-approved",
			"%s %.12s staged for the next boot%s", st->image, short_digest(st->digest),
			ok ? "" : ", with no approval on record");
		approval(r, st, f);
	}
	if (r->prev->present && bt->present && pbt->present && strcmp(bt->digest, pbt->digest)) {
		ok = approval(r, bt, NULL);
		f = add(r, F_BOOTED, "booted", bt, !ok, ok ? "approved" : "not-approved",
			"the host now runs %s %.12s (was %.12s)%s", bt->image,
			short_digest(bt->digest), short_digest(pbt->digest),
			ok ? "" : ", with no approval on record");
		approval(r, bt, f);
	}
}

static void rollback_queued(struct run *r)
{
	const struct fg_deploy_mem *rb = &r->now[FG_SLOT_ROLLBACK];

	if (r->in->cfg->allow_rollback || (!r->h->rollback_queued && !r->h->boot_order_rollback))
		return;
	add(r, F_ROLLBACK, "rollback", rb, true, r->h->rollback_queued ? "queued" : "boot-order",
	    "the next boot goes back to the rollback deployment %s %.12s", rb->image,
	    short_digest(rb->digest));
}

static void downgrade_of(struct run *r, enum fg_bootc_slot s)
{
	const struct fg_deploy_mem *d = &r->now[s], *nb = &r->next->newest_booted;
	const struct fg_deployments_cfg *cfg = r->in->cfg;
	const char *slot = fg_bootc_slot_name(s);

	if (!d->present || !d->has_timestamp)
		return;
	if (cfg->has_min_timestamp && d->timestamp < cfg->min_timestamp)
		add(r, F_DOWNGRADE, slot, d, true, "older-than-min-timestamp",
		    "the %s image %s %.12s was built before min_timestamp", slot, d->image,
		    short_digest(d->digest));
	if (nb->present && nb->has_timestamp && d->timestamp < nb->timestamp)
		add(r, F_DOWNGRADE, slot, d, true, "older-than-booted",
		    "the %s image %s %.12s is older than %.12s, booted before", slot, d->image,
		    short_digest(d->digest), short_digest(nb->digest));
}

static bool image_allowed(const struct fg_deployments_cfg *cfg, const char *image)
{
	for (unsigned i = 0; i < cfg->images.n; i++)
		if (fnmatch(cfg->images.v[i], image, 0) == 0)
			return true;
	return cfg->images.n == 0;
}

static void unapproved_of(struct run *r, const char *slot, const struct fg_deploy_mem *d)
{
	if (!d->present)
		return;
	if (!image_allowed(r->in->cfg, d->image))
		add(r, F_UNAPPROVED, slot, d, true, "not-in-images",
		    "the %s image %s matches none of the allowed images", slot, d->image);
	if (r->in->approved && d->digest[0] && !approval(r, d, NULL))
		add(r, F_UNAPPROVED, slot, d, true, "not-approved",
		    "the %s image %s %.12s is not in the approved list", slot, d->image,
		    short_digest(d->digest));
}

static void unapproved(struct run *r)
{
	unapproved_of(r, "spec", &r->next->spec);
	unapproved_of(r, "staged", &r->now[FG_SLOT_STAGED]);
	unapproved_of(r, "booted", &r->now[FG_SLOT_BOOTED]);
	/* The rollback deployment matters once it is the next to boot. */
	if (r->h->rollback_queued || r->h->boot_order_rollback)
		unapproved_of(r, "rollback", &r->now[FG_SLOT_ROLLBACK]);
}

static void switched(struct run *r)
{
	const struct fg_deploy_mem *sp = &r->next->spec, *ps = &r->prev->spec;
	bool ok;

	if (!r->prev->present || !sp->present || !ps->present ||
	    (!strcmp(sp->image, ps->image) && !strcmp(sp->transport, ps->transport)))
		return;
	ok = r->in->cfg->images.n && image_allowed(r->in->cfg, sp->image);
	add(r, F_SWITCHED, "spec", sp, !ok, ok ? "in-images" : "not-in-images",
	    "the host now follows %s:%s (was %s:%s)", sp->transport, sp->image, ps->transport,
	    ps->image);
}

/* The requirement policy.json sets for the spec image, from the verdict. */
static const struct fg_sigpolicy_scope *sig_scope(const struct run *r, const char *image)
{
	const struct fg_sigpolicy_verdict *v = r->in->sig;

	for (unsigned i = 0; v && v->verdict != FG_SIGVERDICT_UNPARSEABLE && i < v->n_scopes; i++)
		if (!strncmp(v->scopes[i].name, image, sizeof(v->scopes[i].name) - 1))
			return &v->scopes[i];
	return NULL;
}

static void unsigned_of(struct run *r, const char *slot, const struct fg_deploy_mem *d,
			enum fg_bootc_sig sig)
{
	const struct fg_sigpolicy_scope *s;

	if (!d->present)
		return;
	if (sig == FG_BOOTC_SIG_INSECURE) {
		add(r, F_UNSIGNED, slot, d, true, "insecure",
		    "the %s image %s is fetched with signature verification off (insecure)", slot,
		    d->image);
		return;
	}
	/* Only the spec image is fetched again; policy.json speaks of fetches. */
	if (strcmp(slot, "spec") || sig == FG_BOOTC_SIG_OSTREE_REMOTE ||
	    strcmp(d->transport, "registry"))
		return;
	s = sig_scope(r, d->image);
	if (s && s->req == FG_SIGREQ_INSECURE)
		add(r, F_UNSIGNED, slot, d, true, "policy-accepts-unsigned",
		    "%s decides %s by %s: %s, so an unsigned image would be accepted",
		    r->in->sig_path ? r->in->sig_path : "policy.json", d->image, s->entry,
		    s->req_name);
}

static void unsigned_images(struct run *r)
{
	if (!r->in->cfg->require_signature)
		return;
	unsigned_of(r, "spec", &r->next->spec, r->h->spec_image.sig);
	for (unsigned s = 0; s < FG_SLOT_N; s++)
		if (s != FG_SLOT_ROLLBACK)
			unsigned_of(r, fg_bootc_slot_name(s), &r->now[s],
				    r->h->slot[s].image.ref.sig);
}

static void usr_overlay(struct run *r)
{
	if (r->in->cfg->allow_usroverlay || !r->h->has_usr_overlay ||
	    strcmp(r->h->usr_access, "readWrite"))
		return;
	add(r, F_USROVERLAY, NULL, &r->now[FG_SLOT_BOOTED], true,
	    r->h->usr_persistence[0] ? r->h->usr_persistence : "unknown",
	    "/usr is writable (bootc usroverlay, %s): the image no longer says what runs",
	    r->h->usr_persistence[0] ? r->h->usr_persistence : "persistence unknown");
}

/* The newest build ever booted: what a later boot must not be older than. */
static void newest(struct run *r)
{
	const struct fg_deploy_mem *bt = &r->now[FG_SLOT_BOOTED];

	r->next->newest_booted = r->prev->newest_booted;
	if (bt->present && bt->has_timestamp &&
	    (!r->next->newest_booted.present || !r->next->newest_booted.has_timestamp ||
	     bt->timestamp > r->next->newest_booted.timestamp))
		r->next->newest_booted = *bt;
}

int fg_deploy_compare(const struct fg_bootc_host *h, const struct fg_deploy_input *in,
		      const struct fg_deploy_state *prev, struct fg_deploy_state *next,
		      struct fg_finding *out, unsigned max, unsigned *ret_n)
{
	struct run r = {.h = h, .in = in, .prev = prev, .next = next, .out = out, .max = max};

	memset(next, 0, sizeof(*next));
	next->present = true;
	for (unsigned s = 0; s < FG_SLOT_N; s++)
		remember(&h->slot[s], &r.now[s]);
	memcpy(next->slot, r.now, sizeof(next->slot));
	remember_ref(&h->spec_image, &next->spec);
	/* The booted build is judged against those booted before it, the
	 * staged one against those and the booted one too. */
	next->newest_booted = prev->newest_booted;
	changes(&r);
	rollback_queued(&r);
	downgrade_of(&r, FG_SLOT_BOOTED);
	newest(&r);
	downgrade_of(&r, FG_SLOT_STAGED);
	switched(&r);
	unapproved(&r);
	unsigned_images(&r);
	usr_overlay(&r);
	*ret_n = r.n;
	return r.full ? -E2BIG : 0;
}
