#ifndef FANGUARD_TXSCOPE_H
#define FANGUARD_TXSCOPE_H

#include <stdbool.h>

#include "fanguard/config.h"

/* Whether a subtree at path lies where the transaction passthrough applies
 * under cfg's [transaction] scope: with `deployments`, a deployment root or
 * a place the upgrade itself writes in the running system, never the
 * running /etc. Pure; the policy asks it for the subtree a write is in. */
bool fg_tx_in_scope(const struct fg_config *cfg, const char *path);

#endif
