#include "fanguard/logdeploy.h"

#include <string.h>

#include "fanguard/deployments.h"
#include "fanguard/logschema.h"
#include "fanguard/sigpolicy.h"

static void str_if(struct fg_json *j, const char *key, const char *val)
{
	if (val && val[0])
		fg_json_str(j, key, val);
}

void fg_logdeploy_ecs(struct fg_json *j, const struct fg_event *ev)
{
	const struct fg_finding *f = ev->finding;

	if (!f || !f->dep.present || !f->dep.image[0])
		return;
	fg_json_obj_open(j, "container");
	fg_json_obj_open(j, "image");
	fg_json_str(j, "name", f->dep.image);
	if (f->dep.digest[0]) {
		fg_json_obj_open(j, "hash");
		fg_json_arr_open(j, "all");
		fg_json_str(j, NULL, f->dep.digest);
		fg_json_arr_close(j);
		fg_json_obj_close(j);
	}
	fg_json_obj_close(j);
	fg_json_obj_close(j);
}

static void deployment(struct fg_json *j, const struct fg_finding *f)
{
	const struct fg_deploy_mem *d = &f->dep;

	fg_json_obj_open(j, "deployment");
	str_if(j, "slot", f->slot);
	if (d->present) {
		str_if(j, "image", d->image);
		str_if(j, "transport", d->transport);
		str_if(j, "digest", d->digest);
		str_if(j, "version", d->version);
		str_if(j, "signature", d->signature);
		if (d->has_timestamp) {
			struct timespec ts = {.tv_sec = (time_t)d->timestamp};
			char buf[40];

			fg_log_iso8601(&ts, buf, sizeof(buf));
			fg_json_str(j, "timestamp", buf);
		}
	}
	fg_json_bool(j, "approved", f->approved);
	str_if(j, "ticket", f->ticket);
	fg_json_bool(j, "alert", f->alert);
	fg_json_obj_close(j);
}

static void sigpolicy(struct fg_json *j, const struct fg_event *ev)
{
	const struct fg_sigpolicy_verdict *v = ev->sigpolicy;

	fg_json_obj_open(j, "sigpolicy");
	fg_json_str(j, "verdict", fg_sigverdict_name(v->verdict));
	str_if(j, "trigger", ev->sigpolicy_trigger);
	str_if(j, "error", v->error);
	str_if(j, "changed", ev->sigpolicy_changes);
	if (v->n_scopes) {
		fg_json_arr_open(j, "scopes");
		for (unsigned i = 0; i < v->n_scopes; i++) {
			fg_json_obj_open(j, NULL);
			fg_json_str(j, "name", v->scopes[i].name);
			fg_json_str(j, "requirement", v->scopes[i].req_name);
			fg_json_str(j, "entry", v->scopes[i].entry);
			fg_json_obj_close(j);
		}
		fg_json_arr_close(j);
	}
	fg_json_obj_close(j);
}

/* The deployment an event's path lies in (twins.h). */
static void twin_deployment(struct fg_json *j, const struct fg_event *ev)
{
	fg_json_obj_open(j, "deployment");
	str_if(j, "id", ev->dep_id);
	str_if(j, "stateroot", ev->dep_stateroot);
	fg_json_bool(j, "booted", ev->dep_booted);
	fg_json_obj_close(j);
}

void fg_logdeploy_fanguard(struct fg_json *j, const struct fg_event *ev)
{
	if (ev->finding)
		deployment(j, ev->finding);
	else if (ev->has_deployment)
		twin_deployment(j, ev);
	if (ev->sigpolicy)
		sigpolicy(j, ev);
}
