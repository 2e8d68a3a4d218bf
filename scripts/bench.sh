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
# P3 and P4 mount a keynode and gocryptfs (FUSE): run as root, or with /dev/fuse usable.
# Exit status: 0 when every workload ran and gave correct output (missed targets are
# reported, not fatal), 1 on any error or wrong output, 2 on a usage error.
#
# Adding a workload: write `bench_pN` (and `setup_pN` if it needs a fixture of its own),
# then add its id to ALL_WORKLOADS. bench_pN measures with `run_pair` (whole commands,
# timed by hyperfine) or `time_loop` (many file operations timed inside one process, so
# process start-up does not count), then calls `record_result` once per peer. Mount only
# with `mount_pk` / `mount_gocryptfs`: the EXIT trap unmounts what they mounted, also
# after an error or a TERM.
set -euo pipefail

cd "$(dirname "$0")/.."
# Decimal points, not commas, in $EPOCHREALTIME and in awk's numbers.
export LC_ALL=C

readonly ALL_WORKLOADS=(P1 P2 P3 P4 P6)
readonly SECRET_SIZE=1024
readonly DOC_MD=docs/performance.md
readonly DOC_SVG=docs/performance.svg
# The generated part of performance.md lies between these lines; text outside is kept.
readonly MARK_BEGIN='<!-- bench.sh: generated section begin (do not edit by hand) -->'
readonly MARK_END='<!-- bench.sh: generated section end -->'

QUICK=0
WARMUP=5         # P1, P2: hyperfine runs per command
RUNS=100
P3_OPS=10000     # P3: open/read/close per round, and rounds
P3_WARMUP=2
P3_RUNS=11
P4_FILES=1000    # P4: files per run, and runs (each run writes a fresh directory)
P4_WARMUP=1
P4_RUNS=5
PASS_BATCHES=5   # P4 peer: pass inserts take ~0.1 s each, so time PASS_BATCHES x
PASS_BATCH=40    # PASS_BATCH of them and scale to P4_FILES
P6_SECRETS=10000 # P6: secrets the publisher shares, and timed runs of each pull
P6_RUNS=5
WORKLOADS=()
COMMAND_LINE="scripts/bench.sh${*:+ $*}"
PK=''
WORK=''          # the one temp dir; everything the bench creates lives under it
RESULTS=''       # TSV: id, label, pk median, peer name, peer median, ratio, target, mark
INVALID=0        # set when a command gave wrong output: its time must not count
MOUNTS=()        # KIND:MOUNTPOINT of every mount this run made (KIND: pk or fuse)
SHM_DIR=''       # P3's plain tmpfs peer: a directory under /dev/shm
LOOP=()          # the loop timer for P3/P4 (see setup_loop_timer)
LOOP_KIND=''
PK_MNT=''        # where P3 mounts the bench keynode
PK_RO_MNT=''     # and where it mounts it again with --read-only
GC_PLAIN=''      # where gocryptfs shows its plain files
P4_KEYNODE=''    # P4's empty keynode, copied afresh for each run, and its key file
P4_KEY=''

die() { echo "bench.sh: error: $1" >&2; [ $# -lt 2 ] || echo "bench.sh: hint: $2" >&2; exit "${3:-1}"; }
note() { echo "bench.sh: $*" >&2; }

# Runs a set-up command silently, but shows everything it said if it fails.
quietly() {
    local log
    log="$(mktemp "$WORK/log.XXXXXX")"
    "$@" >"$log" 2>&1 || { cat "$log" >&2; die "set-up step failed: $*"; }
}

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

# wants ID: true when workload ID is selected for this run.
wants() { [[ " ${WORKLOADS[*]} " == *" $1 "* ]]; }

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
    # P3 and P4 keep their sizes (10,000 reads, 1,000 files) and run fewer rounds.
    if [ "$QUICK" = 1 ]; then
        WARMUP=3; RUNS=20
        P3_WARMUP=1; P3_RUNS=3
        P4_WARMUP=0; P4_RUNS=3
        P6_RUNS=3
        PASS_BATCH=10
    fi
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
    local tools=(pass hyperfine gpg git) missing=() packages=() tool
    # Only the mount workloads need FUSE peers; P1/P2 alone must not install them.
    if wants P3 || wants P4; then tools+=(gocryptfs fusermount3); fi
    for tool in "${tools[@]}"; do
        command -v "$tool" >/dev/null 2>&1 && continue
        missing+=("$tool")
        case "$tool" in
            fusermount3) packages+=(fuse3) ;;
            *) packages+=("$tool") ;;   # the others are packages of the same name
        esac
    done
    if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            note "installing ${packages[*]} (missing: ${missing[*]})"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq
            apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
        else
            die "missing tools: ${missing[*]}" \
                "install them first, e.g. 'sudo apt-get install -y ${packages[*]}' (not done here: not root)"
        fi
    fi
    command -v python3 >/dev/null 2>&1 || command -v jq >/dev/null 2>&1 \
        || die "need python3 or jq to read hyperfine's JSON" "sudo apt-get install -y jq"
}

