#include "fanguard/state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fanguard/util.h"

int fg_state_init(struct fg_state *s, unsigned n_rules)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < FG_TX_MAX; i++)
		s->tx[i].pidfd = -1;
	clock_gettime(CLOCK_REALTIME, &s->started);
	s->started_mono_ns = fg_now_ns();
	s->runs = calloc(FG_RUN_MAX, sizeof(*s->runs));
	if (!s->runs)
		return -ENOMEM;
	for (unsigned i = 0; i < FG_RUN_MAX; i++)
		s->runs[i].pidfd = -1;
	return fg_state_rules(s, n_rules);
}

int fg_state_rules(struct fg_state *s, unsigned n_rules)
{
	uint64_t *h = calloc(n_rules ? n_rules : 1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	free(s->rule_hits);
	s->rule_hits = h;
	s->n_rules = n_rules;
	return 0;
}

void fg_state_free(struct fg_state *s)
{
	free(s->rule_hits);
	s->rule_hits = NULL;
	for (unsigned i = 0; s->runs && i < FG_RUN_MAX; i++)
		if (s->runs[i].pid && s->runs[i].pidfd >= 0)
			close(s->runs[i].pidfd);
	free(s->runs);
	s->runs = NULL;
	for (unsigned i = 0; i < FG_TX_MAX; i++)
		if (s->tx[i].pid && s->tx[i].pidfd >= 0)
			close(s->tx[i].pidfd);
}

void fg_state_add_recent(struct fg_state *s, const struct fg_recent *r)
{
	s->recent[s->recent_next] = *r;
	s->recent_next = (s->recent_next + 1) % FG_RECENT_MAX;
	if (s->recent_n < FG_RECENT_MAX)
		s->recent_n++;
}

void fg_state_latency(struct fg_state *s, uint64_t ns)
{
	unsigned b = 0;

	while (b + 1 < FG_LAT_BUCKETS && (ns >> b) > 1)
		b++;
	s->lat[b]++;
	s->lat_n++;
	if (ns > s->lat_max_ns)
		s->lat_max_ns = ns;
}

void fg_state_latency_summary(const struct fg_state *s, uint64_t *ret_median, uint64_t *ret_max)
{
	uint64_t seen = 0, median = 0;

	for (unsigned b = 0; b < FG_LAT_BUCKETS && s->lat_n; b++) {
		seen += s->lat[b];
		if (seen * 2 >= s->lat_n) {
			median = 2ULL << b;
			break;
		}
	}
	*ret_median = median;
	*ret_max = s->lat_max_ns;
}
