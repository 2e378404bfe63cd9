/* Finding deployment roots and keeping their twins in the config
 * (twins.h). Runs at load on the main thread and, when a root glob's level
 * changes, on the notification thread; never on the answering thread. */
#include "fanguard/twins.h"

#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fanguard/util.h"

static const char *const default_roots[] = {FG_TWINS_ROOTS_DEFAULT};

const char *fg_twins_etc(const struct fg_deployments_cfg *d)
{
	return d->etc ? d->etc : FG_TWINS_ETC_DEFAULT;
}

const char *const *fg_twins_roots(const struct fg_deployments_cfg *d, unsigned *ret_n)
{
	if (!d->roots_set) {
		*ret_n = FG_ARRAY_SIZE(default_roots);
		return default_roots;
	}
	*ret_n = d->roots.n;
	return (const char *const *)d->roots.v;
}

int fg_twins_path(const char *etc, const char *root, const char *sub, char *buf, size_t size)
{
	size_t n = strlen(etc);
	int k;

	while (n > 1 && etc[n - 1] == '/')
		n--;
	if (strncmp(sub, etc, n) != 0 || (sub[n] != '\0' && sub[n] != '/'))
		return 0;
	k = snprintf(buf, size, "%s/etc%s", root, sub + n);
	return k < 0 || (size_t)k >= size ? -ENAMETOOLONG : 1;
}

int fg_twins_booted_path(const struct fg_config *cfg, const char *path, char *buf, size_t size)
{
	const struct fg_deployment *b = cfg->deployments.booted;
	size_t n;
	int k;

	if (!b)
		return 0;
	n = strlen(b->root);
	if (strncmp(path, b->root, n) != 0 || strncmp(path + n, "/etc", 4) != 0 ||
	    (path[n + 4] != '\0' && path[n + 4] != '/'))
		return 0;
	k = snprintf(buf, size, "%s%s", fg_twins_etc(&cfg->deployments), path + n + 4);
	return k < 0 || (size_t)k >= size ? -ENAMETOOLONG : 1;
}

/* The k-th component from the end of path (0: the last), into buf. */
static bool component(const char *path, unsigned k, char *buf, size_t size)
{
	const char *end = path + strlen(path), *start;

	for (;;) {
		while (end > path && end[-1] == '/')
			end--;
		start = end;
		while (start > path && start[-1] != '/')
			start--;
		if (start == end)
			return false;
		if (k-- == 0)
			break;
		end = start;
	}
	if ((size_t)(end - start) >= size)
		return false;
	memcpy(buf, start, (size_t)(end - start));
	buf[end - start] = '\0';
	return true;
}

void fg_twins_name(const char *root, struct fg_deployment *ret)
{
	char a[16], b[16];

	if (!component(root, 0, ret->id, sizeof(ret->id)))
		ret->id[0] = '\0';
	ret->stateroot[0] = '\0';
	if (component(root, 1, a, sizeof(a)) && !strcmp(a, "deploy") &&
	    component(root, 3, b, sizeof(b)) && !strcmp(b, "deploy") &&
	    !component(root, 2, ret->stateroot, sizeof(ret->stateroot)))
		ret->stateroot[0] = '\0';
}

static void scan_one(const char *root, const struct stat *etc, struct fg_deployment *d)
{
	char p[PATH_MAX + 8];
	struct stat st;

	memset(d, 0, sizeof(*d));
	fg_strlcpy(d->root, root, sizeof(d->root));
	fg_twins_name(root, d);
	snprintf(p, sizeof(p), "%s/etc", root);
	d->booted =
	    etc && stat(p, &st) == 0 && st.st_dev == etc->st_dev && st.st_ino == etc->st_ino;
}

unsigned fg_twins_scan(const struct fg_deployments_cfg *d, struct fg_deployment *ret, unsigned max,
		       unsigned *ret_more)
{
	unsigned n_roots, n = 0, more = 0;
	const char *const *roots = fg_twins_roots(d, &n_roots);
	struct stat etc, st;
	bool have_etc = stat(fg_twins_etc(d), &etc) == 0;

	for (unsigned i = 0; i < n_roots; i++) {
		glob_t gl;

		if (glob(roots[i], GLOB_ONLYDIR | GLOB_NOSORT, NULL, &gl) != 0)
			continue;
		for (size_t j = 0; j < gl.gl_pathc; j++) {
			const char *p = gl.gl_pathv[j];
			bool dup = false;

			/* a symlink is nobody's deployment: it would alias one */
			if (lstat(p, &st) < 0 || !S_ISDIR(st.st_mode) || strlen(p) >= PATH_MAX)
				continue;
			for (unsigned k = 0; k < n && !dup; k++)
				dup = !strcmp(ret[k].root, p);
			if (dup)
				continue;
			/* one more than fits: counted, never silently dropped */
			if (n == max) {
				more++;
				continue;
			}
			scan_one(p, have_etc ? &etc : NULL, &ret[n]);
			ret[n].dev = st.st_dev;
			ret[n].ino = st.st_ino;
			n++;
		}
		globfree(&gl);
	}
	if (ret_more)
		*ret_more = more;
	return n;
}

