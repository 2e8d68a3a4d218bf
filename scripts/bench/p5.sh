# shellcheck shell=bash
# P5: a keynode of 100,000 secrets of 64 random bytes. `pk get` with warm caches and
# with none, `pk ls`, mount ready, `ls -lR` and `cat` of everything through the mount,
# the mount daemon's peak memory, and the keynode's size; the peers are `pass` and
# gocryptfs holding the same tree.

NEEDED_TOOLS+=(gocryptfs fusermount3 perl)
if [ "$QUICK" = 1 ]; then
    P5_SECRETS=10000
    P5_COLD_RUNS=2 P5_LS_RUNS=5 P5_MOUNT_RUNS=3 P5_TREE_RUNS=1
else
    P5_SECRETS=100000
    P5_COLD_RUNS=3 P5_LS_RUNS=10 P5_MOUNT_RUNS=5 P5_TREE_RUNS=3
fi
P5_DIR=''
# One secret somewhere in the middle of the tree, read by every get and checked.
P5_SAMPLE="$(awk -v n="$P5_SECRETS" 'BEGIN {
    k = n * 42 / 100 + n * 7 / 1000 + 3
    printf "team%02d/svc%d/secret%06d", k / (n / 100), (k % (n / 100)) / (n / 1000), k }')"

# The same tree three times: a keynode made by one `pk import`, a gocryptfs directory
# and a pass store. Timed rows of pk use caches of their own under P5_DIR, so that
# removing them for the cold row touches nothing else.
setup_p5() {
    P5_DIR="$WORK/p5"
    mkdir -p "$P5_DIR/warm-cache" "$P5_DIR/cold-cache"
    note "P5: making $P5_SECRETS secrets as a keynode, a gocryptfs tree and a pass store (not timed)"
    p5_make_tree "$P5_DIR/src" "$P5_SECRETS"
    new_keynode "$P5_DIR/p5.keynode" "$P5_DIR/p5.key" bench-p5
    quietly pk_on "$P5_DIR/p5.keynode" "$P5_DIR/p5.key" import "$P5_DIR/src"
    note "P5: keynode made; copying the tree into gocryptfs"
    gocryptfs_init "$P5_DIR/gc-cipher"
    gocryptfs_mount "$P5_DIR/gc-cipher" "$P5_DIR/gc-plain"
    cp -r "$P5_DIR/src/." "$P5_DIR/gc-plain/"
    fuse_unmount "$P5_DIR/gc-plain"
    note "P5: encrypting the pass store"
    p5_pass_store "$P5_DIR/src" "$P5_DIR/store"
    # What every full read of the tree must give: its names, and its bytes in name order.
    p5_tree_digest "$P5_DIR/src" >"$P5_DIR/src.digest"
}

