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
# Exit status: 0 when every workload ran and gave correct output (missed targets are
# reported, not fatal), 1 on any error or wrong output, 2 on a usage error.
#
# Adding a workload: write `bench_pN`, which calls `run_pair` and `record_result` (and
# `setup_pN` if it needs a fixture of its own); then add its id to ALL_WORKLOADS.
set -euo pipefail

cd "$(dirname "$0")/.."

readonly ALL_WORKLOADS=(P1 P2)
readonly SECRET_SIZE=1024
readonly DOC_MD=docs/performance.md
readonly DOC_SVG=docs/performance.svg
# The generated part of performance.md lies between these lines; text outside is kept.
readonly MARK_BEGIN='<!-- bench.sh: generated section begin (do not edit by hand) -->'
readonly MARK_END='<!-- bench.sh: generated section end -->'

QUICK=0
WARMUP=5
RUNS=100
WORKLOADS=()
COMMAND_LINE="scripts/bench.sh $*"
PK=''
WORK=''          # the one temp dir; everything the bench creates lives under it
RESULTS=''       # TSV: id, label, pk ms, peer name, peer ms, ratio, target, mark
INVALID=0        # set when a command gave wrong output: its time must not count

die() { echo "bench.sh: error: $1" >&2; [ $# -lt 2 ] || echo "bench.sh: hint: $2" >&2; exit "${3:-1}"; }
note() { echo "bench.sh: $*" >&2; }

# Runs a set-up command silently, but shows everything it said if it fails.
quietly() {
    local log
    log="$(mktemp "$WORK/log.XXXXXX")"
    "$@" >"$log" 2>&1 || { cat "$log" >&2; die "set-up step failed: $*"; }
}

usage() {
    sed -n '2,16s/^# \{0,1\}//p' "$0"
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
    # --quick is a CI smoke run: it must stay well under 2 minutes in total.
    if [ "$QUICK" = 1 ]; then WARMUP=3; RUNS=20; fi
}

# ---------------------------------------------------------------- tools and clean-up

find_pk() {
    if [ -n "${PK_BIN:-}" ]; then
        [ -x "$PK_BIN" ] || die "PK_BIN=$PK_BIN is not an executable file" \
            "run scripts/install.sh first, or point PK_BIN at a built pk"
        PK="$PK_BIN"
    elif command -v pk >/dev/null 2>&1; then
        PK="$(command -v pk)"
    else
        die "no pk binary: PK_BIN is not set and there is no pk on PATH" \
            "run scripts/install.sh first (or set PK_BIN to a built pk)"
    fi
}

# The peers and the timer are Debian packages; install them only where that is
# safe to do unasked (root, non-interactive), otherwise say what to run.
ensure_tools() {
    local missing=() tool
    for tool in pass hyperfine gpg git; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            note "installing pass hyperfine (missing: ${missing[*]})"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq
            apt-get install -y -qq --no-install-recommends pass hyperfine >/dev/null
        else
            die "missing tools: ${missing[*]}" \
                "install them first, e.g. 'sudo apt-get install -y pass hyperfine' (not done here: not root)"
        fi
    fi
    command -v python3 >/dev/null 2>&1 || command -v jq >/dev/null 2>&1 \
        || die "need python3 or jq to read hyperfine's JSON" "sudo apt-get install -y jq"
}

cleanup() {
    [ -n "$WORK" ] && [ -d "$WORK" ] || return 0
    # gpg-agent outlives gpg; it would keep running on a deleted GNUPGHOME.
    if [ -d "$WORK/gnupg" ]; then
        GNUPGHOME="$WORK/gnupg" gpgconf --kill gpg-agent >/dev/null 2>&1 || true
        GNUPGHOME="$WORK/gnupg" gpgconf --remove-socketdir >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}

make_workdir() {
    WORK="$(mktemp -d "${TMPDIR:-/tmp}/pk-bench.XXXXXX")"
    trap cleanup EXIT
    trap 'exit 130' INT TERM   # exit runs the EXIT trap
    RESULTS="$WORK/results.tsv"
    : >"$RESULTS"
    # One 1 KiB printable value, no trailing newline, used by every workload.
    head -c "$SECRET_SIZE" /dev/urandom | base64 -w0 | head -c "$SECRET_SIZE" >"$WORK/value"
}

# Keep the user's own git and gpg settings (hooks, signing, agents) out of the numbers.
isolate_environment() {
    export GIT_CONFIG_NOSYSTEM=1
    export GIT_CONFIG_GLOBAL="$WORK/gitconfig"
    git config --file "$GIT_CONFIG_GLOBAL" user.name bench
    git config --file "$GIT_CONFIG_GLOBAL" user.email bench@localhost
    git config --file "$GIT_CONFIG_GLOBAL" init.defaultBranch main
    unset PK_PASSPHRASE PK_PASSPHRASE_FILE PK_IDENTITY_FILE PK_KEYNODE CREDENTIALS_DIRECTORY
    unset PASSWORD_STORE_GPG_OPTS PASSWORD_STORE_KEY PASSWORD_STORE_SIGNING_KEY
    export GNUPGHOME="$WORK/gnupg"
    export PASSWORD_STORE_DIR="$WORK/store"
}

# ---------------------------------------------------------------- fixtures

# A keynode with the owner key exported to a file: the fair peer of pass with a warm
# gpg-agent (both have the key ready; nobody types a passphrase while timed).
setup_pk() {
    PK_KEYNODE_FILE="$WORK/bench.keynode"
    PK_KEY_FILE="$WORK/bench.key"
    quietly env PK_PASSPHRASE=bench-only "$PK" init --name bench -k "$PK_KEYNODE_FILE"
    quietly env PK_PASSPHRASE=bench-only "$PK" identity export --secret -o "$PK_KEY_FILE" -k "$PK_KEYNODE_FILE"
    quietly pk_cmd set bench/p1 <"$WORK/value"
}

# pk with the bench keynode and key file; used for fixtures and checks, not timing.
pk_cmd() {
    "$PK" "$@" -k "$PK_KEYNODE_FILE" --identity-file "$PK_KEY_FILE"
}

# A throw-away pass store with an ed25519 (sign) + cv25519 (encrypt) key, no
# passphrase, git enabled, as PERFORMANCE.md describes the peer.
setup_pass() {
    local gpg=(gpg --batch --quiet --pinentry-mode loopback --passphrase '')
    mkdir -m 700 "$GNUPGHOME"
    quietly "${gpg[@]}" --quick-gen-key 'bench <bench@localhost>' ed25519 sign never
    PASS_FPR="$(gpg --batch --with-colons --list-secret-keys bench@localhost 2>/dev/null \
        | awk -F: '$1 == "fpr" { print $10; exit }')"
    [ -n "$PASS_FPR" ] || die "gpg made no key for the pass peer"
    quietly "${gpg[@]}" --quick-add-key "$PASS_FPR" cv25519 encr never
    quietly pass init "$PASS_FPR"
    quietly pass git init
    quietly pass insert -m bench/p1 <"$WORK/value"
    # Start gpg-agent and load the key now: the peer is pass with a warm agent.
    quietly pass show bench/p1
}

# ---------------------------------------------------------------- measuring

# Quote a word for the shell hyperfine runs the commands in.
q() { printf '%q' "$1"; }

# run_pair ID PK_COMMAND PEER_NAME PEER_COMMAND: times both, one after the other in
# one hyperfine call, and leaves the JSON in $WORK/ID.json (pk first, peer second).
run_pair() {
    local id="$1" pk_command="$2" peer_name="$3" peer_command="$4"
    note "$id: $pk_command   vs   $peer_command"
    hyperfine --warmup "$WARMUP" --runs "$RUNS" --style basic \
        --export-json "$WORK/$id.json" \
        --command-name "pk" "$pk_command" \
        --command-name "$peer_name" "$peer_command" >&2
}

# median_ms JSON INDEX: median wall time in ms of the INDEX-th command, computed from
# the raw times (not hyperfine's summary, whose fields vary between versions).
median_ms() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import json, statistics, sys
times = json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]["times"]
print("%.2f" % (statistics.median(times) * 1000))' "$1" "$2"
    else
        jq -r --argjson i "$2" '.results[$i].times | sort
            | (if length % 2 == 1 then .[length / 2 | floor]
               else (.[length / 2 - 1] + .[length / 2]) / 2 end) * 1000
            | . * 100 | round / 100' "$1"
    fi
}