int fg_twins_prepare(struct fg_config *cfg)
{
	struct fg_deployments_cfg *d = &cfg->deployments;
	unsigned cap = cfg->n_subtrees + FG_TWINS_MAX;
	struct fg_subtree_cfg *s;

	if (d->cap_subtrees)
		return 0;
	s = realloc(cfg->subtrees, cap * sizeof(*s));
	if (!s)
		return -ENOMEM;
	cfg->subtrees = s;
	d->found = calloc(FG_TWINS_RECORDS, sizeof(*d->found));
	if (!d->found)
		return -ENOMEM;
	d->cap_subtrees = cap;
	return 0;
}

bool fg_twins_inert(const struct fg_config *cfg, unsigned subtree)
{
	const struct fg_subtree_cfg *s = &cfg->subtrees[subtree];

	return s->twin && (!s->dep || __atomic_load_n(&s->dep->gone, __ATOMIC_RELAXED));
}

static bool same_dep(const struct fg_deployment *a, const struct fg_deployment *b)
{
	return !strcmp(a->root, b->root) && a->dev == b->dev && a->ino == b->ino;
}

/* Deployments found before and missing from now become gone. */
static void drop_gone(struct fg_config *cfg, const struct fg_deployment *now, unsigned n,
		      struct fg_twins_change *ret)
{
	struct fg_deployments_cfg *d = &cfg->deployments;

	for (unsigned i = 0; i < d->n_found; i++) {
		struct fg_deployment *f = d->found[i];
		bool alive = false;

		for (unsigned k = 0; k < n && !alive; k++)
			alive = same_dep(f, &now[k]);
		if (f->gone || alive)
			continue;
		__atomic_store_n(&f->gone, true, __ATOMIC_RELAXED);
		ret->deps_removed++;
		for (unsigned s = 0; s < cfg->n_subtrees; s++)
			if (cfg->subtrees[s].dep == f && ret->n_removed < FG_TWINS_MAX)
				ret->removed[ret->n_removed++] = s;
	}
}

static bool known(const struct fg_deployments_cfg *d, const struct fg_deployment *x)
{
	for (unsigned i = 0; i < d->n_found; i++)
		if (!d->found[i]->gone && same_dep(d->found[i], x))
			return true;
	return false;
}

/* An inert twin of base to reuse, else a new slot; -1: no room. */
static int twin_slot(struct fg_config *cfg, unsigned base)
{
	for (unsigned s = 0; s < cfg->n_subtrees; s++)
		if (cfg->subtrees[s].twin == base + 1 && fg_twins_inert(cfg, s))
			return (int)s;
	return cfg->n_subtrees < cfg->deployments.cap_subtrees ? (int)cfg->n_subtrees : -1;
}

static int retire(struct fg_deployments_cfg *d, char *old)
{
	char **r = realloc(d->retired, (d->n_retired + 1) * sizeof(*r));

	if (!r)
		return -ENOMEM;
	d->retired = r;
	d->retired[d->n_retired++] = old;
	return 0;
}

/* Puts base's twin for dep at slot s. A reused entry's path and dep are
 * swapped whole (a reader holds either the old or the new); the old path
 * is kept until the config goes. */
static int place_twin(struct fg_config *cfg, unsigned base, int s, const char *path,
		      const struct fg_deployment *dep)
{
	struct fg_subtree_cfg *t = &cfg->subtrees[s];
	char *p = strdup(path), *old;

	if (!p)
		return -ENOMEM;
	if ((unsigned)s < cfg->n_subtrees) {
		old = __atomic_exchange_n(&t->path, p, __ATOMIC_ACQ_REL);
		__atomic_store_n(&t->dep, dep, __ATOMIC_RELEASE);
		return retire(&cfg->deployments, old);
	}
	*t = cfg->subtrees[base];
	t->path = p;
	t->twin = base + 1;
	t->dep = dep;
	t->optional = true; /* a deployment need not have every subtree */
	__atomic_store_n(&cfg->n_subtrees, cfg->n_subtrees + 1, __ATOMIC_RELEASE);
	return 0;
}

static int add_twins(struct fg_config *cfg, const struct fg_deployment *dep,
		     struct fg_twins_change *ret)
{
	const char *etc = fg_twins_etc(&cfg->deployments);
	unsigned n = cfg->n_subtrees;
	char path[PATH_MAX];
	int r;

