/*
 * setuid_probe: the live exe test's set-user-ID program. Installed setuid
 * root and run by an unprivileged user, it takes root as its real uid too
 * (a uid_change event the test looks for), stays a moment so the agent
 * can read it, and exits 0; 1 if setuid(0) failed.
 */
#include <unistd.h>

int
main(void)
{
	if (setuid(0) == -1)
		return 1;
	usleep(200000);
	return 0;
}
