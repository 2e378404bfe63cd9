/* The state `fanguard deployments` keeps between runs: what each slot held,
 * the spec image, the newest build ever booted and the findings that held.
 * A JSON object, written atomically so a crash leaves the old state or the
 * new one, never half of either. */
#include "fanguard/deployments.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fanguard/jcleanup.h"
#include "fanguard/util.h"

#define STATE_VERSION 1

static const char *const slot_keys[FG_SLOT_N] = {"staged", "booted", "rollback"};

/* ---- writing ---- */

static json_t *mem_json(const struct fg_deploy_mem *m)
{
	if (!m->present)
		return json_null();
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "digest", m->digest, "image", m->image,
			 "transport", m->transport, "version", m->version, "signature",
			 m->signature, "timestamp",
			 m->has_timestamp ? json_integer(m->timestamp) : json_null());
}

static json_t *state_json(const struct fg_deploy_state *st)
{
	json_t *o = json_pack("{s:i}", "version", STATE_VERSION), *act = json_array();
	int r = o && act ? 0 : -1;

	for (unsigned i = 0; i < FG_SLOT_N; i++)
		r |= json_object_set_new(o, slot_keys[i], mem_json(&st->slot[i]));
	r |= json_object_set_new(o, "spec", mem_json(&st->spec));
	r |= json_object_set_new(o, "newestBooted", mem_json(&st->newest_booted));
	for (unsigned i = 0; act && i < st->n_active; i++)
		r |= json_array_append_new(act, json_string(st->active[i]));
	r |= json_object_set_new(o, "active", act);
	if (r) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int ensure_dir(const char *dir)
{
	struct stat sb;

	if (stat(dir, &sb) == 0)
		return S_ISDIR(sb.st_mode) ? 0 : -ENOTDIR;
	if (errno != ENOENT)
		return -errno;
	return mkdir(dir, 0750) < 0 && errno != EEXIST ? -errno : 0;
}

/* tmp is written, synced and renamed over path; then the directory is
 * synced, so the rename itself survives a crash. */
static int replace(const char *dir, const char *path, const char *text)
{
	char tmp[PATH_MAX];
	_cleanup_close_ int fd = -1, dfd = -1;
	int r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = fchmod(fd, 0640) < 0 ? -errno : write_all(fd, text, strlen(text));
	if (r == 0)
		r = write_all(fd, "\n", 1);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		return -errno;
	return 0;
}

int fg_deploy_state_save(const char *path, const struct fg_deploy_state *st)
{
	_cleanup_json_ json_t *o = state_json(st);
	_cleanup_free_ char *text = NULL;
	char dir[PATH_MAX], *slash;
	int r;

	if (!o)
		return -ENOMEM;
	text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text)
		return -ENOMEM;
	fg_strlcpy(dir, path, sizeof(dir));
	slash = strrchr(dir, '/');
	if (!slash)
		fg_strlcpy(dir, ".", sizeof(dir));
	else
		slash[slash == dir] = '\0';
	r = ensure_dir(dir);
	if (r < 0)
		return r;
	return replace(dir, path, text);
}

/* ---- reading ---- */

static int str_into(json_t *o, const char *key, char *out, size_t cap)
{
	json_t *v = json_object_get(o, key);

	out[0] = '\0';
	if (!v)
		return 0;
	if (!json_is_string(v) || json_string_length(v) >= cap)
		return -EINVAL;
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int mem_from(json_t *v, struct fg_deploy_mem *m)
{
	json_t *ts;

	memset(m, 0, sizeof(*m));
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return -EINVAL;
	if (str_into(v, "digest", m->digest, sizeof(m->digest)) < 0 ||
	    str_into(v, "image", m->image, sizeof(m->image)) < 0 ||
	    str_into(v, "transport", m->transport, sizeof(m->transport)) < 0 ||
	    str_into(v, "version", m->version, sizeof(m->version)) < 0 ||
	    str_into(v, "signature", m->signature, sizeof(m->signature)) < 0)
		return -EINVAL;
	ts = json_object_get(v, "timestamp");
	if (ts && !json_is_null(ts) && !json_is_integer(ts))
		return -EINVAL;
	m->has_timestamp = json_is_integer(ts);
	m->timestamp = m->has_timestamp ? (int64_t)json_integer_value(ts) : 0;
	m->present = true;
	return 0;
}

static int state_from(json_t *o, struct fg_deploy_state *st, const char **ret_field)
{
	json_t *act = json_object_get(o, "active"), *v;
	size_t i;

	*ret_field = "version";
	if (!json_is_object(o) ||
	    json_integer_value(json_object_get(o, "version")) != STATE_VERSION)
		return -EINVAL;
	for (unsigned s = 0; s < FG_SLOT_N; s++) {
		*ret_field = slot_keys[s];
		if (mem_from(json_object_get(o, slot_keys[s]), &st->slot[s]) < 0)
			return -EINVAL;
	}
	*ret_field = "spec";
	if (mem_from(json_object_get(o, "spec"), &st->spec) < 0)
		return -EINVAL;
	*ret_field = "newestBooted";
	if (mem_from(json_object_get(o, "newestBooted"), &st->newest_booted) < 0)
		return -EINVAL;
	*ret_field = "active";
	if (act && !json_is_array(act))
		return -EINVAL;
	json_array_foreach(act, i, v)
	{
		if (st->n_active >= FG_FINDINGS_MAX)
			break;
		if (!json_is_string(v) || json_string_length(v) >= FG_FINDING_KEY_LEN)
			return -EINVAL;
		fg_strlcpy(st->active[st->n_active++], json_string_value(v), FG_FINDING_KEY_LEN);
	}
	return 0;
}

int fg_deploy_state_load(const char *path, struct fg_deploy_state *ret, char *err, size_t cap)
{
	_cleanup_json_ json_t *o = NULL;
	json_error_t je;
	const char *field;

	memset(ret, 0, sizeof(*ret));
	o = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!o) {
		if (access(path, F_OK) < 0 && errno == ENOENT)
			return -ENOENT;
		snprintf(err, cap, "%s: not a state file: line %d: %s", path, je.line, je.text);
		return -EINVAL;
	}
	if (state_from(o, ret, &field) < 0) {
		snprintf(err, cap, "%s: not a state file fanguard wrote: bad %s", path, field);
		memset(ret, 0, sizeof(*ret));
		return -EINVAL;
	}
	ret->present = true;
	return 0;
}
