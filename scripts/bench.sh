#!/usr/bin/env bash
# Benchmark harness for pk (see the design's PERFORMANCE.md).
#
# Runs each workload for pk and for its peer side by side in one run, prints a table of
# medians and ratios (pk / peer), writes the results to docs/performance.md and a bar
# chart of the ratios to docs/performance.svg. Machines are noisy: only the ratios
# measured together in one run mean anything, never one absolute time.
#
# Usage: scripts/bench.sh [--quick] [WORKLOAD...]     e.g. scripts/bench.sh --quick P1
# The pk binary is $PK_BIN if set, else `pk` on PATH (test the NativeAOT build).
# P3, P4 and P5 mount a keynode and gocryptfs (FUSE): run as root, or with /dev/fuse
# usable. P9 needs the kernel keyring (pk unlock).
# Exit status: 0 when every workload ran and gave correct output (missed targets are
# reported, not fatal), 1 on any error or wrong output, 2 on a usage error.
#
# Layout: scripts/bench/lib.sh holds what the workloads share (tools, the work
# directory and its clean-up, fixtures, mounts, timing, recording results),
# scripts/bench/report.sh writes the table, docs/performance.md and the chart, and
# scripts/bench/pN.sh is workload PN. Adding a workload: write scripts/bench/pN.sh
# defining `bench_pN` and `notes_pN` (and `setup_pN` if it needs a fixture of its own);
# the driver finds it by its name. bench_pN measures with `run_pair` (whole commands,
# timed by hyperfine) or `time_loop` (many file operations timed inside one process, so
# process start-up does not count), then calls `record_result` (a ratio to a peer) or
# `record_budget` (an absolute limit) once per row. Mount only with `mount_pk` /
# `mount_gocryptfs`: the EXIT trap unmounts what they mounted, also after an error or
# a TERM.
set -euo pipefail

cd "$(dirname "$0")/.."
# Decimal points, not commas, in $EPOCHREALTIME and in awk's numbers.
export LC_ALL=C

readonly BENCH_DIR=scripts/bench
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"
# shellcheck source=bench/report.sh
. "$BENCH_DIR/report.sh"

# Every scripts/bench/pN.sh, in the order of N.
mapfile -t ALL_WORKLOADS < <(cd "$BENCH_DIR" && ls p[0-9]*.sh | sort -V | sed 's/\.sh$//; s/^p/P/')
readonly ALL_WORKLOADS
COMMAND_LINE="scripts/bench.sh${*:+ $*}"

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

parse_args() {
    while [ $# -gt 0 ]; do
        case "$1" in
            --quick) QUICK=1 ;;
            -h|--help) usage; exit 0 ;;
            -*) die "unknown option '$1'" "see scripts/bench.sh --help" 2 ;;
            *)
                local id="${1^^}"
                [[ " ${ALL_WORKLOADS[*]} " == *" $id "* ]] \
                    || die "unknown workload '$1'" "known: ${ALL_WORKLOADS[*]}" 2
                WORKLOADS+=("$id") ;;
        esac
        shift
    done
    [ ${#WORKLOADS[@]} -gt 0 ] || WORKLOADS=("${ALL_WORKLOADS[@]}")
    # --quick is a CI smoke run: it must stay well under 2 minutes in total. Each
    # workload file picks its own counts from QUICK when it is read.
    if [ "$QUICK" = 1 ]; then WARMUP=3; RUNS=20; fi
}

main() {
    parse_args "$@"
    local id
    for id in "${WORKLOADS[@]}"; do
        # shellcheck source=/dev/null
        . "$BENCH_DIR/${id,,}.sh"
    done
    find_pk
    ensure_tools
    make_workdir
    isolate_environment
    note "pk: $PK ($(pk_build_kind)); $([ "$QUICK" = 1 ] && echo quick || echo full) mode"
    setup_pk
    setup_pass
    for id in "${WORKLOADS[@]}"; do
        if declare -F "setup_${id,,}" >/dev/null; then "setup_${id,,}"; fi
        "bench_${id,,}"
    done
    write_markdown
    write_svg
    echo
    results_table
    echo
    echo "written: $DOC_MD, $DOC_SVG"
    [ "$INVALID" = 0 ] || die "some commands gave wrong output (rows marked INVALID)" \
        "see the WRONG OUTPUT / NOT VERSIONED lines above; those times do not count"
}

main "$@"