is_mounted() { findmnt -rn --mountpoint "$1" >/dev/null 2>&1; }

# Unmounts a FUSE mount whatever serves it; lazily as a last resort (a daemon that
# died leaves a mount that only a lazy unmount removes).
fuse_unmount() {
    local tool
    for tool in fusermount3 fusermount; do
        command -v "$tool" >/dev/null 2>&1 || continue
        "$tool" -u "$1" >/dev/null 2>&1 || "$tool" -u -z "$1" >/dev/null 2>&1 || true
        return 0
    done
    umount "$1" >/dev/null 2>&1 || umount -l "$1" >/dev/null 2>&1 || true
}

# Unmounts what this run mounted, newest first; pk's own unmount lets it finish cleanly.
unmount_all() {
    local i kind mountpoint
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
        kind="${MOUNTS[i]%%:*}"
        mountpoint="${MOUNTS[i]#*:}"
        is_mounted "$mountpoint" || continue
        if [ "$kind" = pk ]; then "$PK" unmount "$mountpoint" >/dev/null 2>&1 || true; fi
        if is_mounted "$mountpoint"; then fuse_unmount "$mountpoint"; fi
    done
}

cleanup() {
    [ -n "$WORK" ] && [ -d "$WORK" ] || return 0
    unmount_all
    # gpg-agent outlives gpg; it would keep running on a deleted GNUPGHOME.
    if [ -d "$WORK/gnupg" ]; then
        GNUPGHOME="$WORK/gnupg" gpgconf --kill gpg-agent >/dev/null 2>&1 || true
        GNUPGHOME="$WORK/gnupg" gpgconf --remove-socketdir >/dev/null 2>&1 || true
    fi
    [ -z "$SHM_DIR" ] || rm -rf "$SHM_DIR"
    # rm -rf into a mount still up would reach into whatever it serves: leave it be.
    if findmnt -rn -o TARGET | awk -v work="$WORK/" 'index($0 "/", work) == 1 { up = 1 } END { exit !up }'; then
        note "left $WORK in place: something is still mounted under it (see findmnt)"
        return 0
    fi
    rm -rf "$WORK"
}

make_workdir() {
    # Canonical path: findmnt reports mount points that way.
    WORK="$(mktemp -d "${TMPDIR:-/tmp}/pk-bench.XXXXXX")"
    WORK="$(cd "$WORK" && pwd -P)"
    trap cleanup EXIT
    trap 'exit 130' INT        # exit runs the EXIT trap, which unmounts and cleans up
    trap 'exit 143' TERM
    RESULTS="$WORK/results.tsv"
    : >"$RESULTS"
    mkdir "$WORK/samples"
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
    pk_on "$PK_KEYNODE_FILE" "$PK_KEY_FILE" "$@"
}

