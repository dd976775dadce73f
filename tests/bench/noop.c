/*
 * noop.c: the program the benchmark's storm execs. It does nothing, so the
 * process lives only microseconds after its exec: the hardest case for a
 * collector that reads /proc/PID/cmdline after the exec event. Built with
 * -static when possible, so no dynamic loader stretches that window.
 */
int
main(void)
{
	return 0;
}
