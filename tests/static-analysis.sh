#!/bin/bash
# Proves the project's own C code passes cppcheck and clang-tidy with the checks and suppressions listed here.
# Suppressions, and why:
#   cppcheck variableScope: declarations at the top of a block are our convention.
#   clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling: asks for
#     Annex K (memcpy_s), which glibc does not have; every length is checked by hand.
#   clang-analyzer-valist.Uninitialized: false positives for a va_list handed to a
#     v*printf wrapper (LLVM bug 41311 and kin).
#   bugprone-easily-swappable-parameters, -narrowing-conversions,
#     -implicit-widening-of-multiplication-result: style noise on byte and size code.
#   bugprone-suspicious-string-compare: `!strcmp(a, b)` is idiomatic here.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: static-analysis.sh BUILD_DIR (configured with CMAKE_EXPORT_COMPILE_COMMANDS)}
cd "$top"
. tests/lib/tap.sh
srcs=(agent/*.c common/*.c proto/*.c)

if cppcheck --enable=warning,style,performance,portability --std=c11 --inline-suppr \
    --suppress=variableScope --quiet -D_GNU_SOURCE -I common -I proto -I agent \
    --error-exitcode=1 agent common proto; then
	ok cppcheck
else
	bad cppcheck
fi

checks='-*,clang-analyzer-*,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling,-clang-analyzer-valist.Uninitialized,bugprone-*,-bugprone-easily-swappable-parameters,-bugprone-narrowing-conversions,-bugprone-implicit-widening-of-multiplication-result,-bugprone-suspicious-string-compare,cert-err34-c,misc-redundant-expression'
out=$(clang-tidy -p "$build" --quiet -checks="$checks" "${srcs[@]}" 2>/dev/null | grep -E "(warning|error):")
if [ -z "$out" ]; then
	ok clang-tidy
else
	bad clang-tidy; echo "$out"
fi
summary