# pk_on KEYNODE KEYFILE ARGS...: pk on another keynode.
pk_on() {
    "$PK" "${@:3}" -k "$1" --identity-file "$2"
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

# mount_pk MOUNTPOINT KEYNODE KEYFILE [OPTION...]: the mount is listed before it is
# made, so that clean-up also removes one that came up half-way.
mount_pk() {
    mkdir -p "$1"
    MOUNTS+=("pk:$1")
    quietly "$PK" mount "$1" -k "$2" --identity-file "$3" "${@:4}"
}

# mount_gocryptfs CIPHERDIR PLAINDIR: a fresh gocryptfs with a throw-away password.
mount_gocryptfs() {
    mkdir -p "$1" "$2"
    quietly gocryptfs -init -q -extpass 'echo bench-only' "$1"
    MOUNTS+=("fuse:$2")
    quietly gocryptfs -q -extpass 'echo bench-only' "$1" "$2"
}

# The gocryptfs peer, shared by P3 and P4; made once.
setup_gocryptfs() {
    [ -z "$GC_PLAIN" ] || return 0
    GC_PLAIN="$WORK/gocryptfs-plain"
    mount_gocryptfs "$WORK/gocryptfs-cipher" "$GC_PLAIN"
}

# The loop timer of P3/P4, so that one process does all the file operations and its
# start-up does not count: `LOOP read FILE N REF` opens, reads and closes FILE N times;
# `LOOP write DIR N REF` creates DIR/f00000... N files holding REF's bytes (create,
# write, close). It prints the seconds taken and how many operations went wrong: every
# read must return exactly REF's bytes, every open/write/close must succeed (pk reports
# a failed durable save at close). A C program when cc is there: python3 adds about a
# microsecond to each iteration, which would flatter pk against the ~5 us of tmpfs.
setup_loop_timer() {
    [ ${#LOOP[@]} -eq 0 ] || return 0
    loop_timer_c >"$WORK/fsloop.c"
    if command -v cc >/dev/null 2>&1 && cc -O2 -o "$WORK/fsloop" "$WORK/fsloop.c" >"$WORK/cc.log" 2>&1; then
        LOOP=("$WORK/fsloop")
        LOOP_KIND="a C loop (cc -O2)"
    elif command -v python3 >/dev/null 2>&1; then
        loop_timer_py >"$WORK/fsloop.py"
        LOOP=(python3 "$WORK/fsloop.py")
        LOOP_KIND="a python3 loop (os.open/os.read/os.write/os.close)"
    else
        die "P3/P4 need a C compiler or python3 to time their loops" "sudo apt-get install -y gcc"
    fi
}

loop_timer_c() {
    cat <<'EOF'
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char ref[65536], buf[65536];

int main(int argc, char **argv) {
    if (argc != 5) return 2;
    int syncing = strcmp(argv[1], "writesync") == 0;
    int writing = syncing || strcmp(argv[1], "write") == 0;
    long n = atol(argv[3]), bad = 0;
    int fd = open(argv[4], O_RDONLY);
    ssize_t len = fd < 0 ? -1 : read(fd, ref, sizeof ref);
    if (len < 0) return 2;
    close(fd);
    char path[4096];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        if (writing) {
            snprintf(path, sizeof path, "%s/f%05ld", argv[2], i);
            fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
            if (fd < 0) { bad++; continue; }
            if (write(fd, ref, len) != len) bad++;
            if (syncing && fsync(fd) != 0) bad++;
        } else {
            fd = open(argv[2], O_RDONLY);
            if (fd < 0) { bad++; continue; }
            if (read(fd, buf, sizeof buf) != len || memcmp(buf, ref, len) != 0) bad++;
        }
        if (close(fd) != 0) bad++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%.9f %ld\n", (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, bad);
    return 0;
}
EOF
}

loop_timer_py() {
    cat <<'EOF'
import os, sys, time
mode, target, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(sys.argv[4], "rb") as f:
    ref = f.read()
bad = 0
start = time.perf_counter()
for i in range(n):
    try:
        if mode in ("write", "writesync"):
            fd = os.open("%s/f%05d" % (target, i), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                bad += os.write(fd, ref) != len(ref)
                if mode == "writesync":
                    os.fsync(fd)
            finally:
                os.close(fd)
        else:
            fd = os.open(target, os.O_RDONLY)
            try:
                bad += os.read(fd, 65536) != ref
            finally:
                os.close(fd)
    except OSError:
        bad += 1
print("%.9f %d" % (time.perf_counter() - start, bad))
EOF
}

# ---------------------------------------------------------------- measuring

# Quote a word for the shell hyperfine runs the commands in.
q() { printf '%q' "$1"; }

# Every measurement ends up as samples, in seconds, one per line, in
# $WORK/samples/ID.WHO (WHO: pk, or the peer's key); record_result takes their medians.

# run_pair ID PK_COMMAND PEER_NAME PEER_COMMAND: times both, one after the other in
# one hyperfine call; the samples go to ID.pk and ID.peer.
run_pair() {
    local id="$1" pk_command="$2" peer_name="$3" peer_command="$4"
    note "$id: $pk_command   vs   $peer_command"
    hyperfine --warmup "$WARMUP" --runs "$RUNS" --style basic \
        --export-json "$WORK/$id.json" \
        --command-name "pk" "$pk_command" \
        --command-name "$peer_name" "$peer_command" >&2
    hyperfine_times "$WORK/$id.json" 0 >"$WORK/samples/$id.pk"
    hyperfine_times "$WORK/$id.json" 1 >"$WORK/samples/$id.peer"
}

# hyperfine_times JSON INDEX: the raw wall times of the INDEX-th command (not
# hyperfine's summary, whose fields vary between versions).
hyperfine_times() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import json, sys
for t in json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]["times"]:
    print(repr(t))' "$1" "$2"
    else
        jq -r --argjson i "$2" '.results[$i].times[]' "$1"
    fi
}

# time_loop ID SAMPLES PER MODE TARGET N: runs the loop timer once (see
# setup_loop_timer) and appends its time divided by PER to SAMPLES (none for a
# warm-up: SAMPLES empty). Fails, saying so, when any operation went wrong.
time_loop() {
    local id="$1" samples="$2" per="$3" mode="$4" target="$5" n="$6" result seconds bad
    result="$("${LOOP[@]}" "$mode" "$target" "$n" "$WORK/value")" \
        || die "$id: the loop timer failed on $target"
    read -r seconds bad <<<"$result"
    [ -z "$samples" ] || awk -v s="$seconds" -v p="$per" 'BEGIN { printf "%.9g\n", s / p }' >>"$samples"
    if [ "$bad" != 0 ]; then
        note "$id: WRONG OUTPUT: $bad of $n ${mode}s on $target failed or gave wrong bytes; its time is marked INVALID"
        return 1
    fi
}

# median FILE: the median of the numbers in FILE, one a line.
median() {
    sort -g "$1" | awk '{ v[NR] = $1 }
        END { if (NR == 0) exit 1
              printf "%.9g\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
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

# record_result ID LABEL PEER MAX_RATIO VALID [UNIT [PEER_KEY]]: adds a table row from
# the medians of samples ID.pk and ID.PEER_KEY (default: peer), shown in UNIT: ms (the
# default), "µs/op", or s ("s/1,000 files"). Every target is written as
# "pk / peer <= MAX_RATIO" (5x faster = 0.2, within 2x = 2).
record_result() {
    local id="$1" label="$2" peer="$3" target="$4" valid="$5" unit="${6:-ms}" key="${7:-peer}" pk_key="${8:-pk}"
    local pk_s peer_s pk_shown peer_shown ratio mark
    pk_s="$(median "$WORK/samples/$id.$pk_key")"
    peer_s="$(median "$WORK/samples/$id.$key")"
    pk_shown="$(in_unit "$pk_s" "$unit")"
    peer_shown="$(in_unit "$peer_s" "$unit")"
    # From the unrounded medians; 3 decimals below 1, where targets like 0.05 live.
    ratio="$(awk -v a="$pk_s" -v b="$peer_s" 'BEGIN { r = a / b; printf (r < 1 ? "%.3f" : "%.2f"), r }')"
    if [ "$valid" != 1 ]; then
        mark=INVALID
        INVALID=1
    elif awk -v r="$ratio" -v t="$target" 'BEGIN { exit !(r <= t) }'; then
        mark=PASS
    else
        mark=FAIL
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$id" "$label" "$pk_shown" "$peer" "$peer_shown" "$ratio" "$target" "$mark" >>"$RESULTS"
}

# in_unit SECONDS UNIT: e.g. "26.31 ms", "4.62 µs/op".
in_unit() {
    local scale
    case "$2" in
        ms*) scale=1000 ;;
        µs*) scale=1000000 ;;
        *) scale=1 ;;
    esac
    awk -v s="$1" -v k="$scale" -v u="$2" 'BEGIN { printf "%.2f %s", s * k, u }'
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

# P3's file: the same 1 KiB in the pk mount, a plain tmpfs (the physical limit) and
# gocryptfs. Written through each file system, as a user would.
setup_p3() {
    setup_loop_timer
    setup_gocryptfs
    PK_MNT="$WORK/pk-mount"
    mount_pk "$PK_MNT" "$PK_KEYNODE_FILE" "$PK_KEY_FILE"
    [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] \
        || die "P3 needs /dev/shm to be a tmpfs, for its plain tmpfs peer"
    SHM_DIR="$(mktemp -d /dev/shm/pk-bench.XXXXXX)"
    mkdir -p "$PK_MNT/bench" "$GC_PLAIN/bench"
    cp "$WORK/value" "$PK_MNT/bench/p3"
    cp "$WORK/value" "$SHM_DIR/p3"
    cp "$WORK/value" "$GC_PLAIN/bench/p3"
    # Services that only read secrets mount read-only (S4, S5): timed as a second pk
    # row. Both kinds of mount answer no open or close (--pin-versions would).
    PK_RO_MNT="$WORK/pk-mount-ro"
    mount_pk "$PK_RO_MNT" "$PK_KEYNODE_FILE" "$PK_KEY_FILE" --read-only
}

# P3: open/read/close of one 1 KiB file, P3_OPS times in one process, through the pk
# mount vs tmpfs and gocryptfs. Rounds interleave the three, so that a burst of load
# on this shared machine hits all of them alike; warm-up rounds fill the caches.
bench_p3() {
    local -A file=([pk]="$PK_MNT/bench/p3" [pkro]="$PK_RO_MNT/bench/p3" [tmpfs]="$SHM_DIR/p3" [gocryptfs]="$GC_PLAIN/bench/p3")
    local -A ok=([pk]=1 [pkro]=1 [tmpfs]=1 [gocryptfs]=1)
    local who round samples
    for who in pk pkro tmpfs gocryptfs; do
        check_output P3 "cat through $who" cat "${file[$who]}" || ok[$who]=0
    done
    note "P3: $P3_WARMUP warm-up + $P3_RUNS rounds of $P3_OPS open/read/close on each of pk, pk --read-only, tmpfs, gocryptfs ($LOOP_KIND)"
    for ((round = 1; round <= P3_WARMUP + P3_RUNS; round++)); do
        for who in pk pkro tmpfs gocryptfs; do
            samples=''
            [ "$round" -le "$P3_WARMUP" ] || samples="$WORK/samples/P3.$who"
            time_loop P3 "$samples" "$P3_OPS" read "${file[$who]}" "$P3_OPS" || ok[$who]=0
        done
    done
    record_result P3 "$P3_OPS x open/read/close 1 KiB" "tmpfs" 2 \
        "$((ok[pk] & ok[tmpfs]))" "µs/op" tmpfs
    record_result P3 "$P3_OPS x open/read/close 1 KiB" "gocryptfs" 0.2 \
        "$((ok[pk] & ok[gocryptfs]))" "µs/op" gocryptfs
    record_result P3 "$P3_OPS x open/read/close 1 KiB, read-only mount" "tmpfs" 2 \
        "$((ok[pkro] & ok[tmpfs]))" "µs/op" tmpfs pkro
    record_result P3 "$P3_OPS x open/read/close 1 KiB, read-only mount" "gocryptfs" 0.2 \
        "$((ok[pkro] & ok[gocryptfs]))" "µs/op" gocryptfs pkro
}

# P4 writes into a keynode of its own, the same empty one for every run: pk's cost
# per save grows with the secrets already in the keynode, so runs into one keynode
# would each measure something else (and the median would depend on the run count).
setup_p4() {
    setup_loop_timer
    setup_gocryptfs
    P4_KEYNODE="$WORK/p4.keynode"
    P4_KEY="$WORK/p4.key"
    quietly env PK_PASSPHRASE=bench-only "$PK" init --name bench-p4 -k "$P4_KEYNODE"
    quietly env PK_PASSPHRASE=bench-only "$PK" identity export --secret -o "$P4_KEY" -k "$P4_KEYNODE"
}

# P4: P4_FILES new 1 KiB files (create, write, close) in one process; in pk each close
# returns after a durable, signed version. Peers: the same files in gocryptfs (no
# versions, no fsync; a fresh directory per run), and `pass insert` with git in a shell
# loop, of which only PASS_BATCHES x PASS_BATCH inserts are timed (1,000 take minutes).
bench_p4() {
    local -A ok=([pk]=1 [gocryptfs]=1 [gcsync]=1 [pass]=1)
    local run samples batch
    note "P4: $P4_WARMUP warm-up + $P4_RUNS runs of $P4_FILES new files on each of pk, gocryptfs, gocryptfs with fsync ($LOOP_KIND)"
    for ((run = 1; run <= P4_WARMUP + P4_RUNS; run++)); do
        samples=''
        [ "$run" -le "$P4_WARMUP" ] || samples="$WORK/samples/P4"
        p4_pk_run "$run" "${samples:+$samples.pk}" || ok[pk]=0
        mkdir -p "$GC_PLAIN/bench/p4/r$run"
        time_loop P4 "${samples:+$samples.gocryptfs}" 1 write "$GC_PLAIN/bench/p4/r$run" "$P4_FILES" \
            || ok[gocryptfs]=0
        mkdir -p "$GC_PLAIN/bench/p4-sync/r$run"
        time_loop P4 "${samples:+$samples.gcsync}" 1 writesync "$GC_PLAIN/bench/p4-sync/r$run" "$P4_FILES" \
            || ok[gcsync]=0
    done
    check_p4_gocryptfs "$((P4_WARMUP + P4_RUNS))" || { ok[gocryptfs]=0; ok[gcsync]=0; }
    note "P4: $PASS_BATCHES batches of $PASS_BATCH pass insert (git), scaled to $P4_FILES"
    for ((batch = 1; batch <= PASS_BATCHES; batch++)); do
        time_pass_batch "$batch" >>"$WORK/samples/P4.pass" || ok[pass]=0
    done
    check_p4_pass || ok[pass]=0
    record_result P4 "write $P4_FILES files of 1 KiB, each durable" \
        "pass insert (git), $((PASS_BATCHES * PASS_BATCH)) timed, scaled to $P4_FILES" 0.05 \
        "$((ok[pk] & ok[pass]))" "s/$P4_FILES files" pass
    record_result P4 "write $P4_FILES files of 1 KiB, each durable" \
        "gocryptfs (not versioned)" 2 "$((ok[pk] & ok[gocryptfs]))" "s/$P4_FILES files" gocryptfs
    # Not a design target: the same guarantee of durability on both sides (gocryptfs
    # fsyncs each file), to show what the row above compares.
    record_result P4 "write $P4_FILES files of 1 KiB, each durable" \
        "gocryptfs + fsync per file (durable, not versioned)" 2 "$((ok[pk] & ok[gcsync]))" "s/$P4_FILES files" gcsync
}

# p4_pk_run RUN SAMPLES: one pk run of P4 on a fresh copy of the empty keynode, mounted
# for this run only; checks it and unmounts it.
p4_pk_run() {
    local run="$1" samples="$2" keynode="$WORK/p4-r$1.keynode" mountpoint="$WORK/p4-mount-r$1" bad=0
    cp "$P4_KEYNODE" "$keynode"
    mount_pk "$mountpoint" "$keynode" "$P4_KEY"
    mkdir -p "$mountpoint/bench/p4"
    time_loop P4 "$samples" 1 write "$mountpoint/bench/p4" "$P4_FILES" || bad=1
    check_p4_pk "$keynode" "$mountpoint" || bad=1
    quietly "$PK" unmount "$mountpoint"
    rm -f "$keynode"
    return "$bad"
}

# time_pass_batch N: PASS_BATCH inserts of new secrets, one process each as pass is
# used; prints the time they took scaled to P4_FILES inserts.
time_pass_batch() {
    local batch="$1" i start end
    start="$EPOCHREALTIME"
    for ((i = 0; i < PASS_BATCH; i++)); do
        pass insert -m -f "bench/p4/b$batch/f$i" <"$WORK/value" >/dev/null 2>&1 \
            || { note "P4: pass insert failed"; return 1; }
    done
    end="$EPOCHREALTIME"
    awk -v s="$start" -v e="$end" -v n="$PASS_BATCH" -v f="$P4_FILES" \
        'BEGIN { printf "%.9g\n", (e - s) / n * f }'
}

# check_p4_pk KEYNODE MOUNTPOINT: every file written must be a secret holding the
# value, as one version, in the keynode itself (read by a separate pk process, not
# through the mount) and in the mount.
check_p4_pk() {
    local keynode="$1" mountpoint="$2" bad=0 sample count
    sample="bench/p4/f$(printf '%05d' $((P4_FILES / 2)))"
    count="$(pk_on "$keynode" "$P4_KEY" ls | grep -c .)" || true
    [ "$count" = "$P4_FILES" ] \
        || { note "P4: WRONG OUTPUT: pk ls lists $count secrets, not $P4_FILES"; bad=1; }
    count="$(find "$mountpoint/bench/p4" -type f | grep -c .)" || true
    [ "$count" = "$P4_FILES" ] \
        || { note "P4: WRONG OUTPUT: the mount shows $count files, not $P4_FILES"; bad=1; }
    check_output P4 "pk get $sample" pk_on "$keynode" "$P4_KEY" get "$sample" || bad=1
    check_output P4 "cat of $sample through the mount" cat "$mountpoint/$sample" || bad=1
    count="$(pk_on "$keynode" "$P4_KEY" log "$sample" | grep -c .)" || true
    [ "$count" = 1 ] || { note "P4: NOT VERSIONED: $sample has $count versions, not 1"; bad=1; }
    return "$bad"
}

check_p4_gocryptfs() {
    local runs="$1" bad=0 sample count
    sample="bench/p4/r$runs/f$(printf '%05d' $((P4_FILES / 2)))"
    count="$(find "$GC_PLAIN/bench/p4" "$GC_PLAIN/bench/p4-sync" -type f | grep -c .)" || true
    [ "$count" = $((2 * runs * P4_FILES)) ] \
        || { note "P4: WRONG OUTPUT: gocryptfs holds $count files, not 2 x $runs x $P4_FILES"; bad=1; }
    check_output P4 "cat of $sample in gocryptfs" cat "$GC_PLAIN/$sample" || bad=1
    return "$bad"
}

check_p4_pass() {
    local bad=0 count
    check_output P4 "pass show bench/p4/b$PASS_BATCHES/f0" pass show "bench/p4/b$PASS_BATCHES/f0" || bad=1
    count="$(git -C "$PASSWORD_STORE_DIR" log --oneline -- bench/p4 | grep -c .)" || true
    [ "$count" = $((PASS_BATCHES * PASS_BATCH)) ] \
        || { note "P4: NOT VERSIONED: $((PASS_BATCHES * PASS_BATCH)) pass inserts made $count git commits"; bad=1; }
    return "$bad"
}

# P6's fixture: a publisher keynode with P6_SECRETS secrets (one change, `pk import`) shared
# read-only with a subscriber that trusts it; the subscriber before its first pull, after
# it, and the publisher with one secret changed since.
setup_p6() {
    local dir="$WORK/p6" i
    mkdir -p "$dir/src"
    for ((i = 1; i <= P6_SECRETS; i++)); do printf 'value-%s' "$i" >"$dir/src/s$i"; done
    for who in pub sub; do
        quietly env PK_PASSPHRASE=bench-only "$PK" init --name "$who" -k "$dir/$who.keynode"
        quietly env PK_PASSPHRASE=bench-only "$PK" identity export --secret -o "$dir/$who.key" -k "$dir/$who.keynode"
    done
    pk_on "$dir/sub.keynode" "$dir/sub.key" identity export >"$dir/sub.pub" 2>/dev/null
    quietly pk_on "$dir/pub.keynode" "$dir/pub.key" import "$dir/src" --prefix prod
    quietly pk_on "$dir/pub.keynode" "$dir/pub.key" grant "$dir/sub.pub" 'prod/**' --read
    quietly pk_on "$dir/sub.keynode" "$dir/sub.key" remote add pub "$dir/pub.keynode"
    cp "$dir/sub.keynode" "$dir/sub-empty.keynode"
    # git's side: the publisher's keynode is a git repository once extracted.
    mkdir "$dir/pub-repo"
    tar -xf "$dir/pub.keynode" -C "$dir/pub-repo"
}

# P6: pull of P6_SECRETS changed secrets into an empty subscriber (each object checked,
# every signature verified, one change) vs `git fetch` of the same objects from the
# publisher's keynode extracted as a repository; then a pull of one changed secret into the
# full subscriber, against the 100 ms budget of PERFORMANCE.md.
bench_p6() {
    local dir="$WORK/p6" valid=1 i
    note "P6: pull of $P6_SECRETS secrets   vs   git fetch of the same objects"
    hyperfine --warmup 0 --runs "$P6_RUNS" --style basic --export-json "$WORK/P6.json" \
        --prepare "cp $(q "$dir/sub-empty.keynode") $(q "$dir/sub.keynode")" \
        --command-name pk "$(q "$PK") pull pub -k $(q "$dir/sub.keynode") --identity-file $(q "$dir/sub.key")" \
        --prepare "rm -rf $(q "$dir/fetch.git") && git init -q --bare $(q "$dir/fetch.git")" \
        --command-name "git fetch" "git --git-dir=$(q "$dir/fetch.git") fetch -q $(q "$dir/pub-repo") 'refs/secrets/*:refs/secrets/*'" >&2
    hyperfine_times "$WORK/P6.json" 0 >"$WORK/samples/P6.pk"
    hyperfine_times "$WORK/P6.json" 1 >"$WORK/samples/P6.peer"
    [ "$(pk_on "$dir/sub.keynode" "$dir/sub.key" ls | grep -c .)" = "$P6_SECRETS" ] \
        || { note "P6: WRONG OUTPUT: the subscriber does not list $P6_SECRETS secrets"; valid=0; }
    [ "$(pk_on "$dir/sub.keynode" "$dir/sub.key" get prod/s77)" = value-77 ] \
        || { note "P6: WRONG OUTPUT: prod/s77 did not read back"; valid=0; }
    record_result P6 "pull $P6_SECRETS changed secrets" "git fetch" 1.5 "$valid" s

    cp "$dir/sub.keynode" "$dir/sub-full.keynode"
    printf 'changed' | quietly pk_on "$dir/pub.keynode" "$dir/pub.key" set prod/s5
    note "P6b: pull of 1 changed secret into $P6_SECRETS"
    hyperfine --warmup 1 --runs "$RUNS" --style basic --export-json "$WORK/P6b.json" \
        --prepare "cp $(q "$dir/sub-full.keynode") $(q "$dir/sub.keynode")" \
        --command-name pk "$(q "$PK") pull pub -k $(q "$dir/sub.keynode") --identity-file $(q "$dir/sub.key")" >&2
    hyperfine_times "$WORK/P6b.json" 0 >"$WORK/samples/P6b.pk"
    echo 0.1 >"$WORK/samples/P6b.peer"
    [ "$(pk_on "$dir/sub.keynode" "$dir/sub.key" get prod/s5)" = changed ] \
        || { note "P6b: WRONG OUTPUT: prod/s5 did not change"; valid=0; }
    record_result P6b "pull 1 changed secret into $P6_SECRETS" "budget" 1 "$valid" ms
}

# ---------------------------------------------------------------- reporting

# The table, as Markdown; read as-is on a terminal too.
results_table() {
    echo '| workload | pk median | peer | peer median | ratio pk/peer | target | result |'
    echo '|---|---:|---|---:|---:|---|---|'
    awk -F '\t' '{ printf "| %s %s | %s | %s | %s | %s | <= %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }' "$RESULTS"
}

# The FUSE peers' versions, when this run used them.
peer_versions_fuse() {
    [ -n "$GC_PLAIN" ] || return 0
    printf ', %s' "$(gocryptfs -version 2>/dev/null | head -n 1 | cut -d ';' -f 1)"
}

# How each workload that ran was timed, with this mode's counts.
method_notes() {
    local id
    for id in "${WORKLOADS[@]}"; do
        case "$id" in
            P1) echo "- P1: whole-process wall time of \`pk get\` vs \`pass show\` (hyperfine, $WARMUP warm-up + $RUNS runs each); pk reads its key from a file, pass has a warm gpg-agent." ;;
            P2) echo "- P2: whole-process wall time of \`pk set\` (a durable, signed version) vs \`pass insert\` (a git commit), same counts as P1; each run must have made one version." ;;
            P3) echo "- P3: $P3_OPS x open/read/close of the same 1 KiB file in one process, timed by $LOOP_KIND; every read is checked against the value. Per round the four file systems run one after another (the pk mount, the same keynode mounted \`--read-only\`, tmpfs under /dev/shm, gocryptfs); median of µs per open/read/close over $P3_RUNS rounds, after $P3_WARMUP warm-up." ;;
            P6) echo "- P6: whole-process \`pk pull\` of $P6_SECRETS secrets (each with two versions: before and after the read grant) into a fresh copy of an empty subscriber, $P6_RUNS runs, vs \`git fetch\` of the same refs and objects from the publisher's keynode extracted with tar into a fresh bare repository. P6b: \`pk pull\` of one changed secret into a fresh copy of the full subscriber ($RUNS runs), against the 100 ms budget of PERFORMANCE.md (shown as the peer)." ;;
            P4) echo "- P4: $P4_FILES new 1 KiB files (create, write, close) in a fresh directory, in one process, timed by $LOOP_KIND; median over $P4_RUNS runs after $P4_WARMUP warm-up. Each pk run writes into a fresh copy of an empty keynode, mounted for that run (pk's cost per save grows with the keynode); each close returns after a durable, signed version (checked after each run: \`pk ls\` lists the $P4_FILES secrets, a sample has one version and reads back right through \`pk get\` and the mount). gocryptfs writes the same files into a fresh directory per run, without versions or fsync, and again with an fsync per file (the last row: the same durability as pk, not a design target). pass: \`pass insert -m\` with git, one process per secret as pass is used; $PASS_BATCHES batches of $PASS_BATCH inserts timed ($((PASS_BATCHES * PASS_BATCH)) in all) and scaled to $P4_FILES, median over the batches: $P4_FILES inserts would take minutes." ;;
        esac
    done
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
    echo "- command: \`$COMMAND_LINE\` ($([ "$QUICK" = 1 ] && echo quick || echo full) mode)"
    echo "- pk: $("$PK" --version 2>/dev/null | head -n 1), $(pk_build_kind), from $pk_source"
    echo "- peers: pass $(pass version 2>/dev/null | grep -o 'v[0-9][0-9.]*' | head -n 1), $(gpg --version | head -n 1), $(git --version)$(peer_versions_fuse), timed with $(hyperfine --version)"
    echo "- keynode, pass store and gocryptfs data on: $(findmnt -n -o FSTYPE -T "$WORK") (what an fsync costs depends on it)"
    echo
    results_table
    echo
    echo "Ratio = pk median / peer median, both measured side by side in this run. A result"
    echo "counts when ratio <= target. INVALID means a command's output was wrong, so its time"
    echo "does not count. What each row times:"
    echo
    method_notes
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