# check_output ID WHAT COMMAND...: the command must print exactly the 1 KiB value;
# a fast wrong answer must never pass as a result.
check_output() {
    local id="$1" what="$2"
    shift 2
    if ! "$@" 2>/dev/null | cmp -s - "$WORK/value"; then
        note "$id: WRONG OUTPUT: $what did not return the $SECRET_SIZE bytes stored; its time is marked INVALID"
        return 1
    fi
}

# record_result ID LABEL PEER MAX_RATIO VALID: reads $WORK/ID.json, adds a table row.
# Every target is written as "pk / peer <= MAX_RATIO" (5x faster = 0.2, within 2x = 2).
record_result() {
    local id="$1" label="$2" peer="$3" target="$4" valid="$5"
    local pk_ms peer_ms ratio mark
    pk_ms="$(median_ms "$WORK/$id.json" 0)"
    peer_ms="$(median_ms "$WORK/$id.json" 1)"
    ratio="$(awk -v a="$pk_ms" -v b="$peer_ms" 'BEGIN { printf "%.2f", a / b }')"
    if [ "$valid" != 1 ]; then
        mark=INVALID
        INVALID=1
    elif awk -v r="$ratio" -v t="$target" 'BEGIN { exit !(r <= t) }'; then
        mark=PASS
    else
        mark=FAIL
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$id" "$label" "$pk_ms" "$peer" "$peer_ms" "$ratio" "$target" "$mark" >>"$RESULTS"
}

