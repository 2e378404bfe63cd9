/* A cleanup attribute for jansson values, as util.h has for fds and memory. */
#ifndef FANGUARD_JCLEANUP_H
#define FANGUARD_JCLEANUP_H

#include <jansson.h>

static inline void fg_json_decrefp(json_t **j)
{
	if (*j)
		json_decref(*j);
}
#define _cleanup_json_ __attribute__((cleanup(fg_json_decrefp)))

#endif