# Horizontal bars of pk/peer per workload on a log scale (the ratios span 0.01 to 10
# and more), each bar drawn from the parity line 1 (as fast as the peer): a bar to the
# left means pk is faster. Each workload's target is a blue mark. Plain SVG, by awk.
write_svg() {
    mkdir -p "$(dirname "$DOC_SVG")"
    awk -F '\t' '
        function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }
        function lg(v) { return log(v) / log(10) }
        function floor_(v) { return v == int(v) || v > 0 ? int(v) : int(v) - 1 }
        function ceil_(v) { return v == int(v) || v < 0 ? int(v) : int(v) + 1 }
        function x(v) { if (v < lo) v = lo; if (v > hi) v = hi
                        return left + (lg(v) - lg(lo)) / (lg(hi) - lg(lo)) * plot }
        function max3(a, b, c) { return a > b ? (a > c ? a : c) : (b > c ? b : c) }
        { n++; id[n] = $1; label[n] = $2; peer[n] = $4; ratio[n] = $6 + 0; shown[n] = $6; target[n] = $7 + 0; mark[n] = $8 }
        END {
            least = 1; most = 1
            for (i = 1; i <= n; i++) {
                if (ratio[i] > 0 && ratio[i] < least) least = ratio[i]
                if (target[i] > 0 && target[i] < least) least = target[i]
                if (ratio[i] > most) most = ratio[i]
                if (target[i] > most) most = target[i]
            }
            # Whole decades, with some room beyond the extremes.
            lo = 10 ^ floor_(lg(least / 1.3)); hi = 10 ^ ceil_(lg(most * 1.3))
            left = 350; plot = 420; row = 46; head = 66
            width = left + plot + 110; height = head + n * row + 62
            printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"13\">\n", width, height, width, height
            printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
            printf "<text x=\"%d\" y=\"24\" font-size=\"15\" font-weight=\"bold\">pk time / peer time (median; log scale; lower is better)</text>\n", 10
            bottom = head + n * row
            for (d = lo; d <= hi * 1.001; d *= 10) {
                printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ccc\"/>\n", x(d), head - 6, x(d), bottom
                printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">%g</text>\n", x(d), bottom + 18, d
                for (m = 2; m <= 5 && d * m < hi; m += 3) {
                    printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#eee\"/>\n", x(d * m), head - 6, x(d * m), bottom
                    printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#999\" font-size=\"10\">%g</text>\n", x(d * m), bottom + 16, d * m
                }
            }
            printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#333\" stroke-dasharray=\"2,3\"/>\n", x(1), head - 10, x(1), bottom
            printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#333\">1 = same as peer</text>\n", x(1), head - 14
            for (i = 1; i <= n; i++) {
                y = head + (i - 1) * row
                colour = mark[i] == "PASS" ? "#2e7d32" : (mark[i] == "FAIL" ? "#c62828" : "#9e9e9e")
                printf "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">%s %s</text>\n", 10, y + 17, esc(id[i]), esc(label[i])
                printf "<text x=\"%d\" y=\"%d\" fill=\"#555\">vs %s</text>\n", 10, y + 33, esc(peer[i])
                a = x(ratio[i]); b = x(1)
                printf "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"24\" fill=\"%s\"/>\n", a < b ? a : b, y + 8, a < b ? b - a : (a - b > 1 ? a - b : 1), colour
                printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#1565c0\" stroke-width=\"3\"/>\n", x(target[i]), y + 4, x(target[i]), y + 36
                at = max3(a, x(target[i]), b)   # clear of the bar, the target mark and the parity line
                printf "<text x=\"%.1f\" y=\"%d\" fill=\"#000\">%s %s</text>\n", at + 6, y + 25, esc(shown[i]), esc(mark[i])
            }
            printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", left, head - 6, left, bottom
            printf "<text x=\"%d\" y=\"%d\" fill=\"#1565c0\">| target (pk/peer at most)</text>\n", left, bottom + 38
            printf "<text x=\"%d\" y=\"%d\" fill=\"#555\">bars start at 1: to the left, pk is faster than the peer</text>\n", left, bottom + 54
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
    note "pk: $PK ($(pk_build_kind)); $([ "$QUICK" = 1 ] && echo quick || echo full) mode"
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
