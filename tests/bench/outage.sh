#!/usr/bin/env bash
#
# outage.sh: delivery through a collector outage, and the disk spool's
# throughput against the disk, in one run. A benchmark, not a test: it
# prints markdown tables and exits 0 unless it could not run.
#
# Usage (as root, after building the agent):
#   tests/bench/outage.sh [-a AGENT] [--outage S] [--keep]
#
#   -a, --agent PATH   agent binary (default: build/hids-agent in the repo)
#       --outage S     seconds the collector is down (default 30)
#       --keep         keep the work directory
#   -h, --help         print this help
#
# 1. Outage, per protocol (relp to rsyslog imrelp, ndjson to rsyslog imtcp,
#    both over TLS on 127.0.0.1, both with [spool] dir): 200 processes
#    /bin/true MARKER-i before, 600 during an outage of S seconds, and 200
#    after the spool drained. Delivered / expected is counted two ways: the
#    exec events of the markers, and every event of the agent's run by
#    event.sequence (after dropping repeated event.ids).
# 2. Spool throughput: dd oflag=direct measures the disk's sequential write
#    speed in the spool's filesystem; agent/spool.c, compiled into a small
#    driver, appends real event lines from part 1 (fsync never, interval,
#    always) and replays them with the page cache evicted; and the agent
#    itself spools a process storm with the collector down, then replays
#    it over RELP.
#
# Needs: root, cc, zlib headers, rsyslog with rsyslog-relp and
# rsyslog-openssl, jq, /usr/bin/python3 (the integration tests' needs).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
AGENT=$repo/build/hids-agent
OUTAGE=30
KEEP=0
usage() { sed -n '3,28s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
while (($#)); do
	case $1 in
	-a | --agent) AGENT=$2; shift 2 ;;
	--outage) OUTAGE=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "outage: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
done
[ "$OUTAGE" -ge 5 ] 2>/dev/null || { echo "outage: --outage must be at least 5" >&2; exit 2; }
INT_KEEP=$KEEP
. "$repo/tests/lib/relp.sh"
relp_init "$AGENT"
log() { echo "outage: $*" >&2; }
make_certs "$INT_TMP/certs" >/dev/null || { log "cannot make certificates"; exit 1; }

# Starts the collector for PROTO in DIR on PORT: collector_start PROTO DIR PORT.
collector_start() {
	if [ "$1" = relp ]; then start_rsyslog_relp "$2" "$3" certvalid; else start_rsyslog "$2" "$3" anon; fi
}

# Succeeds once the 600 processes of the outage arrived, or the last of them
# (order is kept): outage_drained DIR MARKER.
outage_drained() {
	at_least 600 count_marked_range "$2" 201 800 "$1/received.before" "$1/received.log" ||
	    at_least 1 count_marked_range "$2" 800 800 "$1/received.log"
}

# Runs the outage scenario for one protocol; appends a row to $INT_TMP/rows.outage.
outage_run() {
	local proto=$1 port rs spool m a t0 t1 drain left all
	port=$(free_port)
	rs=$INT_TMP/rs-$proto
	spool=$INT_TMP/spool-$proto
	m=hidsbench-$INT_NONCE-$proto
	mkdir -p "$rs"
	collector_start "$proto" "$rs" "$port" >/dev/null || { log "$proto: collector did not start"; return 1; }
	relp_conf "$INT_TMP/$proto.conf" "127.0.0.1:$port" "protocol=$proto" "spool.dir=$spool" \
	    agent.heartbeat_interval=5
	start_agent "$INT_TMP/$proto.conf" "$proto" || { log "$proto: agent did not start"; return 1; }
	wait_for 15 grep -q "collector 127.0.0.1:$port: connected" "$AGENT_ERR"
	log "$proto: 200 processes before the outage"
	spawn_spread "$m" 1 200 2
	stop_rsyslog
	t0=$(date +%s)
	log "$proto: collector down for $OUTAGE s; 600 processes"
	spawn_spread "$m" 201 800 $((OUTAGE - 2))
	left=$((OUTAGE - ($(date +%s) - t0)))
	[ "$left" -gt 0 ] && sleep "$left"
	# start_rsyslog (imtcp) starts a new received.log: keep the first one.
	[ "$proto" = ndjson ] && mv "$rs/received.log" "$rs/received.before"
	[ -e "$rs/received.before" ] || : >"$rs/received.before"
	collector_start "$proto" "$rs" "$port" >/dev/null || { log "$proto: collector did not restart"; return 1; }
	t1=$(date +%s%N)
	# Drained once every process of the outage has its exec event delivered.
	WAIT_STEP=0.3 wait_for 120 outage_drained "$rs" "$m"
	drain=$((($(date +%s%N) - t1) / 1000000))
	log "$proto: 200 processes after the spool drained"
	spawn_spread "$m" 801 1000 2
	wait_marked "$rs/received.log" "$m" 200 60 5
	stop_agent
	sleep 2
	stop_rsyslog
	cat "$rs/received.before" "$rs/received.log" >"$rs/all.log"
	a=$(relp_analyze "$rs/all.log" "$m:1:1000")
	echo "$a" >"$INT_TMP/analysis.$proto.json"
	# The run's last event is its stop heartbeat: its sequence is the number of events.
	all=$(jq -r '[.run_detail[]] | max_by(.last) | "\(.count) \(.last)"' <<<"$a")
	printf '| %s | %s s | %s / 1000 | %s / %s (%s) | %s | %s | %.1f s |\n' \
	    "$proto" "$OUTAGE" "$(ajq "$a" ".markers[\"$m\"].found")" "${all% *}" "${all#* }" \
	    "$(awk -v a="${all% *}" -v b="${all#* }" 'BEGIN { printf "%.2f %%", b ? 100 * a / b : 0 }')" \
	    "$(ajq "$a" .dup_lines)" "$(ajq "$a" '.lost | tojson')" \
	    "$(awk -v d="$drain" 'BEGIN { print d / 1000 }')" >>"$INT_TMP/rows.outage"
}

: >"$INT_TMP/rows.outage"
for proto in relp ndjson; do
	outage_run "$proto" || printf '| %s | %s s | failed | | | | |\n' "$proto" "$OUTAGE" >>"$INT_TMP/rows.outage"
done

# ---- 2. spool throughput --------------------------------------------------
bench=$INT_TMP/spoolbench
mkdir -p "$bench"
# Real event lines from part 1 as the payload.
cat "$INT_TMP"/rs-*/all.log 2>/dev/null | grep '^{' | head -20000 >"$bench/lines"
[ -s "$bench/lines" ] || { log "no event lines from part 1"; exit 1; }
avgline=$(awk '{ s += length($0) + 1 } END { printf "%d", s / NR }' "$bench/lines")
cat >"$bench/spoolbench.c" <<'EOF'
/* Appends sample lines to a spool (agent/spool.c), then replays them from disk. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "common.h"
#include "spool.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Writes back and evicts the segment files, so the replay reads the disk. */
static void evict(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[4096];
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "seg-", 4))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		int fd = open(p, O_RDONLY);
		if (fd >= 0) {
			fdatasync(fd);
			posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
			close(fd);
		}
	}
	if (d)
		closedir(d);
}

