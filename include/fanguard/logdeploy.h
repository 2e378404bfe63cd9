/* The parts of an event line that belong to `fanguard deployments` and to
 * the signature policy: fanguard.deployment, fanguard.sigpolicy and the ECS
 * container.image fields. Called by logfmt.c inside its object; nothing is
 * written when the event carries neither. */
#ifndef FANGUARD_LOGDEPLOY_H
#define FANGUARD_LOGDEPLOY_H

#include "fanguard/json.h"
#include "fanguard/log.h"

/* ECS container.image.name and container.image.hash.all, at top level. */
void fg_logdeploy_ecs(struct fg_json *j, const struct fg_event *ev);
/* fanguard.deployment and fanguard.sigpolicy, inside the fanguard object. */
void fg_logdeploy_fanguard(struct fg_json *j, const struct fg_event *ev);

#endif