	for (unsigned b = 0; b < n; b++) {
		int s;

		if (cfg->subtrees[b].twin ||
		    fg_twins_path(etc, dep->root, cfg->subtrees[b].path, path, sizeof(path)) != 1)
			continue;
		s = twin_slot(cfg, b);
		if (s < 0 || ret->n_added >= FG_TWINS_MAX) {
			ret->full++;
			continue;
		}
		r = place_twin(cfg, b, s, path, dep);
		if (r < 0)
			return r;
		ret->added[ret->n_added++] = (unsigned)s;
	}
	return 0;
}

int fg_twins_apply(struct fg_config *cfg, const struct fg_deployment *now, unsigned n,
		   unsigned more, struct fg_twins_change *ret)
{
	struct fg_deployments_cfg *d = &cfg->deployments;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!d->cap_subtrees && (r = fg_twins_prepare(cfg)) < 0)
		return r;
	/* Roots the scan could not keep (more): one known before may be among
	 * them, so none is taken for gone, and they count as unguarded. */
	__atomic_store_n(&d->scan_more, more, __ATOMIC_RELAXED);
	ret->full = ret->left_out = more;
	if (!more)
		drop_gone(cfg, now, n, ret);
	for (unsigned k = 0; k < n; k++) {
		struct fg_deployment *rec;

		if (known(d, &now[k]))
			continue;
		if (d->n_found >= FG_TWINS_RECORDS) {
			ret->full++;
			continue;
		}
		rec = malloc(sizeof(*rec));
		if (!rec)
			return -ENOMEM;
		*rec = now[k];
		__atomic_store_n(&d->found[d->n_found], rec, __ATOMIC_RELEASE);
		__atomic_store_n(&d->n_found, d->n_found + 1, __ATOMIC_RELEASE);
		ret->deps_added++;
		if (rec->booted) {
			d->booted = rec; /* the running subtrees are its etc */
			continue;
		}
		r = add_twins(cfg, rec, ret);
		if (r < 0)
			return r;
	}
	if (d->booted && d->booted->gone)
		d->booted = NULL;
	if (ret->full > ret->left_out)
		__atomic_add_fetch(&d->short_twins, ret->full - ret->left_out, __ATOMIC_RELAXED);
	return 0;
}

int fg_twins_expand(struct fg_config *cfg)
{
	struct fg_deployment *now = calloc(FG_TWINS_FOUND, sizeof(*now));
	struct fg_twins_change *ch = malloc(sizeof(*ch));
	int r = now && ch ? fg_twins_prepare(cfg) : -ENOMEM;
	unsigned n, more;

	if (r == 0) {
		n = fg_twins_scan(&cfg->deployments, now, FG_TWINS_FOUND, &more);
		r = fg_twins_apply(cfg, now, n, more, ch);
	}
	free(now);
	free(ch);
	return r;
}

/* Whether path matches the first `levels` components of the glob pat. */
int fg_twins_level(const char *pat, unsigned levels, char *buf, size_t size)
{
	const char *p = pat;

	for (unsigned i = 0; i < levels && p; i++)
		p = strchr(p + 1, '/');
	if (!p)
		p = pat + strlen(pat);
	if ((size_t)(p - pat) >= size)
		return -ENAMETOOLONG;
	memcpy(buf, pat, (size_t)(p - pat));
	buf[p - pat] = '\0';
	return 0;
}

static bool level_match(const char *pat, unsigned levels, const char *path)
{
	char pre[PATH_MAX];

	return fg_twins_level(pat, levels, pre, sizeof(pre)) == 0 &&
	       !fnmatch(pre, path, FNM_PATHNAME | FNM_PERIOD);
}

unsigned fg_twins_depth(const char *pat)
{
	unsigned d = 0;

	for (const char *p = pat; (p = strchr(p, '/')); p++)
		d++;
	return d;
}

bool fg_twins_relevant(const struct fg_config *cfg, const char *path)
{
	unsigned n;
	const char *const *roots = fg_twins_roots(&cfg->deployments, &n);

	if (!path || path[0] != '/')
		return false;
	for (unsigned i = 0; i < n; i++)
		for (unsigned lv = 1; lv <= fg_twins_depth(roots[i]); lv++)
			if (level_match(roots[i], lv, path))
				return true;
	return false;
}

unsigned fg_twins_live(const struct fg_config *cfg, unsigned *ret_twins)
{
	const struct fg_deployments_cfg *d = &cfg->deployments;
	unsigned n = 0, t = 0, ns = __atomic_load_n(&cfg->n_subtrees, __ATOMIC_ACQUIRE);

	for (unsigned i = 0; i < __atomic_load_n(&d->n_found, __ATOMIC_ACQUIRE); i++)
		n += !__atomic_load_n(&d->found[i]->gone, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < ns; i++)
		t += cfg->subtrees[i].twin && !fg_twins_inert(cfg, i);
	if (ret_twins)
		*ret_twins = t;
	return n;
}
