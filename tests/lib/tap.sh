# tap.sh: the one TAP implementation of the shell tests (sourced, not run):
# live, integration, deploy and static analysis. Each result is one
# "ok - WHAT" or "not ok - WHAT" line; summary prints the counts and
# returns non-zero if anything failed.
# shellcheck shell=bash

pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
# bad WHAT [DETAIL]: a failing result, and DETAIL as a diagnostic line under it.
bad() {
	fail=$((fail + 1))
	echo "not ok - $1"
	[ -n "${2:-}" ] && echo "#   $2"
	return 0
}
skipped() { skip=$((skip + 1)); echo "ok - $1 # SKIP $2"; }
# check WHAT CMD...: runs CMD and reports it as one result; returns its outcome.
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; return 1; fi; }
# note TEXT...: a diagnostic line, not a result.
note() { echo "# $*"; }
# summary: prints "N passed, N failed[, N skipped]"; non-zero if anything failed.
summary() {
	if [ "$skip" -gt 0 ]; then
		echo "$pass passed, $fail failed, $skip skipped"
	else
		echo "$pass passed, $fail failed"
	fi
	test "$fail" -eq 0
}
