/* Proves the text view: each action in plain words, indentation by ancestry, hostile bytes escaped for a terminal, colour only when asked, garbage lines refused with their line number. */
#include "unit.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "textview.h"

#define T0 "\"@timestamp\":\"2026-12-01T23:10:14.855049888Z\""
#define KIND(a) "\"event\":{\"kind\":\"event\",\"action\":\"" a "\""
#define USER "\"user\":{\"id\":\"0\",\"name\":\"root\"}"

static char last[8192];

/* Formats one line with tv into last; returns -1 and the reason in last if refused. */
static int
fmt(struct textview *tv, const char *json)
{
	const char *out;
	size_t n;
	char err[160];

	if (textview_format(tv, json, strlen(json), &out, &n, err, sizeof(err)) == -1) {
		snprintf(last, sizeof(last), "%s", err);
		return -1;
	}
	assert_true(n < sizeof(last));
	memcpy(last, out, n);
	last[n] = '\0';
	assert_int_equal(out[n - 1], '\n');
	return 0;
}

/* The text of the last line formatted, without the date line before it. */
static const char *
line(void)
{
	const char *s = last;
	if (strncmp(s, "--- ", 4) == 0)
		s = strchr(s, '\n') + 1;
	return s;
}

/* Asserts that the last line contains want. */
static void
has(const char *want)
{
	if (strstr(last, want) == NULL)
		fail_msg("'%s' not in '%s'", want, last);
}

/* A process record: action, pid, parent pid, entity ids, and more members of "process". */
static const char *
proc(const char *action, int pid, int ppid, const char *more, const char *hids)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf),
	    "{" T0 ",\"event\":{\"kind\":\"event\",\"action\":\"%s\"},\"process\":{\"pid\":%d,"
	    "\"entity_id\":\"e%d\",\"parent\":{\"pid\":%d,\"entity_id\":\"e%d\"},"
	    "\"user\":{\"id\":\"0\",\"name\":\"root\"}%s%s},\"hids\":{%s}}",
	    action, pid, pid, ppid, ppid, more[0] ? "," : "", more, hids);
	return buf;
}

