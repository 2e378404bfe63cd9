/* The text line: "fanguard: key=value ...", for a human at a terminal or a
 * syslog reader that does not parse JSON. Same rules as the JSON line: what
 * was not read is left out, and the line never passes max_line. */
#include "fanguard/logfmt.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "fanguard/json.h"
#include "fanguard/util.h"

/* Room kept for " truncated=true\n" and the NUL. */
#define TEXT_MARK " truncated=true\n"

struct tline {
	char *buf;
	size_t cap; /* without the room kept for TEXT_MARK */
	size_t len;
	bool cut;
};

static bool tput(struct tline *t, const char *s, size_t n)
{
	if (n > t->cap - t->len)
		return false;
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	return true;
}

/* Bare words stay bare; anything a reader could mis-split is quoted. */
static bool needs_quote(const char *s, size_t n)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("_-.:/@+", c)))
			return true;
	}
	return false;
}

static bool tescaped(struct tline *t, const char *val, size_t n)
{
	size_t room = t->cap - t->len;
	size_t need = fg_json_escape(t->buf + t->len, room, val, n, NULL);

	if (need >= room)
		return false;
	t->len += need;
	return true;
}

/* Appends " key=value", whole or not at all. */
static void tfield(struct tline *t, const char *key, const char *val, size_t max, bool quote)
{
	size_t mark = t->len, n;

	if (!val)
		return;
	n = strnlen(val, max);
	quote = quote || needs_quote(val, n);
	if (tput(t, " ", 1) && tput(t, key, strlen(key)) && tput(t, "=", 1) &&
	    (!quote || tput(t, "\"", 1)) && tescaped(t, val, n) && (!quote || tput(t, "\"", 1)))
		return;
	t->len = mark;
	t->cut = true;
}

static void tu64(struct tline *t, const char *key, uint64_t v)
{
	char tmp[24];

	snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	tfield(t, key, tmp, sizeof(tmp), false);
}

static void tid_word(struct tline *t, const char *key, uint32_t id)
{
	if (id == FG_AUID_UNSET)
		tfield(t, key, "unset", 8, false);
	else
		tu64(t, key, id);
}

static void text_proc(struct tline *t, const struct fg_proc *p)
{
	if ((p->known & FG_PROC_STATUS) && p->pid > 0)
		tu64(t, "pid", (uint64_t)p->pid);
	if (p->tid > 0 && p->tid != p->pid)
		tu64(t, "tid", (uint64_t)p->tid);
	if ((p->known & FG_PROC_EXE) && p->exe[0])
		tfield(t, "exe", p->exe, sizeof(p->exe), true);
	if (p->known & FG_PROC_STAT)
		tfield(t, "comm", p->comm, FG_COMM_LEN, true);
	if (p->known & FG_PROC_STATUS)
		tu64(t, "uid", p->uid);
	if (p->known & FG_PROC_AUID)
		tid_word(t, "auid", p->auid);
	if (p->n_ancestors > 0) {
		uint32_t off = p->anc[0].exe_off;

		tu64(t, "ppid", (uint64_t)p->anc[0].pid);
		if (off < FG_ARENA_LEN && p->arena[off])
			tfield(t, "pexe", p->arena + off, FG_ARENA_LEN - off, true);
	}
}

static void text_open(struct tline *t, const struct fg_event *ev)
{
	char tmp[24];

	snprintf(tmp, sizeof(tmp), "0x%" PRIx64, ev->open_flags);
	tfield(t, "flags", tmp, sizeof(tmp), false);
	if (ev->open_syscall) {
		tfield(t, "syscall", ev->open_syscall, 32, false);
	} else {
		snprintf(tmp, sizeof(tmp), "%ld", ev->open_nr);
		tfield(t, "nr", tmp, sizeof(tmp), false);
	}
}

static void text_extra(struct tline *t, const struct fg_event *ev)
{
	if (ev->repeat) {
		tfield(t, "repeats", ev->repeat->action, 64, false);
		tu64(t, "count", ev->repeat->count);
		tfield(t, "last_path", ev->repeat->last_path, PATH_MAX, true);
	}
	if (ev->lost) {
		tu64(t, "lost", ev->lost->count);
		tu64(t, "lost_first", ev->lost->first);
		tu64(t, "lost_last", ev->lost->last);
	}
	if (ev->heartbeat)
		tu64(t, "last_seq", ev->heartbeat->last_sequence);
}

size_t fg_log_format_text(const struct fg_loghost *host, const struct fg_event *ev, size_t max_line,
			  char *buf)
{
	struct tline t = {buf, max_line + 1 - sizeof(TEXT_MARK), 0, false};

	(void)host;
	tput(&t, "fanguard:", 9);
	if (ev->sequence)
		tu64(&t, "seq", ev->sequence);
	tfield(&t, "action", ev->action, 64, false);
	tfield(&t, "decision", ev->decision, 64, false);
	tfield(&t, "reason", ev->reason, 64, false);
	tfield(&t, "mode", ev->mode, 64, false);
	tfield(&t, "subtree", ev->subtree, FG_NAME_MAX, false);
	tfield(&t, "key", ev->key, FG_NAME_MAX, false);
	tfield(&t, "path", ev->path, FG_LINE_CAP, true);
	tfield(&t, "old_path", ev->old_path, FG_LINE_CAP, true);
	tfield(&t, "new_path", ev->new_path, FG_LINE_CAP, true);
	tfield(&t, "file_type", ev->file_type, 16, false);
	if (ev->proc)
		text_proc(&t, ev->proc);
	tfield(&t, "rule", ev->rule, FG_NAME_MAX, false);
	if (!strcmp(ev->action ? ev->action : "", "transaction-end"))
		tu64(&t, "count", ev->count);
	if (ev->tx_pid) {
		tu64(&t, "tx_pid", (uint64_t)ev->tx_pid);
		tfield(&t, "tx_exe", ev->tx_exe, PATH_MAX, true);
	}
	if (ev->has_open)
		text_open(&t, ev);
	text_extra(&t, ev);
	if (ev->proc_partial)
		tfield(&t, "resolution", "partial", 16, false);
	tfield(&t, "message", ev->message, FG_LINE_CAP, true);
	/* The reserve behind cap always holds the tail. */
	if (t.cut) {
		memcpy(buf + t.len, TEXT_MARK, sizeof(TEXT_MARK));
		return t.len + sizeof(TEXT_MARK) - 1;
	}
	buf[t.len++] = '\n';
	buf[t.len] = '\0';
	return t.len;
}
