#!/usr/bin/env bash
# Fuzzes the keynode reader for MINUTES (default 10) with the harness in
# tests/Polykey.Core.Tests/Fuzz (the normal test run gives it about 20 s), then prints what it
# found; the last line is the summary to paste into docs:
#   pk fuzz: N cases in S s: N crashes, N hangs, N forgeries, N silent losses, N over-memory, N lockouts (...)
# Each failure class is listed with seeds. Replay one case with its details and kept file:
#   PK_FUZZ_CORPUS=<corpus dir the run names> PK_FUZZ_SEED=<seed> scripts/fuzz.sh
# PK_FUZZ_CORPUS alone keeps (or reuses) the corpus in that directory. Runs under nice: the
# harness keeps one core busy. Exits non-zero when any failure class was found.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

minutes=${1:-10}
case "$minutes" in
    '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [MINUTES]" >&2; exit 2 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PK_FUZZ_SECONDS=$((minutes * 60)) PK_FUZZ_SUMMARY="$work/summary"

nice -n "${PK_FUZZ_NICE:-10}" dotnet test tests/Polykey.Core.Tests -c Release -nologo \
    --filter "FullyQualifiedName~Polykey.Core.Tests.Fuzz" >"$work/log" 2>&1
status=$?
if [ -s "$PK_FUZZ_SUMMARY" ]; then
    cat "$PK_FUZZ_SUMMARY"
else
    # No figures: the build or the harness itself failed before the fuzzing ended.
    tail -n 60 "$work/log"
    echo "pk fuzz: no result (see the output above)"
fi
exit "$status"