/* spoolbench DIR LINES always|interval|never MAX_EVENTS MAX_SECONDS */
int main(int argc, char **argv)
{
	if (argc != 6)
		return 2;
	const char *dir = argv[1];
	enum spool_fsync fs = !strcmp(argv[3], "always") ? SPOOL_FSYNC_ALWAYS
	    : !strcmp(argv[3], "interval") ? SPOOL_FSYNC_INTERVAL : SPOOL_FSYNC_NEVER;
	long maxn = atol(argv[4]), i;
	double maxs = atof(argv[5]), t0, t, last_sync, tw, tr;
	FILE *f = fopen(argv[2], "r");
	char **lines = NULL, *buf = NULL, err[256];
	size_t *lens = NULL, n = 0, cap = 0, bcap = 0, len;
	ssize_t r;
	unsigned long long bytes = 0;
	struct spool *s;
	const char *line;
	uint64_t seg;
	long got = 0;

	while (f && (r = getline(&buf, &bcap, f)) > 0) {
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			lines = realloc(lines, cap * sizeof(*lines));
			lens = realloc(lens, cap * sizeof(*lens));
		}
		lines[n] = strdup(buf);
		lens[n++] = (size_t)r;
	}
	if (n == 0)
		return 2;
	log_init("spoolbench", LOG_LVL_WARN, LOG_TO_STDERR);
	if ((s = spool_new(dir, 1ull << 40, fs, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	t0 = last_sync = now();
	for (i = 0; i < maxn; i++) {
		size_t k = (size_t)i % n;
		if (spool_append(s, lines[k], lens[k]) == -1) {
			perror("spool_append");
			return 1;
		}
		bytes += lens[k] + SPOOL_HDR;
		if ((i & 63) == 0) {
			t = now();
			/* What the agent's fsync_interval_ms timer does, at 1000 ms. */
			if (fs == SPOOL_FSYNC_INTERVAL && t - last_sync >= 1.0) {
				spool_sync(s);
				last_sync = t;
			}
			if (t - t0 >= maxs) {
				i++;
				break;
			}
		}
	}
	if (fs != SPOOL_FSYNC_NEVER)
		spool_sync(s);
	tw = now() - t0;
	spool_free(s);
	evict(dir);
	if ((s = spool_new(dir, 1ull << 40, fs, err, sizeof(err))) == NULL)
		return 1;
	t0 = now();
	while (spool_read(s, &line, &len, &seg) == 1) {
		got++;
		spool_delivered(s, seg);
	}
	tr = now() - t0;
	spool_free(s);
	printf("%ld %llu %.6f %ld %.6f\n", i, bytes, tw, got, tr);
	return 0;
}
EOF
if ! ${CC:-cc} -O2 -std=gnu11 -D_GNU_SOURCE -I"$repo/agent" -I"$repo/common" "$bench/spoolbench.c" \
    "$repo/agent/spool.c" "$repo/common/log.c" "$repo/common/xmalloc.c" "$repo/common/util.c" \
    -lz -o "$bench/spoolbench" 2>"$bench/cc.log"; then
	log "cannot build the spool driver:"
	cat "$bench/cc.log" >&2
	exit 1
fi

# The disk: sequential direct writes of 256 MiB in 1 MiB blocks, same filesystem.
ddout=$(dd if=/dev/zero of="$bench/dd.bin" bs=1M count=256 oflag=direct 2>&1 | tail -1)
rm -f "$bench/dd.bin"
ddbytes=$(awk '{ print $1 }' <<<"$ddout")
ddsecs=$(sed -E 's/.*copied, ([0-9.,]+) s.*/\1/' <<<"$ddout" | tr , .)
ddmbs=$(awk -v b="$ddbytes" -v s="$ddsecs" 'BEGIN { printf "%.1f", b / s / 1e6 }')
fsname=$(df --output=source,fstype "$bench" | tail -1 | tr -s ' ')
log "disk ($fsname): $ddout"

: >"$INT_TMP/rows.spool"
printf '| disk: dd bs=1M oflag=direct, sequential write | – | %s | 100 %% |\n' "$ddmbs" >>"$INT_TMP/rows.spool"
# Appends a throughput row: row WHAT EVENTS BYTES SECONDS.
row() {
	awk -v w="$1" -v e="$2" -v b="$3" -v s="$4" -v d="$ddmbs" 'BEGIN {
	    mbs = b / s / 1e6
	    printf "| %s | %.0f | %.1f | %.0f %% |\n", w, e / s, mbs, 100 * mbs / d }' >>"$INT_TMP/rows.spool"
}
for fs in never interval always; do
	rm -rf "$bench/spool-$fs"
	if [ "$fs" = always ]; then max=(200000 5); else max=(300000 10); fi
	rsec=
	read -r wn wb ws rn rsec < <("$bench/spoolbench" "$bench/spool-$fs" "$bench/lines" "$fs" "${max[@]}")
	if [ -z "${rsec:-}" ]; then
		log "spool driver failed with fsync=$fs"
		continue
	fi
	row "spool.c append, fsync=$fs ($wn events)" "$wn" "$wb" "$ws"
	[ "$fs" = interval ] && row "spool.c replay from disk, page cache evicted ($rn events)" "$rn" "$wb" "$rsec"
	rm -rf "$bench/spool-$fs"
done

# The agent itself: a process storm with the collector down, then the replay over RELP.
port=$(free_port)
rs=$INT_TMP/rs-storm
spool=$INT_TMP/spool-storm
mkdir -p "$rs"
relp_conf "$INT_TMP/storm.conf" "127.0.0.1:$port" "spool.dir=$spool" agent.heartbeat_interval=5
if start_agent "$INT_TMP/storm.conf" storm; then
	m=hidsbench-$INT_NONCE-storm
	per=3000
	sleep 1
	before=$(spool_dump "$spool" records | wc -l)
	bbefore=$(spool_size "$spool")
	t0=$(date +%s%N)
	spawn_range "$m-a" 1 "$per" &
	p1=$!
	spawn_range "$m-b" 1 "$per" &
	p2=$!
	wait "$p1" "$p2"
	tstorm=$(($(date +%s%N) - t0))
	# The spool has everything once it stops growing.
	prev=-1
	for _ in $(seq 1 30); do
		cur=$(spool_size "$spool")
		[ "$cur" = "$prev" ] && break
		prev=$cur
		sleep 0.5
	done
	recs=$(spool_dump "$spool" records | wc -l)
	bytes=$(spool_size "$spool")
	stormed=$((recs - before))
	row "agent: spooled during a storm of $((2 * per)) processes, collector down ($stormed events)" \
	    "$stormed" "$((bytes - bbefore))" "$(awk -v n="$tstorm" 'BEGIN { print n / 1e9 }')"
	start_rsyslog_relp "$rs" "$port" certvalid >/dev/null
	t1=$(date +%s%N)
	wait_for 120 grep -q "RELP session open" "$AGENT_ERR"
	wait_marked "$rs/received.log" "$m-a" "$per" 120 10
	wait_marked "$rs/received.log" "$m-b" "$per" 60 10
	treplay=$(($(date +%s%N) - t1))
	row "agent: replayed to rsyslog imrelp over TLS, from reconnect ($recs events)" \
	    "$recs" "$bytes" "$(awk -v n="$treplay" 'BEGIN { print n / 1e9 }')"
	stop_agent
	stop_rsyslog
	sa=$(relp_analyze "$rs/received.log" "$m-a:1:$per")
	sb=$(relp_analyze "$rs/received.log" "$m-b:1:$per")
	stormnote="storm: $(ajq "$sa" ".markers[\"$m-a\"].found")+$(ajq "$sb" ".markers[\"$m-b\"].found") of $((2 * per)) markers delivered, lost records $(ajq "$sa" '.lost | tojson'), kernel overruns (heartbeats) $(max_heartbeat_stat "$rs/received.log" overruns)"
else
	stormnote="storm: the agent did not start"
fi

cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
echo
echo "### Delivery through a ${OUTAGE} s collector outage ($(nproc) vCPU, $cpu; kernel $(uname -r))"
echo
echo "| protocol | outage | markers delivered / expected | events delivered / expected (event.sequence) | repeated lines (same event.id) | lost records | drain after reconnect |"
echo "|---|---|---|---|---|---|---|"
cat "$INT_TMP/rows.outage"
echo
echo "Both with \`[spool] dir\` (fsync = interval), rsyslog 8.2302 on 127.0.0.1 (imrelp / imtcp, TLS)."
echo "Markers: 200 processes before, 600 during and 200 after the outage. Events: every line of the agent's run, counted by event.sequence."
echo
echo "### Spool throughput ($fsname; average event line $avgline bytes)"
echo
echo "| what | events/s | MB/s | of dd's MB/s |"
echo "|---|---|---|---|"
cat "$INT_TMP/rows.spool"
echo
echo "$stormnote. The storm row is bounded by how fast the spawners create processes, not by the spool."
exit 0
