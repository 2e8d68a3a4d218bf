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
P5_KEYNODE=''
P5_KEY=''
P5_STORE=''
P5_CACHE=''      # pk's cache for every warm row, as `pk import` left it and the runs keep it
P5_COLD=''       # pk's cache for the cold rows, emptied before each run
# One secret somewhere in the middle of the tree, read by every get and checked.
P5_SAMPLE="$(awk -v n="$P5_SECRETS" 'BEGIN {
    k = n * 42 / 100 + n * 7 / 1000 + 3
    printf "team%02d/svc%d/secret%06d", k / (n / 100), (k % (n / 100)) / (n / 1000), k }')"

# The same tree three times: a keynode made by one `pk import`, a gocryptfs directory
# and a pass store. pk's caches of this keynode live apart from the other workloads',
# so that emptying them for a cold run touches nothing else.
setup_p5() {
    P5_DIR="$WORK/p5"
    P5_KEYNODE="$P5_DIR/p5.keynode"
    P5_KEY="$P5_DIR/p5.key"
    P5_STORE="$P5_DIR/store"
    P5_CACHE="$P5_DIR/cache"
    P5_COLD="$P5_DIR/cold-cache"
    mkdir -p "$P5_CACHE" "$P5_COLD"
    note "P5: making $P5_SECRETS secrets as a keynode and a pass store (each timed once), and a gocryptfs tree"
    make_secret_tree "$P5_DIR/src" "$P5_SECRETS"
    new_keynode "$P5_KEYNODE" "$P5_KEY" bench-p5
    local start
    start="$EPOCHREALTIME"
    XDG_CACHE_HOME="$P5_CACHE" quietly pk_on "$P5_KEYNODE" "$P5_KEY" import "$P5_DIR/src"
    elapsed_since "$start" >"$WORK/samples/P5.import"
    note "P5: keynode made; copying the tree into gocryptfs"
    gocryptfs_init "$P5_DIR/gc-cipher"
    gocryptfs_mount "$P5_DIR/gc-cipher" "$P5_DIR/gc-plain"
    cp -r "$P5_DIR/src/." "$P5_DIR/gc-plain/"
    fuse_unmount "$P5_DIR/gc-plain"
    note "P5: encrypting the pass store"
    start="$EPOCHREALTIME"
    p5_pass_store "$P5_DIR/src" "$P5_STORE"
    elapsed_since "$start" >"$WORK/samples/P5.passbuild"
    # What every full read of the tree must give: its names, and its bytes in name order.
    p5_tree_digest "$P5_DIR/src" >"$P5_DIR/src.digest"
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
    p5_get
    p5_ls
    p5_mount_ready
    p5_tree_reads
    p5_sizes
    p5_set
}

# `pk set` of one 64-byte value into the 100,000-secret keynode (warm caches) beside the
# same into an empty keynode: a write costs what it writes, not what the keynode holds.
# After the sizes: each run adds a version.
p5_set() {
    local empty="$P5_DIR/empty.keynode" empty_cache="$P5_DIR/empty-cache" valid=1 runs versions
    new_keynode "$empty" "$P5_DIR/empty.key" bench-p5-empty
    head -c 64 /dev/urandom >"$P5_DIR/set.value"
    note "P5: set of one 64-byte value into $P5_SECRETS secrets   vs   into an empty keynode"
    hyperfine --warmup "$WARMUP" --runs "$RUNS" --style basic --export-json "$WORK/P5set.json" \
        --command-name "pk set (100000)" "XDG_CACHE_HOME=$(q "$P5_CACHE") $(q "$PK") set team42/svc7/p5-set -k $(q "$P5_KEYNODE") --identity-file $(q "$P5_KEY") < $(q "$P5_DIR/set.value")" \
        --command-name "pk set (empty)" "XDG_CACHE_HOME=$(q "$empty_cache") $(q "$PK") set team42/svc7/p5-set -k $(q "$empty") --identity-file $(q "$P5_DIR/empty.key") < $(q "$P5_DIR/set.value")" >&2
    hyperfine_times "$WORK/P5set.json" 0 >"$WORK/samples/P5.set"
    hyperfine_times "$WORK/P5set.json" 1 >"$WORK/samples/P5.setempty"
    check_bytes P5 "pk get after pk set into $P5_SECRETS" "$P5_DIR/set.value" p5_pk get team42/svc7/p5-set || valid=0
    runs=$((WARMUP + RUNS))
    versions="$(p5_pk log team42/svc7/p5-set | grep -c .)"
    [ "$versions" = "$runs" ] || { note "P5: NOT VERSIONED: $runs pk set made $versions versions"; valid=0; }
    record_result P5 "set 64 B into $P5_SECRETS secrets, durable + versioned" "pk set into an empty keynode" 1.2 "$valid" ms setempty set
}