# ---------------------------------------------------------------- workloads

# P1: one `get` of a 1 KiB secret, whole process, vs `pass show` with a warm agent.
bench_p1() {
    local valid=1
    check_output P1 "pk get" pk_cmd get bench/p1 || valid=0
    check_output P1 "pass show" pass show bench/p1 || valid=0
    run_pair P1 \
        "$(q "$PK") get bench/p1 -k $(q "$PK_KEYNODE_FILE") --identity-file $(q "$PK_KEY_FILE")" \
        "pass" "pass show bench/p1"
    record_result P1 "get 1 KiB" "pass show" 0.5 "$valid"
}

# P2: one `set` of a 1 KiB secret, durable and versioned, whole process: pk fsyncs and
# makes a signed commit; the peer is `pass insert` in a store with git.
bench_p2() {
    local valid=1
    run_pair P2 \
        "$(q "$PK") set bench/p2 -k $(q "$PK_KEYNODE_FILE") --identity-file $(q "$PK_KEY_FILE") < $(q "$WORK/value")" \
        "pass" "pass insert -m -f bench/p2 < $(q "$WORK/value")"
    # Each run must have made a new version that reads back right.
    check_output P2 "pk get after pk set" pk_cmd get bench/p2 || valid=0
    check_output P2 "pass show after pass insert" pass show bench/p2 || valid=0
    # ... and be versioned: one pk version and one pass git commit per run (pass also
    # has the commits of its set-up).
    local runs=$((WARMUP + RUNS)) versions commits
    versions="$(pk_cmd log bench/p2 | grep -c .)"
    commits="$(git -C "$PASSWORD_STORE_DIR" log --oneline -- bench/p2.gpg | grep -c .)"
    [ "$versions" = "$runs" ] || { note "P2: NOT VERSIONED: $runs pk set made $versions versions"; valid=0; }
    [ "$commits" = "$runs" ] || { note "P2: NOT VERSIONED: $runs pass insert made $commits git commits"; valid=0; }
    record_result P2 "set 1 KiB, durable + versioned" "pass insert (git)" 0.5 "$valid"
}

# ---------------------------------------------------------------- reporting

# The table, as Markdown; read as-is on a terminal too.
results_table() {
    echo '| workload | pk median (ms) | peer | peer median (ms) | ratio pk/peer | target | result |'
    echo '|---|---:|---|---:|---:|---|---|'
    awk -F '\t' '{ printf "| %s %s | %s | %s | %s | %s | <= %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }' "$RESULTS"
}

pk_build_kind() {
    # A framework-dependent (JIT) build is a small launcher with pk.dll beside it.
    if [ -e "$(dirname "$PK")/pk.dll" ]; then echo "JIT (framework-dependent)"; else echo "NativeAOT (single file)"; fi
}

generated_section() {
    local cpu pk_source
    cpu="$(awk -F ': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)"
    # Name where pk came from, not its path: the doc must not carry this machine's paths.
    # shellcheck disable=SC2016  # the literal text $PK_BIN is meant
    if [ -n "${PK_BIN:-}" ]; then pk_source='`$PK_BIN`'; else pk_source='pk on PATH'; fi
    echo "$MARK_BEGIN"
    echo
    echo "## Latest run"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(nproc) CPUs${cpu:+ ($cpu)}, $(uname -srm)"
    echo "- command: \`$COMMAND_LINE\` ($([ "$QUICK" = 1 ] && echo quick || echo full) mode: $WARMUP warm-up + $RUNS timed runs per command)"
    echo "- pk: $("$PK" --version 2>/dev/null | head -n 1), $(pk_build_kind), from $pk_source"
    echo "- peers: pass $(pass version 2>/dev/null | grep -o 'v[0-9][0-9.]*' | head -n 1), $(gpg --version | head -n 1), $(git --version), timed with $(hyperfine --version)"
    echo
    results_table
    echo
    echo "Medians of whole-process wall time; ratio = pk median / peer median, both measured"
    echo "side by side in this run. A result counts when ratio <= target. INVALID means a"
    echo "command's output was wrong, so its time does not count."
    echo
    echo "![ratio pk/peer per workload](performance.svg)"
    echo
    echo "$MARK_END"
}

