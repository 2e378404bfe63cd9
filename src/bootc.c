/* Reading bootc's BootcHost document. Field names and which of them are
 * required follow bootc's spec.rs and its JSON schema (host-v1.schema.json):
 * ImageReference needs image and transport, ImageStatus image and
 * imageDigest, BootEntryOstree all three of its fields; everything else may
 * be missing or null. */
#include "fanguard/bootc.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fanguard/jcleanup.h"
#include "fanguard/util.h"

#define AT_LEN 128

static const char API_V1ALPHA1[] = "org.containers.bootc/v1alpha1";
static const char API_V1[] = "org.containers.bootc/v1";

struct pctx {
	char *err;
	size_t cap;
};

__attribute__((format(printf, 2, 3))) static int fail(struct pctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->cap) {
		va_start(ap, fmt);
		vsnprintf(c->err, c->cap, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Members of the top-level object are named without a leading dot. */
static const char *dot(const char *at)
{
	return at[0] ? "." : "";
}

static bool absent(const json_t *v)
{
	return !v || json_is_null(v);
}

/* A string member into out; a missing or null one is "" unless required. */
static int get_str(struct pctx *c, json_t *o, const char *at, const char *key, char *out,
		   size_t cap, bool required)
{
	json_t *v = json_object_get(o, key);

	out[0] = '\0';
	if (absent(v))
		return required ? fail(c, "%s%s%s: missing", at, dot(at), key) : 0;
	if (!json_is_string(v))
		return fail(c, "%s%s%s: not a string", at, dot(at), key);
	if (json_string_length(v) >= cap)
		return fail(c, "%s%s%s: longer than %zu bytes", at, dot(at), key, cap - 1);
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int get_bool(struct pctx *c, json_t *o, const char *at, const char *key, bool *out)
{
	json_t *v = json_object_get(o, key);

	*out = false;
	if (absent(v))
		return 0;
	if (!json_is_boolean(v))
		return fail(c, "%s%s%s: not a boolean", at, dot(at), key);
	*out = json_is_true(v);
	return 0;
}

/* A nested object: NULL (and 0) when missing or null. */
static int get_obj(struct pctx *c, json_t *o, const char *at, const char *key, json_t **ret)
{
	json_t *v = json_object_get(o, key);

	*ret = NULL;
	if (absent(v))
		return 0;
	if (!json_is_object(v))
		return fail(c, "%s%s%s: not an object", at, dot(at), key);
	*ret = v;
	return 0;
}

static void sub(char *out, const char *at, const char *key)
{
	snprintf(out, AT_LEN, "%.*s.%s", AT_LEN / 2, at, key);
}

/* ImageSignature, serde's externally tagged enum: "insecure",
 * "containerPolicy" or {"ostreeRemote": NAME}. */
static int parse_sig(struct pctx *c, json_t *v, const char *at, struct fg_bootc_ref *r)
{
	char a[AT_LEN];
	json_t *remote;

	if (absent(v))
		return 0;
	if (json_is_string(v)) {
		if (!strcmp(json_string_value(v), "insecure"))
			r->sig = FG_BOOTC_SIG_INSECURE;
		else if (!strcmp(json_string_value(v), "containerPolicy"))
			r->sig = FG_BOOTC_SIG_CONTAINER_POLICY;
		else
			return fail(c, "%s.signature: unknown value \"%.64s\"", at,
				    json_string_value(v));
		return 0;
	}
	remote = json_object_get(v, "ostreeRemote");
	if (!json_is_object(v) || json_object_size(v) != 1 || !remote)
		return fail(c,
			    "%s.signature: not \"insecure\", \"containerPolicy\" or "
			    "{\"ostreeRemote\": NAME}",
			    at);
	r->sig = FG_BOOTC_SIG_OSTREE_REMOTE;
	sub(a, at, "signature");
	return get_str(c, v, a, "ostreeRemote", r->sig_remote, sizeof(r->sig_remote), true);
}

static int parse_ref(struct pctx *c, json_t *o, const char *at, struct fg_bootc_ref *r)
{
	if (get_str(c, o, at, "image", r->image, sizeof(r->image), true) < 0 ||
	    get_str(c, o, at, "transport", r->transport, sizeof(r->transport), true) < 0 ||
	    parse_sig(c, json_object_get(o, "signature"), at, r) < 0)
		return -EINVAL;
	r->present = true;
	return 0;
}

static int parse_image(struct pctx *c, json_t *o, const char *at, struct fg_bootc_image *img)
{
	char a[AT_LEN];
	json_t *ref;

	sub(a, at, "image");
	if (get_obj(c, o, at, "image", &ref) < 0)
		return -EINVAL;
	if (!ref)
		return fail(c, "%s: missing", a);
	if (parse_ref(c, ref, a, &img->ref) < 0 ||
	    get_str(c, o, at, "version", img->version, sizeof(img->version), false) < 0 ||
	    get_str(c, o, at, "timestamp", img->timestamp_s, sizeof(img->timestamp_s), false) < 0 ||
	    get_str(c, o, at, "imageDigest", img->digest, sizeof(img->digest), true) < 0 ||
	    get_str(c, o, at, "architecture", img->architecture, sizeof(img->architecture), false) <
		0)
		return -EINVAL;
	if (img->timestamp_s[0]) {
		if (fg_parse_time(img->timestamp_s, false, &img->timestamp) < 0)
			return fail(c, "%s.timestamp: \"%s\" is not an RFC 3339 time", at,
				    img->timestamp_s);
		img->has_timestamp = true;
	}
	img->present = true;
	return 0;
}

static int parse_ostree(struct pctx *c, json_t *o, const char *at, struct fg_bootc_entry *e)
{
	json_t *serial = json_object_get(o, "deploySerial");

	if (get_str(c, o, at, "checksum", e->checksum, sizeof(e->checksum), true) < 0 ||
	    get_str(c, o, at, "stateroot", e->stateroot, sizeof(e->stateroot), true) < 0)
		return -EINVAL;
	if (!json_is_integer(serial) || json_integer_value(serial) < 0 ||
	    json_integer_value(serial) > (json_int_t)UINT32_MAX)
		return fail(c, "%s.deploySerial: %s", at,
			    serial ? "not an integer from 0 to 4294967295" : "missing");
	e->deploy_serial = (uint32_t)json_integer_value(serial);
	e->has_ostree = true;
	return 0;
}

static int parse_entry(struct pctx *c, json_t *v, const char *at, struct fg_bootc_entry *e)
{
	char a[AT_LEN];
	json_t *o;

	memset(e, 0, sizeof(*e));
	if (absent(v))
		return 0;
	if (!json_is_object(v))
		return fail(c, "%s: not an object", at);
	if (get_obj(c, v, at, "image", &o) < 0)
		return -EINVAL;
	sub(a, at, "image");
	if (o && parse_image(c, o, a, &e->image) < 0)
		return -EINVAL;
	if (get_obj(c, v, at, "cachedUpdate", &o) < 0)
		return -EINVAL;
	sub(a, at, "cachedUpdate");
	if (o && parse_image(c, o, a, &e->cached_update) < 0)
		return -EINVAL;
	if (get_bool(c, v, at, "incompatible", &e->incompatible) < 0 ||
	    get_bool(c, v, at, "pinned", &e->pinned) < 0 ||
	    get_bool(c, v, at, "downloadOnly", &e->download_only) < 0 ||
	    get_bool(c, v, at, "softRebootCapable", &e->soft_reboot_capable) < 0 ||
	    get_obj(c, v, at, "ostree", &o) < 0)
		return -EINVAL;
	sub(a, at, "ostree");
	if (o && parse_ostree(c, o, a, e) < 0)
		return -EINVAL;
	e->present = true;
	return 0;
}

static int parse_spec(struct pctx *c, json_t *root, struct fg_bootc_host *h)
{
	char order[16];
	json_t *spec, *img;

	if (get_obj(c, root, "", "spec", &spec) < 0)
		return -EINVAL;
	if (!spec)
		return 0;
	if (get_obj(c, spec, "spec", "image", &img) < 0 ||
	    (img && parse_ref(c, img, "spec.image", &h->spec_image) < 0) ||
	    get_str(c, spec, "spec", "bootOrder", order, sizeof(order), false) < 0)
		return -EINVAL;
	if (order[0] && strcmp(order, "default") && strcmp(order, "rollback"))
		return fail(c, "spec.bootOrder: \"%s\" is not default or rollback", order);
	h->boot_order_rollback = !strcmp(order, "rollback");
	return 0;
}

static int parse_others(struct pctx *c, json_t *st, struct fg_bootc_host *h)
{
	json_t *arr = json_object_get(st, "otherDeployments"), *e;
	char at[AT_LEN];
	size_t i;

	if (absent(arr))
		return 0;
	if (!json_is_array(arr))
		return fail(c, "status.otherDeployments: not an array");
	json_array_foreach(arr, i, e)
	{
		struct fg_bootc_entry scratch,
		    *dst = h->n_other < FG_BOOTC_OTHER_MAX ? &h->other[h->n_other] : &scratch;

		snprintf(at, sizeof(at), "status.otherDeployments[%zu]", i);
		/* beyond the kept ones still checked, so a bad one is an error */
		if (parse_entry(c, e, at, dst) < 0)
			return -EINVAL;
		if (dst != &scratch)
			h->n_other++;
		h->other_total++;
	}
	return 0;
}

static int parse_status(struct pctx *c, json_t *root, struct fg_bootc_host *h)
{
	static const char *const slots[FG_SLOT_N] = {"staged", "booted", "rollback"};
	char at[AT_LEN];
	json_t *st, *ov;

	if (get_obj(c, root, "", "status", &st) < 0)
		return -EINVAL;
	if (!st)
		return 0;
	for (unsigned i = 0; i < FG_SLOT_N; i++) {
		sub(at, "status", slots[i]);
		if (parse_entry(c, json_object_get(st, slots[i]), at, &h->slot[i]) < 0)
			return -EINVAL;
	}
	if (parse_others(c, st, h) < 0 ||
	    get_bool(c, st, "status", "rollbackQueued", &h->rollback_queued) < 0 ||
	    get_str(c, st, "status", "type", h->type, sizeof(h->type), false) < 0 ||
	    get_obj(c, st, "status", "usrOverlay", &ov) < 0)
		return -EINVAL;
	if (!ov)
		return 0;
	h->has_usr_overlay = true;
	return get_str(c, ov, "status.usrOverlay", "accessMode", h->usr_access,
		       sizeof(h->usr_access), true) < 0 ||
		       get_str(c, ov, "status.usrOverlay", "persistence", h->usr_persistence,
			       sizeof(h->usr_persistence), false) < 0
		   ? -EINVAL
		   : 0;
}

static int parse_host(struct pctx *c, json_t *root, struct fg_bootc_host *h)
{
	char api[64], kind[32];

	if (!json_is_object(root))
		return fail(c, "the document is not a JSON object");
	if (get_str(c, root, "", "apiVersion", api, sizeof(api), true) < 0 ||
	    get_str(c, root, "", "kind", kind, sizeof(kind), true) < 0) {
		char why[FG_BOOTC_ERR_LEN];

		fg_strlcpy(why, c->err, sizeof(why));
		return fail(c, "%s (is this `bootc status --format=json`?)", why);
	}
	if (!strcmp(api, API_V1ALPHA1))
		h->api = FG_BOOTC_V1ALPHA1;
	else if (!strcmp(api, API_V1))
		h->api = FG_BOOTC_V1;
	else
		return fail(c, "apiVersion: \"%s\" is not %s or %s", api, API_V1ALPHA1, API_V1);
	if (strcmp(kind, "BootcHost") != 0)
		return fail(c, "kind: \"%s\" is not BootcHost", kind);
	if (parse_spec(c, root, h) < 0 || parse_status(c, root, h) < 0)
		return -EINVAL;
	return 0;
}

int fg_bootc_parse(const char *json, size_t len, struct fg_bootc_host *ret, char *err,
		   size_t errcap)
{
	char scratch[FG_BOOTC_ERR_LEN];
	struct pctx c = {.err = errcap ? err : scratch, .cap = errcap ? errcap : sizeof(scratch)};
	_cleanup_json_ json_t *root = NULL;
	json_error_t je;

	memset(ret, 0, sizeof(*ret));
	c.err[0] = '\0';
	if (!json)
		return fail(&c, "no document");
	if (len > FG_BOOTC_MAX_BYTES)
		return fail(&c, "larger than %d bytes", FG_BOOTC_MAX_BYTES);
	root = json_loadb(json, len, 0, &je);
	if (!root)
		return fail(&c, "not valid JSON: line %d column %d: %s", je.line, je.column,
			    je.text);
	if (parse_host(&c, root, ret) < 0) {
		memset(ret, 0, sizeof(*ret));
		return -EINVAL;
	}
	return 0;
}

const char *fg_bootc_slot_name(enum fg_bootc_slot s)
{
	static const char *const names[FG_SLOT_N] = {"staged", "booted", "rollback"};

	return (unsigned)s < FG_SLOT_N ? names[s] : "other";
}

const char *fg_bootc_sig_name(enum fg_bootc_sig s)
{
	static const char *const names[] = {[FG_BOOTC_SIG_ABSENT] = "",
					    [FG_BOOTC_SIG_INSECURE] = "insecure",
					    [FG_BOOTC_SIG_CONTAINER_POLICY] = "containerPolicy",
					    [FG_BOOTC_SIG_OSTREE_REMOTE] = "ostreeRemote"};

	return (unsigned)s < FG_ARRAY_SIZE(names) ? names[s] : "";
}
