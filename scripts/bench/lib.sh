# shellcheck shell=bash
# What the workloads of scripts/bench.sh share; sourced, never run.

readonly SECRET_SIZE=1024
QUICK=0
WARMUP=5         # whole-command rows (P1, P2, P9, ...): hyperfine runs per command
RUNS=100
WORKLOADS=()
NEEDED_TOOLS=()  # beyond the base set; each workload file adds what it uses
PK=''
WORK=''          # the one temp dir; everything the bench creates lives under it
RESULTS=''       # TSV, one row each: see record_row
INVALID=0        # set when a command gave wrong output: its time must not count
MOUNTS=()        # KIND:MOUNTPOINT of every mount this run made (KIND: pk or fuse)
UNLOCKED=()      # keynodes this run unlocked with `pk unlock`
SHM_DIR=''       # a directory under /dev/shm, removed at exit
USED_GOCRYPTFS=0
GC_PLAIN=''      # the gocryptfs of P3 and P4 (see setup_gocryptfs)
LOOP=()          # the loop timer (see setup_loop_timer)
LOOP_KIND=''

die() { echo "bench.sh: error: $1" >&2; [ $# -lt 2 ] || echo "bench.sh: hint: $2" >&2; exit "${3:-1}"; }
# Each note says when, from the start of the run: a full run takes many minutes.
note() { printf 'bench.sh: [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*" >&2; }

# Runs a set-up command silently, but shows everything it said if it fails.
quietly() {
    local log
    log="$(mktemp "$WORK/log.XXXXXX")"
    "$@" >"$log" 2>&1 || { cat "$log" >&2; die "set-up step failed: $*"; }
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
# safe to do unasked (root, non-interactive), otherwise say what to run. Only the
# workloads selected add theirs: P1 alone must not install FUSE peers.
ensure_tools() {
    local tools=(pass hyperfine gpg git "${NEEDED_TOOLS[@]}") missing=() packages=() tool
    for tool in $(printf '%s\n' "${tools[@]}" | awk '!seen[$0]++'); do
        command -v "$tool" >/dev/null 2>&1 && continue
        missing+=("$tool")
        case "$tool" in
            fusermount3) packages+=(fuse3) ;;
            perl) packages+=(perl-base) ;;
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
    # An unlocked key outlives this process (and even the user's logout) in the user
    # keyring until its timeout: forget it now.
    local keynode
    for keynode in "${UNLOCKED[@]}"; do "$PK" lock -k "$keynode" >/dev/null 2>&1 || true; done
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

# Keep the user's own git and gpg settings (hooks, signing, agents) out of the numbers,
# and pk's caches of the bench's keynodes out of the user's home.
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
    export XDG_CACHE_HOME="$WORK/cache"
    export XDG_STATE_HOME="$WORK/state"
}

pk_build_kind() {
    # A framework-dependent (JIT) build is a small launcher with pk.dll beside it.
    if [ -e "$(dirname "$PK")/pk.dll" ]; then echo "JIT (framework-dependent)"; else echo "NativeAOT (single file)"; fi
}

# ---------------------------------------------------------------- fixtures

# A keynode with the owner key exported to a file: the fair peer of pass with a warm
# gpg-agent (both have the key ready; nobody types a passphrase while timed).
setup_pk() {
    PK_KEYNODE_FILE="$WORK/bench.keynode"
    PK_KEY_FILE="$WORK/bench.key"
    new_keynode "$PK_KEYNODE_FILE" "$PK_KEY_FILE" bench
    quietly pk_cmd set bench/p1 <"$WORK/value"
}

# new_keynode KEYNODE KEYFILE NAME: an empty keynode and its owner key in a file.
new_keynode() {
    quietly env PK_PASSPHRASE=bench-only "$PK" init --name "$3" -k "$1"
    quietly env PK_PASSPHRASE=bench-only "$PK" identity export --secret -o "$2" -k "$1"
}

# make_secret_tree DIR N: DIR/team00..team99/svc0..svc9/secretNNNNNN, N files of 64
# random bytes. One perl process: a shell loop would spend minutes starting processes.
make_secret_tree() {
    mkdir -p "$1"
    perl - "$1" "$2" <<'EOF' || die "could not write a tree of $2 secrets in $1"
use strict;
my ($root, $n) = @ARGV;
my ($per_svc, $i) = ($n / 1000, 0);
open(my $random, "<:raw", "/dev/urandom") or die "/dev/urandom: $!\n";
for my $team (0 .. 99) {
    mkdir sprintf("%s/team%02d", $root, $team) or die "$!\n";
    for my $svc (0 .. 9) {
        my $dir = sprintf("%s/team%02d/svc%d", $root, $team, $svc);
        mkdir $dir or die "$dir: $!\n";
        for (1 .. $per_svc) {
            read($random, my $value, 64) == 64 or die "/dev/urandom: short read\n";
            my $path = sprintf("%s/secret%06d", $dir, $i++);
            open(my $f, ">:raw", $path) or die "$path: $!\n";
            print $f $value or die "$path: $!\n";
            close $f or die "$path: $!\n";
        }
    }
}
EOF
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

# gocryptfs_init CIPHERDIR: a fresh, empty gocryptfs with a throw-away password.
gocryptfs_init() {
    mkdir -p "$1"
    quietly gocryptfs -init -q -extpass 'echo bench-only' "$1"
    USED_GOCRYPTFS=1
}

# gocryptfs_mount CIPHERDIR PLAINDIR
gocryptfs_mount() {
    mkdir -p "$2"
    MOUNTS+=("fuse:$2")
    quietly gocryptfs -q -extpass 'echo bench-only' "$1" "$2"
}

# mount_gocryptfs CIPHERDIR PLAINDIR: a fresh gocryptfs, mounted.
mount_gocryptfs() {
    gocryptfs_init "$1"
    gocryptfs_mount "$1" "$2"
}

# The gocryptfs peer of P3 and P4, made once; its plain files are under GC_PLAIN.
setup_gocryptfs() {
    [ -z "$GC_PLAIN" ] || return 0
    GC_PLAIN="$WORK/gocryptfs-plain"
    mount_gocryptfs "$WORK/gocryptfs-cipher" "$GC_PLAIN"
}

# daemon_pid EXECUTABLE MOUNTPOINT: the process of EXECUTABLE that serves MOUNTPOINT
# (both pk and gocryptfs detach: the command that mounted is gone). Found by its
# executable and its arguments, which name the mount point as it was given.
daemon_pid() {
    local exe proc arg
    exe="$(readlink -f "$1")"
    for proc in /proc/[0-9]*; do
        [ "$(readlink "$proc/exe" 2>/dev/null)" = "$exe" ] || continue
        while IFS= read -r -d '' arg; do
            if [ "$arg" = "$2" ]; then echo "${proc#/proc/}"; return 0; fi
        done <"$proc/cmdline" 2>/dev/null
    done
    return 1
}

# peak_rss PID: the most resident memory PID has held since it started, in bytes.
peak_rss() {
    awk '/^VmHWM:/ { print $2 * 1024; found = 1 } END { exit !found }' "/proc/$1/status"
}

# The loop timer of P3/P4 (see fsloop.c): a C program when cc is there, else python3.
setup_loop_timer() {
    [ ${#LOOP[@]} -eq 0 ] || return 0
    if command -v cc >/dev/null 2>&1 && cc -O2 -o "$WORK/fsloop" "$BENCH_DIR/fsloop.c" >"$WORK/cc.log" 2>&1; then
        LOOP=("$WORK/fsloop")
        LOOP_KIND="a C loop (cc -O2)"
    elif command -v python3 >/dev/null 2>&1; then
        LOOP=(python3 "$BENCH_DIR/fsloop.py")
        LOOP_KIND="a python3 loop (os.open/os.read/os.write/os.close)"
    else
        die "P3/P4 need a C compiler or python3 to time their loops" "sudo apt-get install -y gcc"
    fi
}

# ---------------------------------------------------------------- measuring

# Quote a word for the shell hyperfine runs the commands in.
q() { printf '%q' "$1"; }

# Every measurement ends up as samples, one per line, in $WORK/samples/ID.WHO (WHO:
# pk, or the peer's key): seconds, or bytes for sizes. record_result takes their medians.

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

# time_loop ID SAMPLES PER MODE TARGET N: runs the loop timer once (see fsloop.c)
# and appends its time divided by PER to SAMPLES (none for a warm-up: SAMPLES
# empty). Fails, saying so, when any operation went wrong.
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

# elapsed_since START: seconds from $EPOCHREALTIME START until now.
elapsed_since() {
    awk -v s="$1" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.9g\n", e - s }'
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
    check_bytes "$id" "$what" "$WORK/value" "$@"
}

# check_bytes ID WHAT FILE COMMAND...: the command must print exactly FILE's bytes.
check_bytes() {
    local id="$1" what="$2" expected="$3"
    shift 3
    if ! "$@" 2>/dev/null | cmp -s - "$expected"; then
        note "$id: WRONG OUTPUT: $what did not return the $(wc -c <"$expected") bytes stored; its time is marked INVALID"
        return 1
    fi
}

# record_result ID LABEL PEER MAX_RATIO VALID [UNIT [PEER_KEY [PK_KEY]]]: adds a table
# row from the medians of samples ID.PK_KEY (default: pk) and ID.PEER_KEY (default:
# peer), shown in UNIT: ms (the default), "µs/op", s ("s/1,000 files") or MB. Every
# target is written as "pk / peer <= MAX_RATIO" (5x faster = 0.2, within 2x = 2).
record_result() {
    local id="$1" label="$2" peer="$3" target="$4" valid="$5" unit="${6:-ms}" key="${7:-peer}" pk_key="${8:-pk}"
    local pk_s peer_s mark=PASS
    pk_s="$(median "$WORK/samples/$id.$pk_key")"
    peer_s="$(median "$WORK/samples/$id.$key")"
    awk -v r="$(ratio_of "$pk_s" "$peer_s")" -v t="$target" 'BEGIN { exit !(r <= t) }' || mark=FAIL
    record_row "$id" "$label" "$peer" "$pk_s" "$peer_s" "$unit" "<= $target" "$target" "$valid" "$mark"
}

# record_shown ID LABEL PEER VALID [UNIT [PEER_KEY [PK_KEY]]]: a row for context that
# PERFORMANCE.md sets no target for; marked "shown", never PASS or FAIL.
record_shown() {
    local id="$1" label="$2" peer="$3" valid="$4" unit="${5:-ms}" key="${6:-peer}" pk_key="${7:-pk}"
    record_row "$id" "$label" "$peer" "$(median "$WORK/samples/$id.$pk_key")" "$(median "$WORK/samples/$id.$key")" \
        "$unit" "none" "-" "$valid" shown
}

# record_budget ID LABEL PEER BUDGET VALID UNIT [PEER_KEY [PK_KEY]]: as record_result,
# for a target that is an absolute limit on pk (BUDGET, in the samples' unit: seconds
# or bytes) rather than a ratio; the peer is shown for comparison. On the chart the
# target is where pk would stand at the limit, BUDGET / peer median.
record_budget() {
    local id="$1" label="$2" peer="$3" budget="$4" valid="$5" unit="$6" key="${7:-peer}" pk_key="${8:-pk}"
    local pk_s peer_s mark=PASS
    pk_s="$(median "$WORK/samples/$id.$pk_key")"
    peer_s="$(median "$WORK/samples/$id.$key")"
    awk -v a="$pk_s" -v t="$budget" 'BEGIN { exit !(a <= t) }' || mark=FAIL
    record_row "$id" "$label" "$peer" "$pk_s" "$peer_s" "$unit" "<= $(in_unit "$budget" "$unit")" \
        "$(awk -v t="$budget" -v b="$peer_s" 'BEGIN { printf "%.6g", t / b }')" "$valid" "$mark"
}

# ratio_of PK PEER: as the table shows it, from the unrounded medians; 3 decimals
# below 1, where targets like 0.05 live.
ratio_of() {
    awk -v a="$1" -v b="$2" 'BEGIN { r = a / b; printf (r < 1 ? "%.3f" : "%.2f"), r }'
}

# record_row ID LABEL PEER PK PEER_VALUE UNIT TARGET_TEXT CHART_TARGET VALID MARK:
# one line of $RESULTS, the columns of the table plus the target as a ratio for the
# chart.
record_row() {
    local mark="${10}"
    if [ "$9" != 1 ]; then
        mark=INVALID
        INVALID=1
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$(in_unit "$4" "$6")" "$3" \
        "$(in_unit "$5" "$6")" "$(ratio_of "$4" "$5")" "$7" "$mark" "$8" >>"$RESULTS"
}

# in_unit VALUE UNIT: e.g. "26.31 ms", "4.62 µs/op", "48.10 MB" (VALUE in seconds, or
# bytes for MB).
in_unit() {
    local scale
    case "$2" in
        ms*) scale=1000 ;;
        µs*) scale=1000000 ;;
        MB*) scale=0.000001 ;;
        *) scale=1 ;;
    esac
    awk -v s="$1" -v k="$scale" -v u="$2" 'BEGIN { printf "%.2f %s", s * k, u }'
}
