/* fg_preload.so: code an attacker would preload into an allowed writer
 * (LD_PRELOAD, LD_AUDIT), for tests/e2e/test_ident.sh. It does nothing
 * but be loaded, and with FG_PRELOAD_SCRUB=1 it rubs LD_PRELOAD out of
 * the environment block its process shows in /proc/PID/environ, as a
 * careful attacker would: the library stays mapped, the variable is gone. */
#include <stdlib.h>
#include <string.h>

extern char **environ;

__attribute__((constructor)) static void scrub(void)
{
	const char *s = getenv("FG_PRELOAD_SCRUB");

	if (!s || strcmp(s, "1") != 0)
		return;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "LD_PRELOAD=", 11) == 0)
			memcpy(*e, "XX", 2);
}

/* LD_AUDIT needs the audit interface's version call. */
unsigned int la_version(unsigned int version);
unsigned int la_version(unsigned int version)
{
	return version;
}
