/* Percentiles, the table, the JSON, and the targets judged on the
 * numbers of this one run. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

struct target {
	const char *id;
	const char *what;
	const char *num, *den; /* cell ids; den NULL: an absolute value */
	int pct;	       /* 50 or 99 */
	double limit;
};

static const struct target targets[] = {
    {"read_p50", "read-open p50 / floor", "read.fanguardd", "read.floor", 50, 1.3},
    {"read_p99", "read-open p99 / floor", "read.fanguardd", "read.floor", 99, 2.0},
    {"write_p50", "allowed write p50 / floor", "write.fanguardd", "write.floor", 50, 1.3},
    {"write_p99", "allowed write p99 / floor", "write.fanguardd", "write.floor", 99, 2.0},
    {"denied_p50", "denied write p50 / floor", "denied.fanguardd", "denied.floor", 50, 1.5},
    {"unprotected_p50", "unprotected p50 / no listener", "unprotected.fanguardd",
     "unprotected.none", 50, 1.02},
    {"rules1000_p50", "1,000 rules p50 / 10 rules", "scale.rules1000", "scale.rules10", 50, 1.2},
    {"depth300_p50", "300 deep p50 / 3 deep", "scale.depth300", "scale.rules10", 50, 1.2},
    {"depth300_quiet_p50", "300 deep p50 / 3 deep, quiet rule", "scale.quiet300", "scale.quiet3",
     50, 1.2},
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v. */
static double pct(const uint32_t *v, unsigned n, double p)
{
	unsigned i = (unsigned)(p / 100.0 * n);

	return n ? v[i < n ? i : n - 1] / 1000.0 : 0;
}

void cell_add(struct results *r, const char *id, const char *label, const struct shm *s)
{
	static uint32_t sorted[MAX_SAMPLES];
	struct cell *c = &r->cells[r->n_cells++];

	memcpy(sorted, s->lat, s->n * sizeof(*sorted));
	qsort(sorted, s->n, sizeof(*sorted), cmp_u32);
	*c = (struct cell){.id = id,
			   .label = label,
			   .n = s->n,
			   .depth = s->depth,
			   .p50 = pct(sorted, s->n, 50),
			   .p90 = pct(sorted, s->n, 90),
			   .p99 = pct(sorted, s->n, 99)};
}

const struct cell *cell_get(const struct results *r, const char *id)
{
	for (unsigned i = 0; i < r->n_cells; i++)
		if (!strcmp(r->cells[i].id, id))
			return &r->cells[i];
	return NULL;
}

static const struct fgd *daemon_get(const struct results *r, const char *name)
{
	for (unsigned i = 0; i < r->n_daemons; i++)
		if (!strcmp(r->daemons[i].name, name))
			return &r->daemons[i];
	return NULL;
}

/* Ratio num/den at percentile p, or -1 when a cell is missing. */
static double ratio(const struct results *r, const char *num, const char *den, int p)
{
	const struct cell *a = cell_get(r, num), *b = cell_get(r, den);

	if (!a || !b || (p == 50 ? b->p50 : b->p99) <= 0)
		return -1;
	return p == 50 ? a->p50 / b->p50 : a->p99 / b->p99;
}

static double target_value(const struct results *r, const struct target *t)
{
	return ratio(r, t->num, t->den, t->pct);
}

static void machine(char *buf, size_t size)
{
	char line[256], model[128] = "unknown CPU";
	struct utsname u;
	FILE *f = fopen("/proc/cpuinfo", "re");

	while (f && fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');
		if (!strncmp(line, "model name", 10) && c) {
			snprintf(model, sizeof(model), "%s", c + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
	/* Other work on the machine moves every number: say how much there was. */
	double load = -1;
	f = fopen("/proc/loadavg", "re");
	if (!f || fscanf(f, "%lf", &load) != 1)
		load = -1;
	if (f)
		fclose(f);
	uname(&u);
	snprintf(buf, size, "%s, %ld CPUs, Linux %s %s, load average %.2f", model,
		 sysconf(_SC_NPROCESSORS_ONLN), u.release, u.machine, load);
}

static void text_cells(FILE *f, const struct results *r)
{
	fprintf(f, "\nopen+close latency (µs)                             n  depth     p50     p90     "
	       "p99\n");
	for (unsigned i = 0; i < r->n_cells; i++) {
		const struct cell *c = &r->cells[i];
		fprintf(f, "  %-46s %6u %6d %7.2f %7.2f %7.2f\n", c->label, c->n, c->depth, c->p50,
		       c->p90, c->p99);
	}
}

static void text_ratios(FILE *f, const struct results *r)
{
	static const char *rows[][3] = {
	    {"read", "read.fanguardd", "read.floor"},
	    {"allowed write (logged)", "write.fanguardd", "write.floor"},
	    {"allowed write (quiet rule)", "write-quiet.fanguardd", "write.floor"},
	    {"denied write", "denied.fanguardd", "denied.floor"},
	    {"first write of a new process", "first.fanguardd", "first.floor"},
	    {"allowed write (sha256 rule)", "write-sha256.fanguardd", "write.floor"},
	    {"first write of a new process, sha256 rule", "first-sha256.fanguardd", "first.floor"},
	    {"unprotected, vs no listener", "unprotected.fanguardd", "unprotected.none"},
	    {"fork+exit+wait, vs no listener", "churn.fanguardd", "churn.none"},
	};

	fprintf(f, "\nfanguardd / floor                                p50      p99\n");
	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		fprintf(f, "  %-44s %6.2fx  %6.2fx\n", rows[i][0], ratio(r, rows[i][1], rows[i][2], 50),
		       ratio(r, rows[i][1], rows[i][2], 99));
}

static void text_scaling(FILE *f, const struct results *r)
{
	static const char *rows[] = {"scale.rules10",  "scale.rules100",   "scale.rules1000",
				     "scale.depth30",  "scale.depth300",   "scale.quiet3",
				     "scale.quiet300", "denied.fanguardd", "denied.rules1000"};

	fprintf(f, "\ncost growth (allowed write, logged)               p50   / 10 rules, 3 deep\n");
	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct cell *c = cell_get(r, rows[i]);
		const char *base = i < 5   ? "scale.rules10"
				   : i < 7 ? "scale.quiet3"
					   : "denied.fanguardd";
		if (c)
			fprintf(f, "  %-44s %7.2f  %6.2fx\n", c->label, c->p50,
			       ratio(r, rows[i], base, 50));
	}
	fprintf(f, "  (quiet rows: ratio to the quiet 3-deep writer; denied rows: to the 10-rule "
	       "denied write)\n");
}

static void text_rates(FILE *f, const struct results *r)
{
	fprintf(f, "\ndecisions per second (forked opener processes, 1 s each)\n");
	for (unsigned i = 0; i < r->n_rates; i++) {
		const struct rate *t = &r->rates[i];
		fprintf(f, "  %-9s %-22s %u opener%s %10.0f /s\n", t->setup, t->kind, t->procs,
		       t->procs > 1 ? "s" : " ", t->per_s);
	}
}

static void text_daemons(FILE *f, const struct results *r)
{
	fprintf(f, "\nfanguardd per config             VmHWM KiB  VmRSS KiB   CPU ms    events  CPU "
	       "µs/event\n");
	for (unsigned i = 0; i < r->n_daemons; i++) {
		const struct fgd *d = &r->daemons[i];
		fprintf(f, "  %-30s %9ld  %9ld %8.0f %9llu %9.2f\n", d->name, d->hwm_kib, d->rss_kib,
		       d->cpu_ms, (unsigned long long)d->opens,
		       d->opens ? d->cpu_ms * 1000.0 / (double)d->opens : 0);
	}
}

static void text_targets(FILE *f, const struct results *r)
{
	const struct fgd *def = daemon_get(r, "default-policy");

	fprintf(f, "\ntargets (issue 5)                               value   limit  result\n");
	for (unsigned i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		double v = target_value(r, &targets[i]);
		fprintf(f, "  %-44s %6.2fx %6.2fx  %s\n", targets[i].what, v, targets[i].limit,
		       v < 0		       ? "n/a"
		       : v <= targets[i].limit ? "met"
					       : "MISSED");
	}
	if (def)
		fprintf(f, "  %-44s %5.2fMiB %4.2fMiB  %s\n", "peak RSS, default policy",
		       def->hwm_kib / 1024.0, 4.0, def->hwm_kib <= 4096 ? "met" : "MISSED");
}

void report_text(FILE *f, const struct results *r)
{
	char m[512];

	machine(m, sizeof(m));
	fprintf(f, "fgbench: %s\n", m);
	fprintf(f, "fanguardd: %s\n", r->fanguardd);
	fprintf(f, "samples per cell: %u after %u warm-up opens (fewer if a cell passes %.0f s)\n",
	       r->iterations, r->warmup, r->budget_s);
	text_cells(f, r);
	text_ratios(f, r);
	text_scaling(f, r);
	text_rates(f, r);
	text_daemons(f, r);
	text_targets(f, r);
}

static void json_cells(const struct results *r)
{
	printf("\"cells\":{");
	for (unsigned i = 0; i < r->n_cells; i++) {
		const struct cell *c = &r->cells[i];
		printf("%s\"%s\":{\"label\":\"%s\",\"n\":%u,\"depth\":%d,\"p50_us\":%.3f,"
		       "\"p90_us\":%.3f,\"p99_us\":%.3f}",
		       i ? "," : "", c->id, c->label, c->n, c->depth, c->p50, c->p90, c->p99);
	}
	printf("},\"rates\":[");
	for (unsigned i = 0; i < r->n_rates; i++)
		printf("%s{\"setup\":\"%s\",\"kind\":\"%s\",\"openers\":%u,\"per_s\":%.0f}",
		       i ? "," : "", r->rates[i].setup, r->rates[i].kind, r->rates[i].procs,
		       r->rates[i].per_s);
	printf("],");
}

void report_json(const struct results *r)
{
	char m[512];

	machine(m, sizeof(m));
	printf("{\"machine\":\"%s\",\"fanguardd\":\"%s\",\"iterations\":%u,\"warmup\":%u,", m,
	       r->fanguardd, r->iterations, r->warmup);
	json_cells(r);
	printf("\"daemons\":{");
	for (unsigned i = 0; i < r->n_daemons; i++) {
		const struct fgd *d = &r->daemons[i];
		printf("%s\"%s\":{\"vmhwm_kib\":%ld,\"vmrss_kib\":%ld,\"cpu_ms\":%.0f,"
		       "\"events\":%llu}",
		       i ? "," : "", d->name, d->hwm_kib, d->rss_kib, d->cpu_ms,
		       (unsigned long long)d->opens);
	}
	printf("},\"targets\":{");
	for (unsigned i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		double v = target_value(r, &targets[i]);
		printf("%s\"%s\":{\"value\":%.3f,\"limit\":%.2f,\"met\":%s}", i ? "," : "",
		       targets[i].id, v, targets[i].limit,
		       v >= 0 && v <= targets[i].limit ? "true" : "false");
	}
	const struct fgd *def = daemon_get(r, "default-policy");
	if (def)
		printf(",\"rss_default_kib\":{\"value\":%ld,\"limit\":4096,\"met\":%s}",
		       def->hwm_kib, def->hwm_kib <= 4096 ? "true" : "false");
	printf("}}\n");
}

void report_markdown(FILE *f, const struct results *r, const char *cmdline)
{
	char day[32];
	time_t now = time(NULL);

	strftime(day, sizeof(day), "%Y-%m-%d %H:%M UTC", gmtime(&now));
	fprintf(f, "# fgbench results\n\n"
		   "Written by fgbench itself, from one run on %s, reproduced with:\n\n"
		   "```sh\ncmake --build build -j2 && %s\n```\n\n"
		   "Ratios are within this one run (same files, same machine, same minute); "
		   "the absolute\nnumbers move with the machine's load, which the first line "
		   "gives. The *floor* is a\nbare allow-all fanotify listener: the least any "
		   "permission-event guard costs.\n\n```text\n",
		day, cmdline);
	report_text(f, r);
	fprintf(f, "```\n");
}