# p5_make_tree DIR N: DIR/team00..team99/svc0..svc9/secretNNNNNN, N files of 64
# random bytes. One perl process: a shell loop would spend minutes starting processes.
p5_make_tree() {
    mkdir -p "$1"
    perl - "$1" "$2" <<'EOF' || die "P5: could not write the tree of secrets"
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

# p5_pass_store SRC STORE: the tree as pass keeps it (each file encrypted to the pass
# key as `pass insert` does it, name.gpg, and a git repository holding them). Made with
# gpg --multifile, a few processes in all: 100,000 `pass insert` would take hours, and
# only the store's size and `pass show` matter here. Committed in one commit and
# packed, as git's automatic gc leaves a store that grew by many inserts.
p5_pass_store() {
    local src="$1" store="$2"
    mkdir -p "$store"
    cp -r "$src/." "$store/"
    (cd "$store" && find . -type f -print0 | xargs -0 -P "$(nproc)" -n 1000 \
        gpg --batch --quiet --yes --compress-algo=none --no-encrypt-to -r "$PASS_FPR" --multifile --encrypt) \
        >"$WORK/p5-gpg.log" 2>&1 || { cat "$WORK/p5-gpg.log" >&2; die "P5: gpg could not encrypt the pass store"; }
    find "$store" -type f ! -name '*.gpg' -delete
    echo "$PASS_FPR" >"$store/.gpg-id"
    quietly git -C "$store" init -q
    quietly git -C "$store" add -A
    quietly git -C "$store" -c gc.auto=0 commit -q -m "Add $P5_SECRETS secrets"
    quietly git -C "$store" gc -q
}

# p5_tree_digest DIR: digests of the names of DIR's files and of their bytes in name
# order; two trees give the same only when they hold the same files with the same bytes.
p5_tree_digest() {
    (cd "$1" && find . -type f | sort | sha256sum && find . -type f -print0 | sort -z | xargs -0 cat | sha256sum)
}

bench_p5() {
    local store="$P5_DIR/store" keynode="$P5_DIR/p5.keynode" key="$P5_DIR/p5.key"
    local -A ok=([get]=1 [cold]=1 [ls]=1 [pass]=1 [passls]=1 [pkmount]=1 [gcmount]=1 [pktree]=1 [gctree]=1)
    local pk_get pass_show count
    pk_get="$(q "$PK") get $P5_SAMPLE -k $(q "$keynode") --identity-file $(q "$key")"
    pass_show="PASSWORD_STORE_DIR=$(q "$store") pass show $P5_SAMPLE"

    check_bytes P5 "pk get $P5_SAMPLE" "$P5_DIR/src/$P5_SAMPLE" \
        env XDG_CACHE_HOME="$P5_DIR/warm-cache" "$PK" get "$P5_SAMPLE" -k "$keynode" --identity-file "$key" || ok[get]=0
    check_bytes P5 "pass show $P5_SAMPLE" "$P5_DIR/src/$P5_SAMPLE" \
        env PASSWORD_STORE_DIR="$store" pass show "$P5_SAMPLE" || ok[pass]=0
    note "P5: get of one secret in $P5_SAMPLE, warm   vs   pass show"
    hyperfine --warmup "$WARMUP" --runs "$RUNS" --style basic --export-json "$WORK/P5get.json" \
        --command-name "pk get (warm)" "XDG_CACHE_HOME=$(q "$P5_DIR/warm-cache") $pk_get" \
        --command-name "pass show" "$pass_show" >&2
    hyperfine_times "$WORK/P5get.json" 0 >"$WORK/samples/P5.get"
    hyperfine_times "$WORK/P5get.json" 1 >"$WORK/samples/P5.pass"
    # Warm means pk's open snapshot and name memo of this keynode exist.
    compgen -G "$P5_DIR/warm-cache/polykey/*.open" >/dev/null && compgen -G "$P5_DIR/warm-cache/polykey/*.names" >/dev/null \
        || note "P5: warning: the warm runs left no open snapshot (.open) or name memo (.names) in pk's cache"
    record_budget P5 "get 64 B of $P5_SECRETS, warm caches" "pass show" 0.030 \
        "$((ok[get] & ok[pass]))" ms pass get

    note "P5: get with no cache ($P5_COLD_RUNS runs, pk's cache removed before each)"
    hyperfine --warmup 0 --runs "$P5_COLD_RUNS" --style basic --export-json "$WORK/P5cold.json" \
        --prepare "rm -rf $(q "$P5_DIR/cold-cache/polykey")" \
        --command-name "pk get (no cache)" "XDG_CACHE_HOME=$(q "$P5_DIR/cold-cache") $pk_get" >&2
    hyperfine_times "$WORK/P5cold.json" 0 >"$WORK/samples/P5.cold"
    rm -rf "$P5_DIR/cold-cache/polykey"
    check_bytes P5 "pk get $P5_SAMPLE with no cache" "$P5_DIR/src/$P5_SAMPLE" \
        env XDG_CACHE_HOME="$P5_DIR/cold-cache" "$PK" get "$P5_SAMPLE" -k "$keynode" --identity-file "$key" || ok[cold]=0
    record_budget P5 "get 64 B of $P5_SECRETS, no cache" "pass show" 1 \
        "$((ok[cold] & ok[pass]))" ms pass cold

    note "P5: ls of $P5_SECRETS names, warm   vs   pass ls"
    hyperfine --warmup 1 --runs "$P5_LS_RUNS" --style basic --export-json "$WORK/P5ls.json" \
        --command-name "pk ls (warm)" "XDG_CACHE_HOME=$(q "$P5_DIR/warm-cache") $(q "$PK") ls -k $(q "$keynode") --identity-file $(q "$key")" \
        --command-name "pass ls" "PASSWORD_STORE_DIR=$(q "$store") pass ls" >&2
    hyperfine_times "$WORK/P5ls.json" 0 >"$WORK/samples/P5.ls"
    hyperfine_times "$WORK/P5ls.json" 1 >"$WORK/samples/P5.passls"
    count="$(XDG_CACHE_HOME="$P5_DIR/warm-cache" "$PK" ls -k "$keynode" --identity-file "$key" | grep -cx 'team[0-9]*/svc[0-9]/secret[0-9]*')" || true
    [ "$count" = "$P5_SECRETS" ] || { note "P5: WRONG OUTPUT: pk ls lists $count of the $P5_SECRETS secrets"; ok[ls]=0; }
    count="$(PASSWORD_STORE_DIR="$store" pass ls | grep -c 'secret[0-9]\{6\}')" || true
    [ "$count" = "$P5_SECRETS" ] || { note "P5: WRONG OUTPUT: pass ls lists $count of the $P5_SECRETS secrets"; ok[passls]=0; }
    record_budget P5 "ls of $P5_SECRETS names, warm caches" "pass ls" 1 \
        "$((ok[ls] & ok[passls]))" ms passls ls

    p5_mount_ready || { ok[pkmount]=0; ok[gcmount]=0; }
    record_budget P5 "mount ready (mount until ls shows the tree)" "gocryptfs mount" 2 \
        "$((ok[pkmount] & ok[gcmount]))" s gcmount pkmount

    p5_tree_reads
    record_result P5 "ls -lR of the mount" "gocryptfs" 2 "$((ok[pktree] & ok[gctree]))" s gclslr pklslr
    record_result P5 "cat of every file through the mount" "gocryptfs" 2 "$((ok[pktree] & ok[gctree]))" s gccat pkcat
    record_budget P5 "peak RSS of the mount daemon (ls -lR, cat)" "gocryptfs" 300000000 \
        "$((ok[pktree] & ok[gctree]))" MB gcrss pkrss

    du --apparent-size -s -B1 "$keynode" | cut -f1 >"$WORK/samples/P5.pkbytes"
    du --apparent-size -s -B1 "$store" | cut -f1 >"$WORK/samples/P5.passbytes"
    du -s -B1 "$keynode" | cut -f1 >"$WORK/samples/P5.pkdisk"
    du -s -B1 "$store" | cut -f1 >"$WORK/samples/P5.passdisk"
    P5_STORE_FILES_BYTES="$(du --apparent-size -s -B1 --exclude=.git "$store" | cut -f1)"
    record_result P5 "keynode size (du --apparent-size)" "pass store with git" 2 1 MB passbytes pkbytes
    record_result P5 "keynode size on disk (du)" "pass store with git" 2 1 MB passdisk pkdisk
}

# p5_wait_tree MOUNTPOINT: waits until `ls` shows the hundred team directories; fails
# after a minute.
p5_wait_tree() {
    local deadline=$((SECONDS + 60))
    until [ "$(ls "$1" 2>/dev/null | grep -c '^team[0-9][0-9]$')" = 100 ]; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
    done
}

# Mount ready, from the mount command's start until the first `ls` of the mountpoint
# shows the tree, pk and gocryptfs in turn, each unmounted again after.
p5_mount_ready() {
    local pk_mnt="$P5_DIR/pk-mount" gc_mnt="$P5_DIR/gc-plain" run start bad=0
    mkdir -p "$pk_mnt" "$gc_mnt"
    note "P5: $P5_MOUNT_RUNS x mount until ls shows the tree, pk and gocryptfs in turn"
    for ((run = 1; run <= P5_MOUNT_RUNS; run++)); do
        MOUNTS+=("pk:$pk_mnt")
        start="$EPOCHREALTIME"
        "$PK" mount "$pk_mnt" -k "$P5_DIR/p5.keynode" --identity-file "$P5_DIR/p5.key" >"$WORK/p5-mount.log" 2>&1 \
            || { cat "$WORK/p5-mount.log" >&2; die "P5: pk mount failed"; }
        p5_wait_tree "$pk_mnt" || { note "P5: WRONG OUTPUT: the pk mount showed no tree within a minute"; bad=1; }
        elapsed_since "$start" >>"$WORK/samples/P5.pkmount"
        quietly "$PK" unmount "$pk_mnt"

        MOUNTS+=("fuse:$gc_mnt")
        start="$EPOCHREALTIME"
        gocryptfs -q -extpass 'echo bench-only' "$P5_DIR/gc-cipher" "$gc_mnt" >"$WORK/p5-mount.log" 2>&1 \
            || { cat "$WORK/p5-mount.log" >&2; die "P5: gocryptfs failed to mount"; }
        p5_wait_tree "$gc_mnt" || { note "P5: WRONG OUTPUT: gocryptfs showed no tree within a minute"; bad=1; }
        elapsed_since "$start" >>"$WORK/samples/P5.gcmount"
        fuse_unmount "$gc_mnt"
    done
    return "$bad"
}

# On a fresh mount of each, one untimed full read checked against the tree (it also
# fills what each caches), then `ls -lR` and `cat` of every file timed, then the
# daemons' peak memory. Wrong output clears the caller's ok[pktree] or ok[gctree].
p5_tree_reads() {
    local pk_mnt="$P5_DIR/pk-mount" gc_mnt="$P5_DIR/gc-plain" who mnt count pid
    mount_pk "$pk_mnt" "$P5_DIR/p5.keynode" "$P5_DIR/p5.key"
    gocryptfs_mount "$P5_DIR/gc-cipher" "$gc_mnt"
    for who in pk gc; do
        [ "$who" = pk ] && mnt="$pk_mnt" || mnt="$gc_mnt"
        if ! p5_tree_digest "$mnt" | cmp -s - "$P5_DIR/src.digest"; then
            note "P5: WRONG OUTPUT: the files read through $mnt differ from the tree stored"
            ok[${who}tree]=0
        fi
        count="$(ls -lR "$mnt" | grep -c '^-')" || true
        [ "$count" = "$P5_SECRETS" ] \
            || { note "P5: WRONG OUTPUT: ls -lR of $mnt shows $count files, not $P5_SECRETS"; ok[${who}tree]=0; }
    done
    check_bytes P5 "cat of $P5_SAMPLE through the pk mount" "$P5_DIR/src/$P5_SAMPLE" cat "$pk_mnt/$P5_SAMPLE" || ok[pktree]=0
    note "P5: ls -lR and cat of every file, pk mount   vs   gocryptfs ($P5_TREE_RUNS runs each)"
    hyperfine --warmup 0 --runs "$P5_TREE_RUNS" --style basic --export-json "$WORK/P5tree.json" \
        --command-name "ls -lR, pk" "ls -lR $(q "$pk_mnt") >/dev/null" \
        --command-name "ls -lR, gocryptfs" "ls -lR $(q "$gc_mnt") >/dev/null" \
        --command-name "cat, pk" "find $(q "$pk_mnt") -type f -exec cat {} + >/dev/null" \
        --command-name "cat, gocryptfs" "find $(q "$gc_mnt") -type f -exec cat {} + >/dev/null" >&2
    hyperfine_times "$WORK/P5tree.json" 0 >"$WORK/samples/P5.pklslr"
    hyperfine_times "$WORK/P5tree.json" 1 >"$WORK/samples/P5.gclslr"
    hyperfine_times "$WORK/P5tree.json" 2 >"$WORK/samples/P5.pkcat"
    hyperfine_times "$WORK/P5tree.json" 3 >"$WORK/samples/P5.gccat"
    pid="$(daemon_pid "$PK" "$pk_mnt")" || die "P5: found no pk process serving $pk_mnt"
    peak_rss "$pid" >"$WORK/samples/P5.pkrss"
    pid="$(daemon_pid "$(command -v gocryptfs)" "$gc_mnt")" || die "P5: found no gocryptfs process serving $gc_mnt"
    peak_rss "$pid" >"$WORK/samples/P5.gcrss"
    quietly "$PK" unmount "$pk_mnt"
    fuse_unmount "$gc_mnt"
}

notes_p5() {
    echo "- P5: $P5_SECRETS secrets of 64 random bytes in team00..team99/svc0..svc9/secretNNNNNN, the same tree as a keynode (one \`pk import\`), a gocryptfs directory, and a pass store (each file encrypted to the pass key as \`pass insert\` does, then one git commit, packed by \`git gc\`). get: \`pk get\` of $P5_SAMPLE vs \`pass show\` (warm gpg-agent), $WARMUP warm-up + $RUNS runs each; warm: pk's open snapshot and name memo of the keynode exist (made by the warm-up); no cache: pk's cache directory removed before each of $P5_COLD_RUNS runs (the peer is the same \`pass show\`, which keeps none). ls: \`pk ls\` (warm) vs \`pass ls\`, $P5_LS_RUNS runs after 1 warm-up; both must list every secret. Mount ready: from the start of \`pk mount\` (key from a file) or \`gocryptfs\` (password through -extpass, then its scrypt) until \`ls\` of the mountpoint shows the 100 team directories, $P5_MOUNT_RUNS mounts each, alternating. ls -lR, cat: on a fresh mount of each, after one untimed full read checked against the tree (names and bytes), \`ls -lR M\` and \`find M -type f -exec cat {} +\`, $P5_TREE_RUNS runs each. Peak RSS: VmHWM of the mount daemon after those runs, one value each. Sizes: the keynode vs the pass store with its .git (the store without .git: $(in_unit "${P5_STORE_FILES_BYTES:-0}" MB) apparent)."
}
