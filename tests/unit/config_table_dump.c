/*
 * config_table_dump.c: prints the config key table, one key a line as
 * section TAB name TAB type TAB default (or "-") TAB reload|restart, for
 * check_config_docs.py to hold the example config and the man page to.
 */
#include <stdio.h>

#include "config.h"

/* Prints every key of the table. */
int
main(void)
{
	size_t n;
	const struct config_key *k = config_keys(&n);

	for (size_t i = 0; i < n; i++)
		printf("%s\t%s\t%s\t%s\t%s\n", k[i].section, k[i].name,
		    config_type_name(k[i].type), k[i].def ? k[i].def : "-",
		    k[i].reload ? "reload" : "restart");
	return 0;
}
