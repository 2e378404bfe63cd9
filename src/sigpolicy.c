#include "fanguard/sigpolicy.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fanguard/jcleanup.h"
#include "fanguard/util.h"

#define NAMESPACES_MAX 32
#define REF_MAX	       512

/* Local transports bootc can boot from besides a registry; their scopes
 * are paths, which fanguard does not judge (only their "" and "default"). */
static const char *const local_transports[] = {"oci", "oci-archive", "containers-storage", "dir"};

__attribute__((format(printf, 2, 3))) static int bad(struct fg_sigpolicy_verdict *v,
						     const char *fmt, ...)
{
	va_list ap;

	v->verdict = FG_SIGVERDICT_UNPARSEABLE;
	v->n_scopes = 0;
	va_start(ap, fmt);
	vsnprintf(v->error, sizeof(v->error), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ---- is it a policy containers/image would load? ---- */

static bool has_key(json_t *o, const char *k)
{
	return json_object_get(o, k) != NULL;
}

static int check_signed_by(json_t *r, const char *at, struct fg_sigpolicy_verdict *v)
{
	json_t *kt = json_object_get(r, "keyType");
	int keys = has_key(r, "keyPath") + has_key(r, "keyPaths") + has_key(r, "keyData");

	if (!json_is_string(kt))
		return bad(v, "%s.keyType: missing or not a string", at);
	if (strcmp(json_string_value(kt), "GPGKeys") != 0)
		return bad(v, "%s.keyType: \"%s\" is not GPGKeys", at, json_string_value(kt));
	if (keys != 1)
		return bad(v, "%s: needs exactly one of keyPath, keyPaths, keyData (has %d)", at,
			   keys);
	return 0;
}

static int check_sigstore(json_t *r, const char *at, struct fg_sigpolicy_verdict *v)
{
	static const char *const sources[] = {"keyPath",  "keyPaths", "keyData",
					      "keyDatas", "fulcio",   "pki"};

	for (size_t i = 0; i < FG_ARRAY_SIZE(sources); i++)
		if (has_key(r, sources[i]))
			return 0;
	return bad(v, "%s: names no key (keyPath, keyPaths, keyData, keyDatas, fulcio or pki)", at);
}

static int check_req(json_t *r, const char *at, struct fg_sigpolicy_verdict *v)
{
	static const char *const simple[] = {"insecureAcceptAnything", "reject", "signedBaseLayer"};
	json_t *t = json_object_get(r, "type");
	const char *type;

	if (!json_is_object(r))
		return bad(v, "%s: a requirement must be an object", at);
	if (!json_is_string(t))
		return bad(v, "%s.type: missing or not a string", at);
	type = json_string_value(t);
	if (!strcmp(type, "signedBy"))
		return check_signed_by(r, at, v);
	if (!strcmp(type, "sigstoreSigned"))
		return check_sigstore(r, at, v);
	for (size_t i = 0; i < FG_ARRAY_SIZE(simple); i++)
		if (!strcmp(type, simple[i]))
			return 0;
	return bad(v, "%s.type: \"%s\" is not a requirement type containers/image knows", at, type);
}

static int check_reqs(json_t *a, const char *at, struct fg_sigpolicy_verdict *v)
{
	char sub[FG_SIGPOLICY_ERR_LEN];
	size_t i;
	json_t *r;

	if (!json_is_array(a))
		return bad(v, "%s: must be an array of requirements", at);
	if (json_array_size(a) == 0)
		return bad(v, "%s: an empty array of requirements is refused", at);
	json_array_foreach(a, i, r)
	{
		snprintf(sub, sizeof(sub), "%.*s[%zu]", (int)(sizeof(sub) - 24), at, i);
		if (check_req(r, sub, v) < 0)
			return -EINVAL;
	}
	return 0;
}

static int check_transports(json_t *ts, struct fg_sigpolicy_verdict *v)
{
	char at[FG_SIGPOLICY_ERR_LEN];
	const char *tname, *scope;
	json_t *t, *reqs;

	if (!json_is_object(ts))
		return bad(v, "transports: must be an object");
	json_object_foreach(ts, tname, t)
	{
		if (!json_is_object(t))
			return bad(v, "transports.%.100s: must be an object of scopes", tname);
		json_object_foreach(t, scope, reqs)
		{
			snprintf(at, sizeof(at), "transports.%.64s[\"%.180s\"]", tname, scope);
			if (check_reqs(reqs, at, v) < 0)
				return -EINVAL;
		}
	}
	return 0;
}

static int check_policy(json_t *root, struct fg_sigpolicy_verdict *v)
{
	const char *key;
	json_t *val;

	if (!json_is_object(root))
		return bad(v, "the document is not a JSON object");
	json_object_foreach(root, key, val)
	{
		if (strcmp(key, "default") != 0 && strcmp(key, "transports") != 0)
			return bad(v, "%.100s: unknown top-level field", key);
	}
	if (!json_object_get(root, "default"))
		return bad(v, "default: missing (the global default is mandatory)");
	if (check_reqs(json_object_get(root, "default"), "default", v) < 0)
		return -EINVAL;
	val = json_object_get(root, "transports");
	return val && !json_is_null(val) ? check_transports(val, v) : 0;
}

/* ---- what an array of requirements comes to ---- */

static enum fg_sigreq strength(json_t *a, char *name, size_t cap)
{
	bool reject = false, gpg = false, sigstore = false, base = false;
	size_t i;
	json_t *r;

	json_array_foreach(a, i, r)
	{
		const char *t = json_string_value(json_object_get(r, "type"));

		reject |= !strcmp(t, "reject");
		gpg |= !strcmp(t, "signedBy");
		sigstore |= !strcmp(t, "sigstoreSigned");
		base |= !strcmp(t, "signedBaseLayer");
	}
	if (reject) {
		fg_strlcpy(name, "reject", cap);
		return FG_SIGREQ_REJECT;
	}
	if (gpg || sigstore) {
		fg_strlcpy(name,
			   gpg && sigstore ? "signedBy+sigstoreSigned"
			   : gpg	   ? "signedBy"
					   : "sigstoreSigned",
			   cap);
		return FG_SIGREQ_SIGNED;
	}
	/* signedBaseLayer checks the base layer's identity, not the image's
	 * signature: for the question asked here it accepts anything. */
	fg_strlcpy(name, base ? "signedBaseLayer" : "insecureAcceptAnything", cap);
	return FG_SIGREQ_INSECURE;
}

/* Judges the array a as the decision for scope s, from entry. */
static void decide(struct fg_sigpolicy_scope *s, json_t *a, const char *entry)
{
	s->req = strength(a, s->req_name, sizeof(s->req_name));
	fg_strlcpy(s->entry, entry, sizeof(s->entry));
}

/* The weaker of s and (a from entry) stays in s. */
static void weaker(struct fg_sigpolicy_scope *s, json_t *a, const char *entry)
{
	struct fg_sigpolicy_scope t = {0};

	decide(&t, a, entry);
	if (s->req == FG_SIGREQ_NONE || t.req < s->req) {
		s->req = t.req;
		memcpy(s->req_name, t.req_name, sizeof(s->req_name));
		memcpy(s->entry, t.entry, sizeof(s->entry));
	}
}

static void entry_name(char *out, size_t cap, const char *transport, const char *scope)
{
	snprintf(out, cap, "transports.%s[\"%.*s\"]", transport, (int)(cap > 40 ? cap - 40 : 0),
		 scope);
}

/* The transport's "" scope, else the global default. */
static void fallback(json_t *root, const char *transport, struct fg_sigpolicy_scope *s)
{
	json_t *t = json_object_get(json_object_get(root, "transports"), transport);
	json_t *a = json_object_get(t, "");
	char entry[FG_SIGPOLICY_NAME_LEN];

	if (a) {
		entry_name(entry, sizeof(entry), transport, "");
		decide(s, a, entry);
		return;
	}
	decide(s, json_object_get(root, "default"), "default");
}

/* ---- registry images: containers/image's scope chain ---- */

/* The fully expanded name scopes are keyed by: "fedora" is looked up as
 * docker.io/library/fedora, "org/os" as docker.io/org/os. A first
 * component with a dot, a port, a glob or "localhost" is a host. */
static void expand(const char *in, char *out, size_t cap)
{
	const char *slash = strchr(in, '/');
	size_t hl = slash ? (size_t)(slash - in) : 0;
	bool host = slash && (memchr(in, '.', hl) || memchr(in, ':', hl) ||
			      strcspn(in, "*?[") < hl || (hl == 9 && !strncmp(in, "localhost", 9)));

	if (host)
		snprintf(out, cap, "%s", in);
	else
		snprintf(out, cap, "docker.io/%s%s", slash ? "" : "library/", in);
}

/* The scopes an image is looked up under, most specific first: its
 * repository, each parent namespace down to the host, then "*.domain"
 * wildcards of the host without its port. */
static unsigned namespaces(const char *repo, char ns[][REF_MAX], unsigned max)
{
	char name[REF_MAX], *p;
	unsigned n = 0;

	fg_strlcpy(name, repo, sizeof(name));
	while (n < max && name[0]) {
		fg_strlcpy(ns[n++], name, REF_MAX);
		p = strrchr(name, '/');
		if (!p)
			break;
		*p = '\0';
	}
	name[strcspn(name, ":")] = '\0';
	for (p = strchr(name, '.'); p && n < max; p = strchr(p + 1, '.'))
		snprintf(ns[n++], REF_MAX, "*.%s", p + 1);
	return n;
}

/* Splits an expanded reference into the identity it is looked up as
 * (repo:tag or repo@digest; no tag means :latest) and its repository. */
static void identity(const char *ref, char *ident, char *repo, size_t cap)
{
	const char *last = strrchr(ref, '/');
	const char *at = strchr(last ? last : ref, '@');
	const char *colon;
	size_t rl;

	last = last ? last : ref;
	colon = strchr(last, ':');
	rl = at && (!colon || colon > at) ? (size_t)(at - ref)
	     : colon			  ? (size_t)(colon - ref)
					  : strlen(ref);
	snprintf(repo, cap, "%.*s", (int)rl, ref);
	if (at) /* containers/image drops a tag next to a digest */
		snprintf(ident, cap, "%s%s", repo, at);
	else if (colon)
		snprintf(ident, cap, "%s", ref);
	else
		snprintf(ident, cap, "%s:latest", ref);
}

/* The first scope of the chain the docker transport has, if any. */
static bool chain(json_t *docker, const char *first, const char *repo, struct fg_sigpolicy_scope *s)
{
	char ns[NAMESPACES_MAX][REF_MAX];
	char entry[FG_SIGPOLICY_NAME_LEN];
	unsigned n;
	json_t *a;

	if (first && (a = json_object_get(docker, first))) {
		entry_name(entry, sizeof(entry), "docker", first);
		decide(s, a, entry);
		return true;
	}
	n = repo[0] ? namespaces(repo, ns, NAMESPACES_MAX) : 0;
	for (unsigned i = 0; i < n; i++) {
		a = json_object_get(docker, ns[i]);
		if (a) {
			entry_name(entry, sizeof(entry), "docker", ns[i]);
			decide(s, a, entry);
			return true;
		}
	}
	return false;
}

/* A glob: its literal part cut back to the repository (glob in the tag)
 * or the namespace (glob in the path) it cannot leave. */
static void glob_base(const char *ref, char *base, size_t cap)
{
	size_t lit = strcspn(ref, "*?[");
	char *slash, *tag;

	snprintf(base, cap, "%.*s", (int)lit, ref);
	slash = strrchr(base, '/');
	tag = strpbrk(slash ? slash : base, ":@");
	if (slash && tag)
		*tag = '\0';
	else if (slash)
		*slash = '\0';
	else
		base[0] = '\0'; /* a glob in the host: any registry */
}

/* Whether scope key k can apply to some image below base. */
static bool below(const char *k, const char *base)
{
	size_t n = strlen(base);

	if (!k[0])
		return false;
	if (!n)
		return true;
	return !strncmp(k, base, n) && k[n] && strchr("/:@", k[n]);
}

static void judge_registry(json_t *root, const char *ref, struct fg_sigpolicy_scope *s)
{
	json_t *docker = json_object_get(json_object_get(root, "transports"), "docker");
	char full[REF_MAX], ident[REF_MAX], repo[REF_MAX], entry[FG_SIGPOLICY_NAME_LEN];
	const char *k;
	json_t *a;

	expand(ref, full, sizeof(full));
	if (full[strcspn(full, "*?[")] == '\0') {
		identity(full, ident, repo, sizeof(ident));
		if (!chain(docker, ident, repo, s))
			fallback(root, "docker", s);
		return;
	}
	/* Any image the glob matches may meet a more specific scope: the
	 * weakest of them all is what the glob allows. */
	glob_base(full, repo, sizeof(repo));
	if (!chain(docker, NULL, repo, s))
		fallback(root, "docker", s);
	json_object_foreach(docker, k, a)
	{
		if (!below(k, repo))
			continue;
		entry_name(entry, sizeof(entry), "docker", k);
		weaker(s, a, entry);
	}
}

static void judge_image(json_t *root, const char *ref, struct fg_sigpolicy_scope *s)
{
	fg_strlcpy(s->name, ref, sizeof(s->name));
	if (!strncmp(ref, "docker://", 9)) {
		judge_registry(root, ref + 9, s);
		return;
	}
	for (size_t i = 0; i < FG_ARRAY_SIZE(local_transports); i++) {
		size_t n = strlen(local_transports[i]);

		if (!strncmp(ref, local_transports[i], n) && ref[n] == ':') {
			fallback(root, local_transports[i], s);
			return;
		}
	}
	judge_registry(root, ref, s);
}

/* ---- the verdict ---- */

static void judge(json_t *root, const struct fg_sigpolicy_cfg *cfg, struct fg_sigpolicy_verdict *v)
{
	unsigned n_img = cfg ? cfg->n_images : 0;
	struct fg_sigpolicy_scope *s = &v->scopes[0];

	if (n_img > FG_SIGPOLICY_IMAGES_MAX)
		n_img = FG_SIGPOLICY_IMAGES_MAX;
	fg_strlcpy(s->name, "default", sizeof(s->name));
	decide(s, json_object_get(root, "default"), "default");
	v->n_scopes = 1;
	if (n_img == 0) {
		s = &v->scopes[v->n_scopes++];
		fg_strlcpy(s->name, "docker", sizeof(s->name));
		fallback(root, "docker", s);
	}
	for (unsigned i = 0; i < n_img; i++)
		if (cfg->images[i] && cfg->images[i][0])
			judge_image(root, cfg->images[i], &v->scopes[v->n_scopes++]);
	v->verdict = FG_SIGVERDICT_ENFORCED;
	for (unsigned i = 0; i < v->n_scopes; i++)
		if (v->scopes[i].req == FG_SIGREQ_INSECURE)
			v->verdict = FG_SIGVERDICT_WEAKENED;
}

int fg_sigpolicy_eval(const char *json, size_t len, const struct fg_sigpolicy_cfg *cfg,
		      struct fg_sigpolicy_verdict *ret)
{
	_cleanup_json_ json_t *root = NULL;
	json_error_t err;

	if (!json || !ret)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	if (len > FG_SIGPOLICY_MAX_BYTES) {
		bad(ret, "larger than %d bytes", FG_SIGPOLICY_MAX_BYTES);
		return 0;
	}
	/* containers/image refuses duplicated fields: so does this. */
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
	if (!root) {
		bad(ret, "not valid JSON: line %d column %d: %s", err.line, err.column, err.text);
		return 0;
	}
	if (check_policy(root, ret) == 0)
		judge(root, cfg, ret);
	return 0;
}

int fg_sigpolicy_eval_file(const char *path, const struct fg_sigpolicy_cfg *cfg,
			   struct fg_sigpolicy_verdict *ret)
{
	_cleanup_free_ char *buf = malloc(FG_SIGPOLICY_MAX_BYTES + 2);
	ssize_t n;

	if (!ret)
		return -EINVAL;
	if (!buf)
		return -ENOMEM;
	n = fg_read_small(AT_FDCWD, path, buf, FG_SIGPOLICY_MAX_BYTES + 2);
	if (n < 0) {
		memset(ret, 0, sizeof(*ret));
		bad(ret, "%s: cannot read: %s", path, strerror((int)-n));
		return 0;
	}
	return fg_sigpolicy_eval(buf, (size_t)n, cfg, ret);
}

const char *fg_sigverdict_name(enum fg_sigverdict v)
{
	static const char *const names[] = {[FG_SIGVERDICT_ENFORCED] = "enforced",
					    [FG_SIGVERDICT_WEAKENED] = "weakened",
					    [FG_SIGVERDICT_UNPARSEABLE] = "unparseable"};

	return (unsigned)v < FG_ARRAY_SIZE(names) ? names[v] : "unknown";
}

const char *fg_sigreq_name(enum fg_sigreq r)
{
	static const char *const names[] = {[FG_SIGREQ_NONE] = "none",
					    [FG_SIGREQ_INSECURE] = "insecureAcceptAnything",
					    [FG_SIGREQ_SIGNED] = "signed",
					    [FG_SIGREQ_REJECT] = "reject"};

	return (unsigned)r < FG_ARRAY_SIZE(names) ? names[r] : "unknown";
}

static const struct fg_sigpolicy_scope *find_scope(const struct fg_sigpolicy_verdict *v,
						   const char *name)
{
	for (unsigned i = 0; v && i < v->n_scopes; i++)
		if (!strcmp(v->scopes[i].name, name))
			return &v->scopes[i];
	return NULL;
}

static void add_change(char *out, size_t cap, size_t *len, const char *name, const char *from,
		       const char *to)
{
	int k;

	if (*len >= cap)
		return;
	k = snprintf(out + *len, cap - *len, "%s%s: %s -> %s", *len ? "; " : "", name, from, to);
	*len = k < 0 ? *len : *len + (size_t)k >= cap ? cap : *len + (size_t)k;
}

unsigned fg_sigpolicy_changes(const struct fg_sigpolicy_verdict *old,
			      const struct fg_sigpolicy_verdict *new_, char *out, size_t cap)
{
	size_t len = 0;
	unsigned n = 0;

	if (cap)
		out[0] = '\0';
	for (unsigned i = 0; new_ && i < new_->n_scopes; i++) {
		const struct fg_sigpolicy_scope *s = &new_->scopes[i],
						*o = find_scope(old, s->name);

		if (o && !strcmp(o->req_name, s->req_name))
			continue;
		add_change(out, cap, &len, s->name, o ? o->req_name : "none", s->req_name);
		n++;
	}
	for (unsigned i = 0; old && i < old->n_scopes; i++) {
		if (find_scope(new_, old->scopes[i].name))
			continue;
		add_change(out, cap, &len, old->scopes[i].name, old->scopes[i].req_name, "none");
		n++;
	}
	return n;
}