static int
setup_utc(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

/* exec: local time, action, pid, user and the command line in columns, after a date line. */
static void
test_exec_line(void **state)
{
	struct textview *tv = textview_new(false);
	(void)state;
	assert_int_equal(fmt(tv, proc("exec", 4242, 1, "\"command_line\":\"sh -c exit 3\"", "")), 0);
	assert_string_equal(last, "--- Tue 2026-12-01, times in UTC ---\n"
	    "23:10:14.855 exec          4242 root     sh -c exit 3\n");
	/* The same day: no second date line. */
	assert_int_equal(fmt(tv, proc("exec", 4243, 1, "\"command_line\":\"true\"", "")), 0);
	assert_string_equal(last, "23:10:14.855 exec          4243 root     true\n");
	textview_free(tv);
}

/* The time is local: a zone two hours east shows 01:10 on the next day. */
static void
test_local_time(void **state)
{
	struct textview *tv;
	(void)state;
	setenv("TZ", "XYZ-2", 1);
	tzset();
	tv = textview_new(false);
	assert_int_equal(fmt(tv, proc("exec", 7, 1, "\"command_line\":\"x\"", "")), 0);
	assert_string_equal(last, "--- Wed 2026-12-02, times in XYZ ---\n"
	    "01:10:14.855 exec             7 root     x\n");
	textview_free(tv);
	setup_utc(NULL);
}

/* exit: the code and the duration; by signal, the signal and the core; duration from start and end without event.duration. */
static void
test_exit(void **state)
{
	struct textview *tv = textview_new(false);
	(void)state;
	assert_int_equal(fmt(tv, "{" T0 ",\"event\":{\"action\":\"end\",\"duration\":1234000000},"
	    "\"process\":{\"pid\":9,\"command_line\":\"sleep 1\",\"exit_code\":3}}"), 0);
	assert_string_equal(line(), "23:10:14.855 end              9 -        sleep 1"
	    "  -> exit 3 after 1.23 s\n");
	assert_int_equal(fmt(tv, "{" T0 ",\"event\":{\"action\":\"end\",\"duration\":2500},"
	    "\"process\":{\"pid\":9,\"name\":\"crash\"},\"hids\":{\"signal\":{\"number\":11,"
	    "\"name\":\"SIGSEGV\"},\"core_dumped\":true}}"), 0);
	has("[crash]  -> killed by SIGSEGV (core dumped) after 2 us\n");
	assert_int_equal(fmt(tv, "{" T0 ",\"event\":{\"action\":\"end\"},\"process\":{\"pid\":9,"
	    "\"executable\":\"/bin/x\",\"start\":\"2026-12-01T23:10:14.000000000Z\","
	    "\"end\":\"2026-12-01T23:12:16.500000000Z\"},\"hids\":{\"signal\":{\"number\":40}}}"), 0);
	has("/bin/x  -> killed by signal 40 after 2m02s\n");
	assert_int_equal(fmt(tv, "{" T0 ",\"event\":{\"action\":\"end\",\"duration\":5400000000000},"
	    "\"process\":{\"pid\":9,\"exit_code\":0}}"), 0);
	has("[?]  -> exit 0 after 1h30m\n");
	textview_free(tv);
}

/* Every other process action says what happened in words. */
static void
test_other_actions(void **state)
{
	struct textview *tv = textview_new(false);
	(void)state;
	assert_int_equal(fmt(tv, proc("fork", 11, 10, "\"command_line\":\"bash\"", "")), 0);
	has("fork            11 root     bash  -> new child of 10\n");
	assert_int_equal(fmt(tv, proc("uid_change", 11, 10, "\"command_line\":\"su\"",
	    "\"uid\":{\"real\":1000,\"effective\":0}")), 0);
	has("su  -> real uid 1000, effective uid 0 (root)\n");
	assert_int_equal(fmt(tv, proc("gid_change", 11, 10, "\"command_line\":\"sg\"",
	    "\"gid\":{\"real\":5,\"effective\":6}")), 0);
	has("sg  -> real gid 5, effective gid 6\n");
	assert_int_equal(fmt(tv, proc("session_id_change", 11, 10, "\"command_line\":\"setsid x\"", "")), 0);
	has("setsid x  -> new session\n");
	assert_int_equal(fmt(tv, proc("ptrace", 11, 10, "\"command_line\":\"victim\"",
	    "\"ptrace\":{\"op\":\"attach\"},\"tracer\":{\"pid\":77,\"executable\":\"/usr/bin/gdb\"}")), 0);
	has("victim  -> traced by 77 /usr/bin/gdb\n");
	assert_int_equal(fmt(tv, proc("ptrace", 11, 10, "\"command_line\":\"victim\"",
	    "\"ptrace\":{\"op\":\"detach\"}")), 0);
	has("victim  -> tracer detached\n");
	assert_int_equal(fmt(tv, proc("comm", 11, 10, "\"name\":\"kworker\",\"command_line\":\"evil\"", "")), 0);
	has("evil  -> renamed itself to kworker\n");
	assert_int_equal(fmt(tv, proc("coredump", 11, 10, "\"command_line\":\"crash\"", "")), 0);
	has("crash  -> fatal signal that dumps core; its exit follows\n");
	assert_int_equal(fmt(tv, proc("exec", 12, 10, "\"name\":\"tiny\"", "\"proc_gone\":true")), 0);
	has("[tiny] (gone from /proc before it could be read)\n");
	/* Files written by earlier versions, with the old names, read the same. */
	assert_int_equal(fmt(tv, proc("uid", 11, 10, "\"command_line\":\"su\"",
	    "\"uid\":{\"real\":1000,\"effective\":0}")), 0);
	has("su  -> real uid 1000, effective uid 0 (root)\n");
	assert_int_equal(fmt(tv, proc("exit", 12, 10, "\"exit_code\":2", "")), 0);
	has("exit            12 ");
	has("  -> exit 2\n");
	assert_int_equal(fmt(tv, proc("end", 12, 10, "\"exit_code\":0", "\"proc_gone\":true")), 0);
	has("[?] (not seen before its exit)  -> exit 0\n");
	assert_int_equal(fmt(tv, "{" T0 ",\"event\":{\"action\":\"exec\"},\"process\":{\"pid\":13,"
	    "\"command_line\":\"x\",\"thread\":{\"id\":14}},\"container\":{\"id\":"
	    "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}}"), 0);
	has("    13 -        [0123456789ab] x (thread 14)\n");
	textview_free(tv);
}

/* lost, heartbeat, suppressed and unknown records in plain words. */
static void
test_agent_records(void **state)
{
	struct textview *tv = textview_new(false);
	(void)state;
	assert_int_equal(fmt(tv, "{" T0 "," KIND("lost") "},\"hids\":{\"lost\":12,\"reason\":\"kernel_overrun\"}}"), 0);
	has("lost       12 events lost: the kernel dropped them (receive buffer overrun)\n");
	assert_int_equal(fmt(tv, "{" T0 "," KIND("lost") "},\"hids\":{\"lost\":1,\"reason\":\"queue_full\"}}"), 0);
	has(" 1 event lost: the agent's queue was full\n");
	assert_int_equal(fmt(tv, "{" T0 "," KIND("lost") "},\"hids\":{\"lost\":0,\"reason\":\"spool_full\"}}"), 0);
	has(" events lost (how many is unknown): the spool was full and dropped its oldest records\n");
	assert_int_equal(fmt(tv, "{" T0 "," KIND("lost") "},\"hids\":{\"lost\":0,\"reason\":\"connector_silent\"}}"), 0);
	has(" events may be missing: the kernel did not report the agent's own test process\n");
	assert_int_equal(fmt(tv, "{" T0 "," KIND("lost") "},\"hids\":{\"lost\":3,\"reason\":\"new_one\"}}"), 0);
	has(" 3 events lost: new_one\n");
	assert_int_equal(fmt(tv, "{" T0 "," KIND("heartbeat") "},\"hids\":{\"reason\":\"start\",\"stats\":{"
	    "\"events_seen\":5,\"events_emitted\":4,\"events_lost\":0,\"proctab_size\":83,"
	    "\"rss_bytes\":7143424}}}"), 0);
	assert_string_equal(line(), "23:10:14.855 heartbeat  start: seen 5, emitted 4, lost 0, "
	    "processes 83, rss 6.8 MiB\n");
	assert_int_equal(fmt(tv, "{" T0 "," KIND("heartbeat") "},\"hids\":{\"reason\":\"interval\",\"stats\":{"
	    "\"events_sent\":9,\"queue_bytes\":2048,\"collector\":\"127.0.0.1:6514\",\"connected\":true}}}"), 0);
	has("interval: sent 9, queued 2.0 KiB, collector 127.0.0.1:6514 (connected)\n");
	/* suppressed (another module's record) is shown generically, member by member. */
	assert_int_equal(fmt(tv, "{" T0 "," KIND("suppressed") "},\"hids\":{\"filter\":{\"name\":\"ci\","
	    "\"processes\":120},\"kernel\":{\"cpu\":1}},\"process\":{\"command_line\":\"make -j2\"}}"), 0);
	assert_string_equal(line(), "23:10:14.855 suppressed filter.name=ci filter.processes=120 "
	    "example: make -j2\n");
	/* suppressed as agent/filter.c writes it: in words. */
	assert_int_equal(fmt(tv, "{" T0 "," KIND("suppressed") "},\"hids\":{\"filter\":{\"rule\":\"ci\","
	    "\"action\":\"sample\",\"sample\":10,\"processes\":1,\"events\":3,"
	    "\"first\":\"2026-12-01T23:09:14.000000000Z\",\"last\":\"2026-12-01T23:10:13.000000000Z\","
	    "\"example\":{\"executable\":\"/usr/bin/make\",\"args\":[\"make\",\"-j2\"],"
	    "\"command_line\":\"make -j2\"}}}}"), 0);
	assert_string_equal(line(), "23:10:14.855 suppressed rule ci (keeps 1 in 10) suppressed "
	    "1 process (3 events) from 23:09:14 to 23:10:13, e.g. make -j2\n");
	assert_int_equal(fmt(tv, "{" T0 "," KIND("suppressed") "},\"hids\":{\"filter\":{\"rule\":\"x\\u001b\","
	    "\"processes\":2,\"example\":{\"executable\":\"/bin/\\u009b\"}}}}"), 0);
	has("suppressed rule x\\x1b suppressed 2 processes, e.g. /bin/\\xc2\\x9b\n");
	assert_int_equal(fmt(tv, proc("newaction", 5, 1, "\"command_line\":\"y\"", "\"what\":[1,2]")), 0);
	has("newaction        5 root     y what=[1,2]\n");
	textview_free(tv);
}

/* A child is indented under its parent, a grandchild further; pid reuse and exits reset it; depth is capped. */
static void
test_indentation(void **state)
{
	struct textview *tv = textview_new(false);
	char more[64];
	(void)state;
	assert_int_equal(fmt(tv, proc("exec", 100, 1, "\"command_line\":\"parent\"", "")), 0);
	has(" root     parent\n");
	assert_int_equal(fmt(tv, proc("fork", 101, 100, "\"command_line\":\"parent\"", "")), 0);
	has(" root       parent  -> new child of 100\n");
	assert_int_equal(fmt(tv, proc("exec", 101, 100, "\"command_line\":\"child\"", "")), 0);
	has(" root       child\n");
	assert_int_equal(fmt(tv, proc("exec", 102, 101, "\"command_line\":\"grandchild\"", "")), 0);
	has(" root         grandchild\n");
	assert_int_equal(fmt(tv, proc("end", 102, 101, "\"command_line\":\"grandchild\",\"exit_code\":0", "")), 0);
	has(" root         grandchild  -> exit 0\n");
	/* An exit of an orphan (parent now 1) keeps its own depth. */
	assert_int_equal(fmt(tv, proc("end", 101, 1, "\"command_line\":\"child\",\"exit_code\":0", "")), 0);
	has(" root       child  -> exit 0\n");
	/* pid 101 again, but another process: the old depth is gone. */
	assert_int_equal(fmt(tv, proc("exec", 101, 1, "\"command_line\":\"reused\"", "")), 0);
	has(" root     reused\n");
	/* A parent seen under another entity id (pid reuse) is not this one's parent. */
	assert_int_equal(fmt(tv, "{" T0 ",\"event\":{\"action\":\"exec\"},\"process\":{\"pid\":103,"
	    "\"entity_id\":\"e103\",\"command_line\":\"stranger\",\"parent\":{\"pid\":100,"
	    "\"entity_id\":\"other\"}}}"), 0);
	has(" -        stranger\n");
	/* A chain deeper than TEXTVIEW_MAX_DEPTH stays at the last level. */
	for (int i = 0; i < TEXTVIEW_MAX_DEPTH + 5; i++) {
		snprintf(more, sizeof(more), "\"command_line\":\"d%d\"", i);
		assert_int_equal(fmt(tv, proc("exec", 200 + i, i ? 199 + i : 1, more, "")), 0);
	}
	{
		char want[128];
		snprintf(want, sizeof(want), " root     %*sd%d\n", 2 * TEXTVIEW_MAX_DEPTH, "",
		    TEXTVIEW_MAX_DEPTH + 4);
		has(want);
	}
	textview_free(tv);
}

/* Control bytes, escape sequences, C1 and bidi controls, NULs and invalid UTF-8 never reach the terminal raw. */
static void
test_hostile_bytes(void **state)
{
	struct textview *tv = textview_new(true);
	(void)state;
	assert_int_equal(fmt(tv, proc("exec", 5, 1,
	    "\"command_line\":\"x \\u001b[2J\\u001b[H\\u0007 \\u009b31m \\u202egpj.exe\\u200e a\\\\b \\u0000 caf\\u00e9\"", "")), 0);
	has("x \\x1b[2J\\x1b[H\\x07 \\xc2\\x9b31m \\xe2\\x80\\xaegpj.exe\\xe2\\x80\\x8e a\\\\b \\x00 caf\xc3\xa9");
	/* The only ESC bytes are our own colour sequences. */
	for (const char *p = last; (p = strchr(p, '\033')) != NULL; p++)
		assert_true(p[1] == '[' && (strncmp(p, "\033[0m", 4) == 0 || strncmp(p, "\033[1", 3) == 0 ||
		    strncmp(p, "\033[2m", 4) == 0 || strncmp(p, "\033[3", 3) == 0));
	assert_null(strstr(last, "\033[2J"));
	assert_null(strstr(last, "\033[H"));
	/* A field the agent escaped already keeps its notation: no doubled backslash. */
	assert_int_equal(fmt(tv, "{" T0 ",\"event\":{\"action\":\"exec\"},\"process\":{\"pid\":6,"
	    "\"command_line\":\"/bin/true caf\\\\xe9 back\\\\\\\\slash \\u001b\"},"
	    "\"hids\":{\"escaped\":[\"process.args\",\"process.command_line\"]}}"), 0);
	has("/bin/true caf\\xe9 back\\\\slash \\x1b");
	textview_free(tv);
	/* Raw bytes that are not UTF-8, in an action, a user name and a container id. */
	tv = textview_new(false);
	assert_int_equal(fmt(tv, "{" T0 ",\"event\":{\"action\":\"e\xff\x1b[2J\"},\"process\":{\"pid\":7,"
	    "\"user\":{\"name\":\"r\xc3\x28\"},\"command_line\":\"\xe2\x82\"},"
	    "\"container\":{\"id\":\"\\u001bc\"}}"), 0);
	has("e\\xff\\x1b[2J       7 r\\xc3(   [\\x1bc] \\xe2\\x82");
	assert_null(strchr(last, '\033'));
	textview_free(tv);
}

/* Colour only when asked: no ESC byte at all without it. */
static void
test_color(void **state)
{
	struct textview *tv = textview_new(true);
	(void)state;
	assert_int_equal(fmt(tv, proc("end", 8, 1, "\"command_line\":\"false\",\"exit_code\":1", "")), 0);
	has("\033[1;31m-> exit 1\033[0m");
	has("\033[36mend\033[0m");
	textview_free(tv);
	tv = textview_new(false);
	assert_int_equal(fmt(tv, proc("end", 8, 1, "\"command_line\":\"false\",\"exit_code\":1", "")), 0);
	assert_null(strchr(last, '\033'));
	textview_free(tv);
}

/* Lines that are not events are refused with a reason; wrong types and bad times do not crash. */
static void
test_garbage(void **state)
{
	static const char *bad[] = {
		"", "garbage", "[1,2]", "42", "{\"a\":1}", "{\"event\":{\"action\":5}}",
		"{\"event\":\"exec\"}", "{\"event\":{\"action\":\"exec\"}", "{\"event\":{\"action\":\"exec\"}} x",
		"{\"event\":{\"action\":\"exec\"}}{}", "{'event':1}",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	};
	static const char *odd[] = {
		"{\"event\":{\"action\":\"exec\"}}",
		"{\"@timestamp\":\"yesterday\",\"event\":{\"action\":\"end\",\"duration\":\"long\"},"
		    "\"process\":{\"pid\":\"12\",\"exit_code\":[],\"parent\":7,\"user\":{\"name\":5}}}",
		"{\"@timestamp\":\"2026-13-45T99:99:99Z\",\"event\":{\"action\":\"exec\"},\"process\":{\"pid\":-5}}",
		"{\"@timestamp\":\"9999999-01-01T00:00:00Z\",\"event\":{\"action\":\"end\",\"duration\":-1},"
		    "\"process\":{\"pid\":9223372036854775807,\"start\":\"2026-12-01T23:10:14.9Z\","
		    "\"end\":\"2026-12-01T23:10:14.1Z\"}}",
		"{\"event\":{\"action\":\"end\"},\"process\":{\"start\":\"0001-01-01T00:00:00Z\","
		    "\"end\":\"-999-01-01T00:00:00Z\"}}",
		"{\"event\":{\"action\":\"end\"},\"process\":{\"start\":\"1970-01-01T00:00:00Z\","
		    "\"end\":\"9999-12-31T23:59:60.999999999999Z\"}}",
		"{\"event\":{\"action\":\"heartbeat\"},\"hids\":{\"stats\":[1]}}",
		"{\"event\":{\"action\":\"lost\"},\"hids\":{\"lost\":\"many\",\"reason\":{}}}",
		"{\"event\":{\"action\":\"suppressed\"},\"hids\":5}",
		"{\"event\":{\"action\":\"ptrace\"},\"process\":{\"pid\":3},\"hids\":{\"ptrace\":7}}",
	};
	struct textview *tv = textview_new(false);
	(void)state;
	for (size_t i = 0; i < UNIT_COUNT(bad); i++)
		if (fmt(tv, bad[i]) != -1)
			fail_msg("accepted '%s' as '%s'", bad[i], last);
	assert_int_equal(fmt(tv, "garbage"), -1);
	assert_string_equal(last, "not JSON: unexpected character");
	assert_int_equal(fmt(tv, "{\"a\":1}"), -1);
	assert_string_equal(last, "not an event of the agent (no event.action)");
	for (size_t i = 0; i < UNIT_COUNT(odd); i++)
		assert_int_equal(fmt(tv, odd[i]), 0);
	assert_int_equal(fmt(tv, odd[1]), 0);
	assert_string_equal(last, "--:--:--.--- end              - -        [?]  -> exited\n");
	textview_free(tv);
}

/* Appends a string at *len. */
static void
append(char *buf, size_t *len, const char *s)
{
	memcpy(buf + *len, s, strlen(s));
	*len += strlen(s);
}

/* Writes s to a new temporary file and returns it open for reading. */
static int
input_file(const char *s, size_t n)
{
	char path[] = "/tmp/test_textview.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, s, n), (ssize_t)n);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* --read: every valid line shown in order, invalid ones reported as name:line, blank lines and CRLF fine, an over-long line skipped. */
static void
test_read(void **state)
{
	struct textview *tv = textview_new(false);
	struct textview_read_stats st;
	struct output out;
	size_t big = TEXTVIEW_MAX_LINE + 10, len = 0, olen;
	char *in = malloc(big + 4096), *errs = NULL, *text;
	FILE *errf = open_memstream(&errs, &(size_t){ 0 });
	int fd, ofd;
	char opath[] = "/tmp/test_textview_out.XXXXXX";
	(void)state;

	append(in, &len, proc("exec", 1, 0, "\"command_line\":\"one\"", ""));
	append(in, &len, "\nnot json\n\n   \r\n");
	append(in, &len, proc("exec", 2, 1, "\"command_line\":\"two\"", ""));
	append(in, &len, "\r\n{");
	memset(in + len, ' ', big);
	len += big;
	append(in, &len, "}\n{\"x\":1}\n");
	append(in, &len, proc("exec", 3, 2, "\"command_line\":\"three\"", ""));
	fd = input_file(in, len);
	assert_true((ofd = mkstemp(opath)) >= 0);
	output_init(&out, ofd);
	assert_int_equal(textview_read(tv, fd, "in.json", &out, errf, &st), 0);
	output_release(&out);
	fclose(errf);
	assert_int_equal(st.lines, 8);
	assert_int_equal(st.events, 3);
	assert_int_equal(st.invalid, 3);
	assert_string_equal(errs, "hids-agent: in.json:2: not JSON: null expected\n"
	    "hids-agent: in.json:6: longer than 4194304 bytes; skipped\n"
	    "hids-agent: in.json:7: not an event of the agent (no event.action)\n"
	    "hids-agent: in.json: 3 of 8 lines were not events of the agent\n");
	text = unit_read_file(opath, &olen);
	assert_non_null(text);
	assert_string_equal(text, "--- Tue 2026-12-01, times in UTC ---\n"
	    "23:10:14.855 exec             1 root     one\n"
	    "23:10:14.855 exec             2 root       two\n"
	    "23:10:14.855 exec             3 root         three\n");
	unlink(opath);
	close(fd);
	close(ofd);
	free(text);
	free(errs);
	free(in);
	textview_free(tv);
}

/* Many invalid lines: the first TEXTVIEW_ERR_LINES are reported, the rest counted. */
static void
test_read_many_invalid(void **state)
{
	struct textview *tv = textview_new(false);
	struct textview_read_stats st;
	struct output out;
	char *errs = NULL, *in = malloc(2 * (TEXTVIEW_ERR_LINES + 50));
	size_t elen = 0, n = 0;
	FILE *errf = open_memstream(&errs, &elen);
	int fd, lines = 0;
	(void)state;

	for (int i = 0; i < TEXTVIEW_ERR_LINES + 50; i++) {
		in[n++] = 'x';
		in[n++] = '\n';
	}
	fd = input_file(in, n);
	output_init(&out, open("/dev/null", O_WRONLY | O_CLOEXEC));
	assert_int_equal(textview_read(tv, fd, "f", &out, errf, &st), 0);
	close(out.fd);
	output_release(&out);
	fclose(errf);
	assert_int_equal(st.invalid, TEXTVIEW_ERR_LINES + 50);
	for (char *p = errs; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	assert_int_equal(lines, TEXTVIEW_ERR_LINES + 2);
	assert_non_null(strstr(errs, "further invalid lines are only counted"));
	assert_non_null(strstr(errs, "150 of 150 lines"));
	close(fd);
	free(errs);
	free(in);
	textview_free(tv);
}

/* Formats one fuzz input; each must be shown or refused, never crash. */
static void
replay_one(const char *name, const char *buf, size_t len, void *arg)
{
	const char *out;
	size_t n;
	char err[160];
	(void)name;
	if (textview_format(arg, buf, len, &out, &n, err, sizeof(err)) == 0)
		assert_int_equal(out[n - 1], '\n');
}

/* The fuzz corpus and every crash the fuzzer found go through the formatter. */
static void
test_fuzz_inputs(void **state)
{
	struct textview *tv = textview_new(true);
	(void)state;
	assert_true(unit_for_each_file(HIDS_FUZZ_DIR "/corpus/textview", replay_one, tv) > 0);
	assert_true(unit_for_each_file(HIDS_FUZZ_DIR "/regressions/textview", replay_one, tv) > 0);
	textview_free(tv);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_exec_line, setup_utc),
		cmocka_unit_test_setup(test_local_time, setup_utc),
		cmocka_unit_test_setup(test_exit, setup_utc),
		cmocka_unit_test_setup(test_other_actions, setup_utc),
		cmocka_unit_test_setup(test_agent_records, setup_utc),
		cmocka_unit_test_setup(test_indentation, setup_utc),
		cmocka_unit_test_setup(test_hostile_bytes, setup_utc),
		cmocka_unit_test_setup(test_color, setup_utc),
		cmocka_unit_test_setup(test_garbage, setup_utc),
		cmocka_unit_test_setup(test_read, setup_utc),
		cmocka_unit_test_setup(test_read_many_invalid, setup_utc),
		cmocka_unit_test_setup(test_fuzz_inputs, setup_utc),
	};
	return unit_main(argc, argv, "textview", tests, UNIT_COUNT(tests), NULL, 0);
}
