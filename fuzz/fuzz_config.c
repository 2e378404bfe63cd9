/* libFuzzer harness for the config reader: the input is one config file.
 *
 * It is loaded twice, once through the pieces (init, load_file, finish,
 * free) and once through fg_config_load, and both results are checked
 * against what config.h promises: every message is terminated and names the
 * file, a failed load leaves nothing behind, a successful one holds only
 * validated values. */
#include "fanguard/config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One memfd reused for every input; its /proc/self/fd path is what the
 * reader opens, so each load starts at offset 0 of the current input. */
static int memfd = -1;
/* A directory that does not exist: the search's /etc locations. */
#define NOWHERE "/nonexistent/fanguard-fuzz"
static char path[64];

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_config: %s:%d: check failed: %s\n", __FILE__,        \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	memfd = memfd_create("fuzz_config", MFD_CLOEXEC);
	if (memfd < 0) {
		perror("memfd_create");
		abort();
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	return 0;
}

static void put_input(const uint8_t *data, size_t size)
{
	CHECK(ftruncate(memfd, 0) == 0);
	for (size_t off = 0; off < size;) {
		ssize_t n = pwrite(memfd, data + off, size - off, (off_t)off);
		CHECK(n > 0);
		off += (size_t)n;
	}
}

/* Every message is NUL-terminated inside its slot and starts "PATH:";
 * with the default search, `other` is the one message about no file. */
static void check_diag(const struct fg_diag *d, const char *other)
{
	size_t pl = strlen(path);

	CHECK(d->n <= FG_DIAG_MAX);
	for (unsigned i = 0; i < d->n; i++) {
		CHECK(memchr(d->msg[i], '\0', FG_DIAG_LEN) != NULL);
		if (other && strncmp(d->msg[i], other, strlen(other)) == 0)
			continue;
		if (strncmp(d->msg[i], path, pl) != 0 || d->msg[i][pl] != ':') {
			fprintf(stderr, "fuzz_config: message %u does not name the file: %s\n", i,
				d->msg[i]);
			abort();
		}
	}
}

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void check_strlist(const struct fg_strlist *l)
{
	CHECK(l->n <= FG_LIST_MAX);
	for (unsigned i = 0; i < l->n; i++)
		CHECK(l->v[i] && l->v[i][0] != '\0');
}

static void check_idlist(const struct fg_idlist *l)
{
	CHECK(l->n <= FG_LIST_MAX);
}

/* What a loaded config may hold, whatever the file said. */
static void check_config(const struct fg_config *c)
{
	CHECK(c->n_files <= FG_FILES_MAX);
	CHECK(c->n_subtrees <= FG_SUBTREES_MAX);
	CHECK(c->n_writers <= FG_WRITERS_MAX);
	CHECK(c->mode == FG_MODE_ENFORCE || c->mode == FG_MODE_AUDIT);
	CHECK((unsigned)c->log <= FG_SINK_JOURNAL);
	CHECK((unsigned)c->log_format <= FG_FMT_TEXT);
	CHECK((unsigned)c->on_error <= FG_FAIL_ALLOW);
	CHECK((unsigned)c->unknown_intent <= FG_UNKNOWN_READ);
	CHECK((unsigned)c->on_overload <= FG_OVERLOAD_DENY);
	CHECK(terminated(c->log_path, sizeof(c->log_path)));
	CHECK(c->log != FG_SINK_FILE || c->log_path[0] == '/');
	CHECK(terminated(c->status_socket, sizeof(c->status_socket)));
	CHECK(c->status_socket[0] == '/');
	CHECK(terminated(c->status_group, sizeof(c->status_group)));
	for (unsigned i = 0; i < c->n_subtrees; i++) {
		const struct fg_subtree_cfg *s = &c->subtrees[i];
		CHECK(terminated(s->name, sizeof(s->name)) && s->name[0]);
		CHECK(terminated(s->key, sizeof(s->key)) && s->key[0]);
		CHECK(s->path && s->path[0] == '/' && strcmp(s->path, "/") != 0);
		CHECK(strstr(s->path, "//") == NULL);
		CHECK((unsigned)s->mode <= FG_MODE_AUDIT);
		CHECK(s->mark == FG_MARK_INODE);
		CHECK(fg_config_find_subtree(c, s->name) == (int)i);
	}
	for (unsigned i = 0; i < c->n_writers; i++) {
		const struct fg_writer_cfg *w = &c->writers[i];
		CHECK(terminated(w->name, sizeof(w->name)) && w->name[0]);
		check_strlist(&w->exe);
		check_strlist(&w->comm);
		check_idlist(&w->uid);
		check_idlist(&w->auid);
		check_strlist(&w->ancestor);
		check_strlist(&w->parent);
		check_strlist(&w->cgroup);
		check_strlist(&w->subtrees);
		for (unsigned j = 0; j < w->subtrees.n; j++)
			CHECK(fg_config_find_subtree(c, w->subtrees.v[j]) >= 0);
	}
	check_strlist(&c->transaction.exe);
	check_idlist(&c->transaction.uid);
	check_strlist(&c->transaction.cgroup);
}

/* A subtree whose path is dir, or a recursive one above it. */
static bool covered(const struct fg_config *c, const char *dir)
{
	for (unsigned i = 0; i < c->n_subtrees; i++) {
		const char *p = c->subtrees[i].path;
		size_t n = strlen(p);
		if (strcmp(p, dir) == 0 ||
		    (c->subtrees[i].recursive && strncmp(dir, p, n) == 0 && dir[n] == '/'))
			return true;
	}
	return false;
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fg_diag diag;
	static struct fg_config cfg;
	int r, k;

	put_input(data, size);

	memset(&diag, 0, sizeof(diag));
	fg_config_init(&cfg);
	r = fg_config_load_file(&cfg, path, &diag);
	CHECK(r == 0 || r == -EINVAL);
	CHECK((r == 0) == (diag.n == 0 && diag.dropped == 0));
	k = fg_config_finish(&cfg, &diag);
	CHECK(k == 0 || k == -EINVAL);
	check_diag(&diag, NULL);
	if (r == 0 && k == 0)
		check_config(&cfg);
	fg_config_free(&cfg);
	CHECK(all_zero(&cfg, sizeof(cfg)));

	memset(&diag, 0, sizeof(diag));
	memset(&cfg, 0xa5, sizeof(cfg));
	r = fg_config_load(&cfg, path, &diag);
	CHECK(r == 0 || r == -EINVAL);
	check_diag(&diag, NULL);
	if (r == 0) {
		CHECK(diag.n == 0);
		check_config(&cfg);
		fg_config_free(&cfg);
	} else {
		CHECK(diag.n > 0);
		CHECK(all_zero(&cfg, sizeof(cfg)));
	}

	/* As the image's file in the default search (nothing in /etc): adds
	 * the /etc/fanguard subtree unless one covers it already. */
	memset(&diag, 0, sizeof(diag));
	memset(&cfg, 0xa5, sizeof(cfg));
	r = fg_config_load_search(&cfg, path, NOWHERE "/fanguard.conf", NOWHERE "/conf.d", &diag);
	CHECK(r == 0 || r == -EINVAL);
	check_diag(&diag, "too many subtrees: no room left for /etc/fanguard");
	if (r == 0) {
		check_config(&cfg);
		CHECK(covered(&cfg, "/etc/fanguard"));
		fg_config_free(&cfg);
	} else {
		CHECK(all_zero(&cfg, sizeof(cfg)));
	}
	return 0;
}
