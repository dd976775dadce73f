# live.sh: helpers the live shell tests share (sourced after tap.sh, not run):
# a throwaway system user, and waiting for the agent's ready line.
# shellcheck shell=bash

live_created_user=false

# live_add_user NAME: makes NAME a system user of the test's own (a leftover
# of an interrupted run counts as ours) and sets live_uid and live_gid;
# live_del_user removes it. Fails, with a result line, if useradd does.
live_add_user() {
	if id "$1" >/dev/null 2>&1 || useradd --system --user-group --no-create-home \
	    --home-dir /nonexistent --shell /usr/sbin/nologin "$1"; then
		live_created_user=true
		live_uid=$(id -u "$1")
		live_gid=$(id -g "$1")
		return 0
	fi
	bad "useradd creates the test user $1"
	return 1
}

# live_del_user NAME: removes the user live_add_user made.
live_del_user() {
	"$live_created_user" && userdel "$1" 2>/dev/null
	live_created_user=false
}

# live_wait_ready ERRFILE PID: waits up to 30 s for the agent's ready line
# in ERRFILE; fails at once if PID exits first.
live_wait_ready() {
	for _ in $(seq 300); do
		grep -q ': ready' "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
