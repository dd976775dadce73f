/* Proves the metrics text follows the Prometheus exposition format 0.0.4 for every listed counter: a valid name, HELP and TYPE, _total on counters only, the groups as in the heartbeat, escaped labels. */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "unit.h"

/* Says whether line is in text as a whole line. */
static bool
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

/* Says whether name is a valid Prometheus metric name. */
static bool
valid_name(const char *name)
{
	if (!isalpha((unsigned char)name[0]) && name[0] != '_')
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return false;
	return true;
}

/* Renders st and checks each listed counter's three lines, present or absent by group. */
static void
check_render(const struct agent_stats *st)
{
	size_t n, len;
	const struct agent_stat_desc *d = agent_stats_list(&n);
	char *text = metrics_render(st, "1.2.3", 1700000000, &len);
	char line[512], name[128];

	assert_int_equal(strlen(text), len);
	assert_true(len > 0 && text[len - 1] == '\n');
	assert_true(has_line(text, "# TYPE hids_agent_info gauge"));
	assert_true(has_line(text, "hids_agent_info{version=\"1.2.3\"} 1"));
	assert_true(has_line(text, "hids_start_time_seconds 1700000000"));
	for (size_t i = 0; i < n; i++) {
		bool counter = d[i].kind == STAT_COUNTER;
		bool shown = agent_stats_has_group(st, d[i].group);
		snprintf(name, sizeof(name), "hids_%s%s", d[i].name, counter ? "_total" : "");
		assert_true(valid_name(name));
		snprintf(line, sizeof(line), "# HELP %s %s", name, d[i].help);
		assert_int_equal(has_line(text, line), shown);
		snprintf(line, sizeof(line), "# TYPE %s %s", name, counter ? "counter" : "gauge");
		assert_int_equal(has_line(text, line), shown);
		snprintf(line, sizeof(line), "%s %llu", name,
		    (unsigned long long)agent_stats_value(st, &d[i]));
		assert_int_equal(has_line(text, line), shown);
	}
	assert_int_equal(has_line(text, "hids_collector_connected 1"), st->forwarding);
	free(text);
}

static void
test_render_groups(void **state)
{
	struct agent_stats st;
	size_t n;
	const struct agent_stat_desc *d = agent_stats_list(&n);

	memset(&st, 0, sizeof(st));
	for (size_t i = 0; i < n; i++) {
		uint64_t v = 18446744073709551000ull + i;	/* near UINT64_MAX: no float, no sign */
		memcpy((char *)&st + d[i].offset, &v, sizeof(v));
	}
	check_render(&st);
	st.forwarding = true;
	st.connected = true;
	check_render(&st);
	st.spooling = true;
	check_render(&st);
}

static void
test_render_escapes_label(void **state)
{
	struct agent_stats st;
	size_t len;
	char *text;

	memset(&st, 0, sizeof(st));
	text = metrics_render(&st, "a\"b\\c\nd", 0, &len);
	assert_true(has_line(text, "hids_agent_info{version=\"a\\\"b\\\\c\\nd\"} 1"));
	free(text);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_groups),
		cmocka_unit_test(test_render_escapes_label),
	};
	return unit_main(argc, argv, "metrics", tests, UNIT_COUNT(tests), NULL, 0);
}
