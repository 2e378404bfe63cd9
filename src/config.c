/* fanguard's configuration: its defaults, its lifetime, and the search
 * that loads the image's file, the host's file and their drop-ins in order
 * (each file through confparse.c), then completes and checks the result. */
#include "fanguard/config.h"
#include "fanguard/confdir.h"
#include "fanguard/confparse.h"
#include "fanguard/selfprot.h"
#include "fanguard/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FG_AUTO_NAME "fanguard-config"
#define FG_AUTO_PATH FG_SELF_DIR
#define FG_AUTO_KEY  "fanguard_config"

void fg_diag_add(struct fg_diag *diag, const char *fmt, ...)
{
	va_list ap;

	if (!diag)
		return;
	if (diag->n >= FG_DIAG_MAX) {
		diag->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(diag->msg[diag->n++], FG_DIAG_LEN, fmt, ap);
	va_end(ap);
}

/* The auto-added subtree has no file. */
const char *fg_config_where(const struct fg_config *cfg, struct fg_where w, char *buf, size_t size)
{
	if (w.file < 0 || (unsigned)w.file >= cfg->n_files)
		snprintf(buf, size, "(built-in)");
	else
		snprintf(buf, size, "%s:%d", cfg->files[w.file], w.line);
	return buf;
}

const char *fg_mode_name(enum fg_mode m)
{
	static const char *const names[] = {[FG_MODE_INHERIT] = "inherit",
					    [FG_MODE_ENFORCE] = "enforce",
					    [FG_MODE_AUDIT] = "audit"};

	return (unsigned)m < FG_ARRAY_SIZE(names) ? names[m] : "?";
}

void fg_config_init(struct fg_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = FG_MODE_ENFORCE;
	cfg->log = FG_SINK_STDERR;
	cfg->log_format = FG_FMT_JSON;
	fg_strlcpy(cfg->status_socket, FG_STATUS_SOCKET_DEFAULT, sizeof(cfg->status_socket));
	cfg->on_error = FG_FAIL_DENY;
	cfg->unknown_intent = FG_UNKNOWN_WRITE;
	cfg->on_overload = FG_OVERLOAD_DENY_WRITES;
	cfg->max_line = FG_MAX_LINE_DEFAULT;
	cfg->repeat_threshold = FG_REPEAT_THRESHOLD_DEFAULT;
	cfg->repeat_window = FG_REPEAT_WINDOW_DEFAULT;
	cfg->heartbeat_interval = FG_HEARTBEAT_DEFAULT;
	cfg->deployments.require_signature = true;
}

void fg_strlist_free(struct fg_strlist *l)
{
	for (unsigned i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

void fg_config_writer_free(struct fg_writer_cfg *w)
{
	fg_strlist_free(&w->exe);
	fg_strlist_free(&w->comm);
	fg_strlist_free(&w->ancestor);
	fg_strlist_free(&w->parent);
	fg_strlist_free(&w->cgroup);
	fg_strlist_free(&w->subtrees);
	fg_strlist_free(&w->sha256);
}

void fg_config_free(struct fg_config *cfg)
{
	for (unsigned i = 0; i < cfg->n_subtrees; i++)
		free(cfg->subtrees[i].path);
	free(cfg->subtrees);
	for (unsigned i = 0; i < cfg->n_writers; i++)
		fg_config_writer_free(&cfg->writers[i]);
	free(cfg->writers);
	fg_strlist_free(&cfg->transaction.exe);
	fg_strlist_free(&cfg->transaction.cgroup);
	fg_strlist_free(&cfg->transaction.sha256);
	fg_strlist_free(&cfg->trusted_prefix);
	fg_strlist_free(&cfg->deployments.images);
	free(cfg->deployments.approved);
	free(cfg->deployments.signature_policy);
	fg_strlist_free(&cfg->deployments.roots);
	free(cfg->deployments.etc);
	for (unsigned i = 0; i < cfg->deployments.n_found; i++)
		free(cfg->deployments.found[i]);
	free(cfg->deployments.found);
	for (unsigned i = 0; i < cfg->deployments.n_retired; i++)
		free(cfg->deployments.retired[i]);
	free(cfg->deployments.retired);
	for (unsigned i = 0; i < cfg->n_files; i++)
		free(cfg->files[i]);
	memset(cfg, 0, sizeof(*cfg));
}

int fg_config_find_subtree(const struct fg_config *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->n_subtrees; i++)
		if (strcmp(cfg->subtrees[i].name, name) == 0)
			return (int)i;
	return -1;
}

int fg_config_load_path(struct fg_config *cfg, const char *path, struct fg_diag *diag,
			bool missing_ok, bool trusted)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	struct stat stb;
	int r;

	if (!f) {
		r = -errno;
		if (r != -ENOENT || !missing_ok)
			fg_diag_add(diag, "%s: cannot open: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fileno(f), &stb) < 0) {
		r = -errno;
		fg_diag_add(diag, "%s: cannot stat: %s", path, strerror(-r));
		return r;
	}
	if (S_ISDIR(stb.st_mode)) {
		fg_diag_add(diag, "%s: is a directory", path);
		return -EISDIR;
	}
	return fg_confparse_stream(cfg, path, f, diag, trusted);
}

int fg_config_load_mem(struct fg_config *cfg, const char *name, const char *data, size_t len,
		       struct fg_diag *diag, bool trusted)
{
	_cleanup_fclose_ FILE *f = fmemopen((void *)data, len, "r");
	int r = -errno;

	if (!f) {
		fg_diag_add(diag, "%s: %s", name, strerror(-r));
		return r;
	}
	return fg_confparse_stream(cfg, name, f, diag, trusted);
}

int fg_config_load_file(struct fg_config *cfg, const char *path, struct fg_diag *diag)
{
	return fg_config_load_path(cfg, path, diag, false, true);
}

static void finish_writer(const struct fg_config *cfg, const struct fg_writer_cfg *w,
			  struct fg_diag *diag, int *r)
{
	char at[PATH_MAX + 32];

	for (unsigned j = 0; j < w->subtrees.n; j++) {
		if (fg_config_find_subtree(cfg, w->subtrees.v[j]) >= 0)
			continue;
		fg_diag_add(diag, "%s: writer '%s' names unknown subtree '%s'",
			    fg_config_where(cfg, w->subtrees_where, at, sizeof(at)), w->name,
			    w->subtrees.v[j]);
		*r = -EINVAL;
	}
}

int fg_config_finish(struct fg_config *cfg, struct fg_diag *diag)
{
	char a[PATH_MAX + 32], b[PATH_MAX + 32];
	int r = 0;

	for (unsigned i = 0; i < cfg->n_writers; i++)
		finish_writer(cfg, &cfg->writers[i], diag, &r);
	/* The image's /usr, unless a file said otherwise. */
	if (cfg->trusted_prefix.n == 0) {
		cfg->trusted_prefix.v[0] = strdup("/usr");
		if (!cfg->trusted_prefix.v[0])
			return -ENOMEM;
		cfg->trusted_prefix.n = 1;
	}
	/* Decisions go by path: two subtrees with one path would make the key
	 * and mode of an event depend on their order. */
	for (unsigned j = 0; j < cfg->n_subtrees; j++) {
		const struct fg_subtree_cfg *t = &cfg->subtrees[j];
		for (unsigned i = 0; i < j && t->path; i++) {
			const struct fg_subtree_cfg *s = &cfg->subtrees[i];
			if (!s->path || strcmp(s->path, t->path) != 0)
				continue;
			fg_diag_add(diag,
				    "%s: subtree '%s' has the same path as subtree '%s' at %s",
				    fg_config_where(cfg, t->where, a, sizeof(a)), t->name, s->name,
				    fg_config_where(cfg, s->where, b, sizeof(b)));
			r = -EINVAL;
			break;
		}
	}
	if (fg_selfprot_check(cfg, diag) < 0)
		r = -EINVAL;
	return r;
}

/* /etc/fanguard holds the drop-ins: a subtree of its own must guard it. A
 * recursive parent (/etc) would not do, as the rules of that subtree would
 * then reach fanguard's policy (selfprot.h). */
static bool covers_config_dir(const struct fg_subtree_cfg *s)
{
	return s->path && strcmp(s->path, FG_AUTO_PATH) == 0;
}

static int add_config_subtree(struct fg_config *cfg, struct fg_diag *diag)
{
	struct fg_subtree_cfg *s;
	char at[PATH_MAX + 32];
	int i;

	for (unsigned j = 0; j < cfg->n_subtrees; j++)
		if (covers_config_dir(&cfg->subtrees[j]))
			return 0;
	i = fg_config_find_subtree(cfg, FG_AUTO_NAME);
	if (i >= 0) {
		fg_diag_add(diag, "%s: subtree '%s' must have path %s: the name is reserved for it",
			    fg_config_where(cfg, cfg->subtrees[i].where, at, sizeof(at)),
			    FG_AUTO_NAME, FG_AUTO_PATH);
		return -EINVAL;
	}
	if (cfg->n_subtrees >= FG_SUBTREES_MAX) {
		fg_diag_add(diag, "too many subtrees: no room left for %s", FG_AUTO_PATH);
		return -EINVAL;
	}
	if (fg_array_grow((void **)&cfg->subtrees, cfg->n_subtrees, sizeof(*cfg->subtrees)) < 0)
		return -ENOMEM;
	s = &cfg->subtrees[cfg->n_subtrees];
	memset(s, 0, sizeof(*s));
	s->path = strdup(FG_AUTO_PATH);
	if (!s->path)
		return -ENOMEM;
	fg_strlcpy(s->name, FG_AUTO_NAME, sizeof(s->name));
	fg_strlcpy(s->key, FG_AUTO_KEY, sizeof(s->key));
	s->recursive = true;
	s->where = (struct fg_where){-1, 0};
	cfg->n_subtrees++;
	return 0;
}

/* Hands cfg over to *ret, or frees it; r is the loading result so far. */
static int load_done(struct fg_config *ret, struct fg_config *cfg, int r, struct fg_diag *diag)
{
	int k = fg_config_finish(cfg, diag);

	if (!r)
		r = k;
	if (r < 0) {
		fg_config_free(cfg);
		memset(ret, 0, sizeof(*ret));
		return r;
	}
	*ret = *cfg;
	return 0;
}

int fg_config_load_with(struct fg_config *ret, const struct fg_config_search *s,
			struct fg_diag *diag)
{
	struct fg_config cfg;
	unsigned found = 0;
	int r = 0, k;

	fg_config_init(&cfg);
	/* The image's file and drop-ins first (trusted), then /etc's. */
	k = fg_config_load_path(&cfg, s->image, diag, true, true);
	if (k != -ENOENT)
		found++;
	if (k < 0 && k != -ENOENT)
		r = k;
	k = s->image_dropins ? fg_confdir_load(&cfg, s->image_dropins, NULL, true, diag, &found) : 0;
	if (k < 0 && !r)
		r = k;
	k = fg_config_load_path(&cfg, s->etc, diag, true, false);
	if (k != -ENOENT)
		found++;
	if (k < 0 && k != -ENOENT && !r)
		r = k;
	k = fg_confdir_load(&cfg, s->dropins, s->join ? s : NULL, false, diag, &found);
	if (k < 0 && !r)
		r = k;
	if (!found) {
		fg_diag_add(diag, "no configuration found (looked in %s, %s%s%s and %s/*.conf)",
			    s->image, s->image_dropins ? s->image_dropins : "",
			    s->image_dropins ? "/*.conf, " : "", s->etc, s->dropins);
		fg_config_free(&cfg);
		memset(ret, 0, sizeof(*ret));
		return -ENOENT;
	}
	k = add_config_subtree(&cfg, diag);
	if (k < 0 && !r)
		r = k;
	return load_done(ret, &cfg, r, diag);
}

int fg_config_load_search(struct fg_config *ret, const char *image, const char *etc,
			  const char *dropin_dir, struct fg_diag *diag)
{
	const struct fg_config_search s = {.image = image, .etc = etc, .dropins = dropin_dir};

	return fg_config_load_with(ret, &s, diag);
}

void fg_config_search_default(struct fg_config_search *ret)
{
	*ret = (struct fg_config_search){
	    .image = FG_CONF_IMAGE,
	    .image_dropins = FG_CONF_IMAGE_DROPINS,
	    .etc = FG_CONF_ETC,
	    .dropins = FG_CONF_DROPIN_DIR,
	};
}

int fg_config_load(struct fg_config *ret, const char *path, struct fg_diag *diag)
{
	struct fg_config cfg;

	if (!path) {
		struct fg_config_search s;

		fg_config_search_default(&s);
		return fg_config_load_with(ret, &s, diag);
	}
	fg_config_init(&cfg);
	return load_done(ret, &cfg, fg_config_load_file(&cfg, path, diag), diag);
}
