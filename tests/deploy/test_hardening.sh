#!/bin/bash
# Proves a hids-agent binary carries the build hardening CMakeLists.txt asks for: PIE, stack protector, fortified calls (_FORTIFY_SOURCE=3), full RELRO with immediate binding, a non-executable stack, stack clash probes and, on x86, CET landing pads.
# usage: test_hardening.sh BINARY [compile_commands.json]
# test_package.sh runs it on the packaged (stripped) binary as well.
set -u
bin=${1:?usage: test_hardening.sh BINARY [compile_commands.json]}
cc_json=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"

for tool in hardening-check readelf objdump; do
	if ! command -v "$tool" >/dev/null; then
		skipped "build hardening of $bin" "$tool is not installed (deploy/install-deps.sh --test installs devscripts and binutils)"
		summary
		exit
	fi
done

# hardening-check's CET test reads the ELF property note, which the linker
# ANDs over every object, Debian 12's glibc start files included; they carry
# no IBT/SHSTK property, so no binary linked here can pass it. CET is
# checked below from the code itself instead.
report=$(hardening-check --nocfprotection "$bin" 2>&1)
rc=$?
sed 's/^/# /' <<<"$report"
check "hardening-check passes (PIE, stack protector, fortify, RELRO, bind now)" test "$rc" -eq 0
for want in "Position Independent Executable: yes" "Stack protected: yes" \
    "Fortify Source functions: yes" "Read-only relocations: yes" "Immediate binding: yes"; do
	check "  $want" grep -qF "$want" <<<"$report"
done

dyn=$(readelf -dW "$bin")
prog=$(readelf -lW "$bin")
check "full RELRO: a GNU_RELRO segment and BIND_NOW" \
    bash -c 'grep -q GNU_RELRO <<<"$1" && grep -Eq "\(FLAGS\).*BIND_NOW" <<<"$2"' _ "$prog" "$dyn"
check "the stack is not executable (GNU_STACK RW)" \
    grep -Eq 'GNU_STACK +(0x0+ +){5}RW ' <<<"$prog"

disasm=$(objdump -d --no-show-raw-insn "$bin")
# The agent has functions with frames over a page (64 KiB read buffers):
# with -fstack-clash-protection each touches every page it allocates, right
# after moving the stack pointer by it (gcc: or $0x0, clang: mov $0x0).
probes=$(awk '/sub +\$0x1000,%rsp/ { page = 1; next }
    page && /(or|mov)q? +\$0x0,\(%rsp\)/ { n++ } { page = 0 } END { print n + 0 }' <<<"$disasm")
check "stack clash probes in large frames ($probes page probes)" test "$probes" -ge 1
case $(uname -m) in
x86_64 | i?86)
	endbr=$(grep -c 'endbr' <<<"$disasm")
	check "CET landing pads (-fcf-protection): $endbr endbr instructions" test "$endbr" -ge 100
	;;
*)
	skipped "CET landing pads" "not x86 ($(uname -m))"
	;;
esac

if [ -n "$cc_json" ]; then
	if [ -r "$cc_json" ] && command -v jq >/dev/null; then
		# Each compile of our sources ends with _FORTIFY_SOURCE=3 in force.
		weak=$(jq -r '.[] | select(.file | test("/(agent|proto|common)/")) |
		    select((.command | [scan("-D_FORTIFY_SOURCE=[0-9]")] | last) != "-D_FORTIFY_SOURCE=3") |
		    .file' "$cc_json" | sort -u)
		check "every agent, proto and common source is compiled with _FORTIFY_SOURCE=3" \
		    test -z "$weak" || sed 's/^/#   /' <<<"$weak"
	else
		skipped "_FORTIFY_SOURCE=3 in $cc_json" "no readable file or no jq"
	fi
fi
summary