# Replaces the generated section of performance.md, keeping anything written around it.
write_markdown() {
    local section="$WORK/section.md"
    generated_section >"$section"
    mkdir -p "$(dirname "$DOC_MD")"
    if [ -f "$DOC_MD" ] && grep -qF "$MARK_BEGIN" "$DOC_MD" && grep -qF "$MARK_END" "$DOC_MD"; then
        awk -v begin="$MARK_BEGIN" -v end="$MARK_END" -v section="$section" '
            $0 == begin { while ((getline line < section) > 0) print line; skip = 1; next }
            $0 == end   { skip = 0; next }
            !skip       { print }' "$DOC_MD" >"$WORK/performance.md"
    else
        {
            echo "# Performance"
            echo
            echo "Written by \`scripts/bench.sh\`; workloads and targets are those of the design's"
            echo "PERFORMANCE.md. Compare ratios, not absolute times: machines here are shared and noisy."
            echo
            cat "$section"
        } >"$WORK/performance.md"
    fi
    cp "$WORK/performance.md" "$DOC_MD"
}

# Horizontal bars of pk/peer per workload on a linear scale, with each workload's
# target and the parity line (1 = as fast as the peer). Plain SVG, made by awk.
write_svg() {
    mkdir -p "$(dirname "$DOC_SVG")"
    awk -F '\t' '
        function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }
        function x(v) { return left + v / top * plot }
        { n++; id[n] = $1; label[n] = $2; peer[n] = $4; ratio[n] = $6; target[n] = $7; mark[n] = $8
          if ($6 + 0 > most) most = $6 + 0; if ($7 + 0 > most) most = $7 + 0 }
        END {
            if (most < 1) most = 1
            # A round tick step giving at most 8 ticks, and the scale end on a tick.
            split("0.1 0.2 0.25 0.5 1 2 5 10 20 50 100", steps, " ")
            for (i = 1; i in steps; i++) { step = steps[i]; if (most * 1.1 / step <= 8) break }
            top = step * int(most * 1.1 / step + 0.999)
            left = 300; plot = 420; row = 46; head = 66
            width = left + plot + 40; height = head + n * row + 50
            printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"13\">\n", width, height, width, height
            printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
            printf "<text x=\"%d\" y=\"24\" font-size=\"15\" font-weight=\"bold\">pk time / peer time (median; lower is better)</text>\n", 10
            bottom = head + n * row
            for (t = 0; t <= top + step / 2; t += step) {
                printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>\n", x(t), head - 6, x(t), bottom
                printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">%g</text>\n", x(t), bottom + 18, t
            }
            printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#333\" stroke-dasharray=\"2,3\"/>\n", x(1), head - 10, x(1), bottom
            printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#333\">1 = same as peer</text>\n", x(1), head - 14
            for (i = 1; i <= n; i++) {
                y = head + (i - 1) * row
                colour = mark[i] == "PASS" ? "#2e7d32" : (mark[i] == "FAIL" ? "#c62828" : "#9e9e9e")
                printf "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">%s %s</text>\n", 10, y + 17, esc(id[i]), esc(label[i])
                printf "<text x=\"%d\" y=\"%d\" fill=\"#555\">vs %s</text>\n", 10, y + 33, esc(peer[i])
                printf "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"24\" fill=\"%s\"/>\n", left, y + 8, x(ratio[i]) - left, colour
                printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#1565c0\" stroke-width=\"3\"/>\n", x(target[i]), y + 4, x(target[i]), y + 36
                at = x(ratio[i]) > x(target[i]) ? x(ratio[i]) : x(target[i])   # clear of the target mark
                printf "<text x=\"%.1f\" y=\"%d\" fill=\"#000\">%.2f %s</text>\n", at + 6, y + 25, ratio[i], esc(mark[i])
            }
            printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", left, head - 6, left, bottom
            printf "<text x=\"%d\" y=\"%d\" fill=\"#1565c0\">| target (pk/peer at most)</text>\n", left, bottom + 38
            printf "</svg>\n"
        }' "$RESULTS" >"$WORK/performance.svg"
    cp "$WORK/performance.svg" "$DOC_SVG"
}

# ---------------------------------------------------------------- main

main() {
    parse_args "$@"
    find_pk
    ensure_tools
    make_workdir
    isolate_environment
    note "pk: $PK ($(pk_build_kind)); $([ "$QUICK" = 1 ] && echo quick || echo full) mode, $WARMUP warm-up + $RUNS runs"
    setup_pk
    setup_pass
    local id
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