# p5_pk ARGS...: pk on the P5 keynode with the warm cache; for checks, not timing.
p5_pk() {
    XDG_CACHE_HOME="$P5_CACHE" "$PK" "$@" -k "$P5_KEYNODE" --identity-file "$P5_KEY"
}

# `pk get` of the sample, warm (the warm-up leaves the open snapshot and the name memo)
# and with an empty cache before each run, beside `pass show` of the same secret.
p5_get() {
    local expected="$P5_DIR/src/$P5_SAMPLE" warm=1 cold=1 pass=1 run start
    check_bytes P5 "pk get $P5_SAMPLE" "$expected" p5_pk get "$P5_SAMPLE" || warm=0
    check_bytes P5 "pass show $P5_SAMPLE" "$expected" env PASSWORD_STORE_DIR="$P5_STORE" pass show "$P5_SAMPLE" || pass=0
    note "P5: get of $P5_SAMPLE, warm   vs   pass show"
    hyperfine --warmup "$WARMUP" --runs "$RUNS" --style basic --export-json "$WORK/P5get.json" \
        --command-name "pk get (warm)" "XDG_CACHE_HOME=$(q "$P5_CACHE") $(q "$PK") get $P5_SAMPLE -k $(q "$P5_KEYNODE") --identity-file $(q "$P5_KEY")" \
        --command-name "pass show" "PASSWORD_STORE_DIR=$(q "$P5_STORE") pass show $P5_SAMPLE" >&2
    hyperfine_times "$WORK/P5get.json" 0 >"$WORK/samples/P5.get"
    hyperfine_times "$WORK/P5get.json" 1 >"$WORK/samples/P5.pass"
    compgen -G "$P5_CACHE/polykey/*.open" >/dev/null && compgen -G "$P5_CACHE/polykey/*.names" >/dev/null \
        || note "P5: warning: the warm runs left no open snapshot (.open) or name memo (.names) in pk's cache"
    record_budget P5 "get 64 B of $P5_SECRETS, warm caches" "pass show" 0.030 "$((warm & pass))" ms pass get

    # Timed here rather than by hyperfine, so that every run's output is checked: a
    # run takes seconds, and an extra one only to check would double the cost.
    note "P5: get with no cache, $P5_COLD_RUNS runs"
    for ((run = 1; run <= P5_COLD_RUNS; run++)); do
        rm -rf "$P5_COLD/polykey"
        start="$EPOCHREALTIME"
        XDG_CACHE_HOME="$P5_COLD" "$PK" get "$P5_SAMPLE" -k "$P5_KEYNODE" --identity-file "$P5_KEY" \
            >"$P5_DIR/cold.out" 2>"$P5_DIR/cold.err" || cold=0
        elapsed_since "$start" >>"$WORK/samples/P5.cold"
        cmp -s "$P5_DIR/cold.out" "$expected" || cold=0
    done
    [ "$cold" = 1 ] || { cat "$P5_DIR/cold.err" >&2; note "P5: WRONG OUTPUT: pk get with no cache did not return the value stored"; }
    record_budget P5 "get 64 B of $P5_SECRETS, no cache" "pass show" 1 "$((cold & pass))" ms pass cold
}

p5_ls() {
    local ok=1 count
    note "P5: ls of $P5_SECRETS names, warm   vs   pass ls"
    hyperfine --warmup 1 --runs "$P5_LS_RUNS" --style basic --export-json "$WORK/P5ls.json" \
        --command-name "pk ls (warm)" "XDG_CACHE_HOME=$(q "$P5_CACHE") $(q "$PK") ls -k $(q "$P5_KEYNODE") --identity-file $(q "$P5_KEY")" \
        --command-name "pass ls" "PASSWORD_STORE_DIR=$(q "$P5_STORE") pass ls" >&2
    hyperfine_times "$WORK/P5ls.json" 0 >"$WORK/samples/P5.ls"
    hyperfine_times "$WORK/P5ls.json" 1 >"$WORK/samples/P5.passls"
    count="$(p5_pk ls | grep -cx 'team[0-9]*/svc[0-9]/secret[0-9]*')" || true
    [ "$count" = "$P5_SECRETS" ] || { note "P5: WRONG OUTPUT: pk ls lists $count of the $P5_SECRETS secrets"; ok=0; }
    # pass ls draws a coloured tree: count the leaves by name.
    count="$(PASSWORD_STORE_DIR="$P5_STORE" pass ls | grep -c 'secret[0-9]\{6\}')" || true
    [ "$count" = "$P5_SECRETS" ] || { note "P5: WRONG OUTPUT: pass ls lists $count of the $P5_SECRETS secrets"; ok=0; }
    record_budget P5 "ls of $P5_SECRETS names, warm caches" "pass ls" 1 "$ok" ms passls ls
}

