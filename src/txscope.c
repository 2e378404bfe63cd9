/* Where the upgrade passthrough applies ([transaction] scope, DESIGN 4):
 * the deployment roots and the few places of the running system that
 * bootc and ostree write, never the running /etc. */
#include "fanguard/txscope.h"

#include <string.h>

/* Where bootc and ostree write outside the deployment roots in the
 * running system during upgrade, switch, rollback and finalize-staged
 * (SECURITY.md lists each with the source it was read from): the boot
 * loader's entries and kernels, the ESP, their runtime state and bootc's
 * reboot notice. None of it is under /etc. */
static const char *const upgrade_writes[] = {"/boot", "/efi", "/run/ostree", "/run/composefs",
					     "/run/reboot-required"};

/* path is dir or lies below it */
static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

bool fg_tx_in_scope(const struct fg_config *cfg, const char *path)
{
	if (cfg->transaction.scope == FG_TX_SCOPE_ALL)
		return true;
	/* Every deployment root lives under the physical sysroot
	 * (/sysroot/ostree/deploy/<stateroot>/deploy/<checksum>.<serial>,
	 * /sysroot/state/deploy/<id>), and so do the repository, the
	 * stateroots' /var and the bootlinks that the upgrade writes. The
	 * [deployments] root globs narrow this once they exist. */
	if (under(path, "/sysroot"))
		return true;
	for (size_t i = 0; i < sizeof(upgrade_writes) / sizeof(upgrade_writes[0]); i++)
		if (under(path, upgrade_writes[i]))
			return true;
	return false;
}