# Mount ready: from the mount command's start until the first `ls` of the mountpoint
# shows the tree. pk with its cache as `pk import` left it, alternating with
# gocryptfs (which keeps none); then pk with an empty cache, which is also where its
# memory peaks.
p5_mount_ready() {
    local run ok=1
    note "P5: $P5_MOUNT_RUNS x mount until ls shows the tree, pk and gocryptfs in turn"
    for ((run = 1; run <= P5_MOUNT_RUNS; run++)); do
        p5_ready_run pk "$P5_CACHE" pkmount "" || ok=0
        p5_ready_run gocryptfs "" gcmount gcreadyrss || ok=0
    done
    record_budget P5 "mount ready (mount until ls shows the tree)" "gocryptfs mount" 2 "$ok" s gcmount pkmount
    note "P5: $P5_COLD_RUNS x pk mount with no cache until ls shows the tree"
    for ((run = 1; run <= P5_COLD_RUNS; run++)); do
        rm -rf "$P5_COLD/polykey"
        p5_ready_run pk "$P5_COLD" pkcoldmount pkcoldrss || ok=0
    done
    record_budget P5 "mount ready, no cache" "gocryptfs mount" 2 "$ok" s gcmount pkcoldmount
    record_budget P5 "peak RSS of the mount daemon at ready, no cache" "gocryptfs" 300000000 "$ok" MB gcreadyrss pkcoldrss
}

# p5_ready_run pk|gocryptfs CACHE SAMPLES RSS_SAMPLES: one mount, timed until ready,
# then the daemon's peak memory (to RSS_SAMPLES, unless empty), then unmounted.
p5_ready_run() {
    local who="$1" mnt start pid ok=1
    if [ "$who" = pk ]; then mnt="$P5_DIR/pk-mount"; else mnt="$P5_DIR/gc-plain"; fi
    mkdir -p "$mnt"
    if [ "$who" = pk ]; then
        MOUNTS+=("pk:$mnt")
        start="$EPOCHREALTIME"
        XDG_CACHE_HOME="$2" "$PK" mount "$mnt" -k "$P5_KEYNODE" --identity-file "$P5_KEY" >"$WORK/p5-mount.log" 2>&1 \
            || { cat "$WORK/p5-mount.log" >&2; die "P5: pk mount failed"; }
    else
        MOUNTS+=("fuse:$mnt")
        start="$EPOCHREALTIME"
        gocryptfs -q -extpass 'echo bench-only' "$P5_DIR/gc-cipher" "$mnt" >"$WORK/p5-mount.log" 2>&1 \
            || { cat "$WORK/p5-mount.log" >&2; die "P5: gocryptfs failed to mount"; }
    fi
    p5_wait_tree "$mnt" || { note "P5: WRONG OUTPUT: $who showed no tree within a minute"; ok=0; }
    elapsed_since "$start" >>"$WORK/samples/P5.$3"
    if [ -n "$4" ]; then
        pid="$(p5_daemon "$who" "$mnt")"
        peak_rss "$pid" >>"$WORK/samples/P5.$4"
    fi
    if [ "$who" = pk ]; then quietly "$PK" unmount "$mnt"; else fuse_unmount "$mnt"; fi
    return "$((1 - ok))"
}

# p5_wait_tree MOUNTPOINT: waits until `ls` shows the hundred team directories; fails
# after a minute.
p5_wait_tree() {
    local deadline=$((SECONDS + 60))
    until [ "$(ls "$1" 2>/dev/null | grep -c '^team[0-9][0-9]$')" = 100 ]; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
    done
}

# p5_daemon pk|gocryptfs MOUNTPOINT: the process id serving MOUNTPOINT.
p5_daemon() {
    local exe="$PK"
    [ "$1" = pk ] || exe="$(command -v gocryptfs)"
    daemon_pid "$exe" "$2" || die "P5: found no $1 process serving $2"
}

# On a fresh mount of each, one untimed full read checked against the tree (it also
# fills what each caches), then `ls -lR` and `cat` of every file timed, then the
# daemons' peak memory.
p5_tree_reads() {
    local pk_mnt="$P5_DIR/pk-mount" gc_mnt="$P5_DIR/gc-plain" who mnt count
    local -A ok=([pk]=1 [gocryptfs]=1)
    XDG_CACHE_HOME="$P5_CACHE" mount_pk "$pk_mnt" "$P5_KEYNODE" "$P5_KEY"
    gocryptfs_mount "$P5_DIR/gc-cipher" "$gc_mnt"
    note "P5: checking every file through each mount (not timed)"
    for who in pk gocryptfs; do
        if [ "$who" = pk ]; then mnt="$pk_mnt"; else mnt="$gc_mnt"; fi
        if ! p5_tree_digest "$mnt" | cmp -s - "$P5_DIR/src.digest"; then
            note "P5: WRONG OUTPUT: the files read through $who differ from the tree stored"
            ok[$who]=0
        fi
        count="$(ls -lR "$mnt" | grep -c '^-')" || true
        [ "$count" = "$P5_SECRETS" ] \
            || { note "P5: WRONG OUTPUT: ls -lR through $who shows $count files, not $P5_SECRETS"; ok[$who]=0; }
    done
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
    peak_rss "$(p5_daemon pk "$pk_mnt")" >"$WORK/samples/P5.pkrss"
    peak_rss "$(p5_daemon gocryptfs "$gc_mnt")" >"$WORK/samples/P5.gcrss"
    quietly "$PK" unmount "$pk_mnt"
    fuse_unmount "$gc_mnt"
    local valid="$((ok[pk] & ok[gocryptfs]))"
    record_result P5 "ls -lR of the mount" "gocryptfs" 2 "$valid" s gclslr pklslr
    record_result P5 "cat of every file through the mount" "gocryptfs" 2 "$valid" s gccat pkcat
    record_budget P5 "peak RSS of the mount daemon (ls -lR, cat)" "gocryptfs" 300000000 "$valid" MB gcrss pkrss
}

p5_sizes() {
    # The import made the keynode the rows above read: had it failed, setup would have stopped.
    record_budget P5 "build: pk import of $P5_SECRETS files (one change)" "pass store in bulk (gpg --multifile, git commit, gc)" 60 1 s passbuild import
    du --apparent-size -s -B1 "$P5_KEYNODE" | cut -f1 >"$WORK/samples/P5.pkbytes"
    du --apparent-size -s -B1 "$P5_STORE" | cut -f1 >"$WORK/samples/P5.passbytes"
    du -s -B1 "$P5_KEYNODE" | cut -f1 >"$WORK/samples/P5.pkdisk"
    du -s -B1 "$P5_STORE" | cut -f1 >"$WORK/samples/P5.passdisk"
    P5_STORE_FILES_BYTES="$(du --apparent-size -s -B1 --exclude=.git "$P5_STORE" | cut -f1)"
    record_result P5 "keynode size (du --apparent-size)" "pass store with git" 2 1 MB passbytes pkbytes
    record_result P5 "keynode size on disk (du)" "pass store with git" 2 1 MB passdisk pkdisk
}

notes_p5() {
    echo "- P5: $P5_SECRETS secrets of 64 random bytes in team00..team99/svc0..svc9/secretNNNNNN, the same tree as a keynode (one \`pk import\`), a gocryptfs directory, and a pass store (each file encrypted to the pass key as \`pass insert\` does, then one git commit, packed by \`git gc\`). get: \`pk get\` of $P5_SAMPLE vs \`pass show\` (warm gpg-agent), $WARMUP warm-up + $RUNS runs each; warm: pk's open snapshot and name memo of the keynode exist (left by the warm-up); no cache: pk's cache directory emptied before each of $P5_COLD_RUNS runs, each run's output checked (the peer is the same \`pass show\`: pass keeps no cache). ls: \`pk ls\` (warm) vs \`pass ls\`, $P5_LS_RUNS runs after 1 warm-up; both must list every secret. Mount ready: from the start of \`pk mount\` (key from a file) or \`gocryptfs\` (password through -extpass, then its scrypt) until \`ls\` of the mountpoint shows the 100 team directories; $P5_MOUNT_RUNS mounts each, alternating, pk with its cache as \`pk import\` and the runs before left it; then $P5_COLD_RUNS pk mounts with an empty cache, whose daemon's VmHWM at ready is the first RSS row (gocryptfs: the same at its ready). ls -lR, cat: on a fresh mount of each, after one untimed full read checked against the tree (names and bytes), \`ls -lR M\` and \`find M -type f -exec cat {} +\`, $P5_TREE_RUNS runs each; then the daemon's VmHWM (the second RSS row). Set: \`pk set\` of one 64-byte value into the keynode (warm caches) vs into a new empty keynode, $WARMUP warm-up + $RUNS runs each, after the size rows; each run must have made a version. Build: the one \`pk import\` that made the keynode (signed, encrypted versions, then its name index), once, beside the pass store made in bulk (gpg --multifile on every core, one git commit and gc; \`pass insert\` of each would take hours). Sizes: the keynode vs the pass store with its .git (without .git the store holds $(in_unit "${P5_STORE_FILES_BYTES:-0}" MB) apparent)."
}
