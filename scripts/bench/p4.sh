# shellcheck shell=bash
# P4: P4_FILES new 1 KiB files (create, write, close) in one process; in pk each close
# returns after a durable, signed version. Peers: the same files in gocryptfs (no
# versions, no fsync; a fresh directory per run), and `pass insert` with git in a shell
# loop, of which only PASS_BATCHES x PASS_BATCH inserts are timed (1,000 take minutes).

NEEDED_TOOLS+=(gocryptfs fusermount3)
P4_FILES=1000    # files per run; --quick keeps it and runs fewer rounds
if [ "$QUICK" = 1 ]; then P4_WARMUP=0 P4_RUNS=3; else P4_WARMUP=1 P4_RUNS=5; fi
# pass inserts take ~0.1 s each: time PASS_BATCHES x PASS_BATCH and scale to P4_FILES.
PASS_BATCHES=5
if [ "$QUICK" = 1 ]; then PASS_BATCH=10; else PASS_BATCH=40; fi
P4_KEYNODE=''    # the empty keynode, copied afresh for each run, and its key file
P4_KEY=''
# The same writes into a keynode already holding P4_BIG_SECRETS (PERFORMANCE.md: within
# 1.2x of the empty one). Its caches, as `pk import` left them, are kept for every run.
if [ "$QUICK" = 1 ]; then P4_BIG_SECRETS=10000; else P4_BIG_SECRETS=100000; fi
P4_BIG=''
P4_BIG_CACHE=''

# Each run writes into a fresh copy of the same empty keynode: pk's cost per save
# grows with the secrets already in the keynode, so runs into one keynode would each
# measure something else (and the median would depend on the run count).
setup_p4() {
    setup_loop_timer
    setup_gocryptfs
    P4_KEYNODE="$WORK/p4.keynode"
    P4_KEY="$WORK/p4.key"
    new_keynode "$P4_KEYNODE" "$P4_KEY" bench-p4
    P4_BIG="$WORK/p4-big.keynode"
    P4_BIG_CACHE="$WORK/p4-big-cache"
    note "P4: making a keynode of $P4_BIG_SECRETS secrets to write into as well (not timed)"
    make_secret_tree "$WORK/p4-big-src" "$P4_BIG_SECRETS"
    cp "$P4_KEYNODE" "$P4_BIG"
    XDG_CACHE_HOME="$P4_BIG_CACHE" quietly pk_on "$P4_BIG" "$P4_KEY" import "$WORK/p4-big-src"
    rm -rf "$WORK/p4-big-src"
}

bench_p4() {
    local -A ok=([pk]=1 [big]=1 [gocryptfs]=1 [gcsync]=1 [pass]=1)
    local run samples batch
    note "P4: $P4_WARMUP warm-up + $P4_RUNS runs of $P4_FILES new files on each of pk, gocryptfs, gocryptfs with fsync ($LOOP_KIND)"
    for ((run = 1; run <= P4_WARMUP + P4_RUNS; run++)); do
        samples=''
        [ "$run" -le "$P4_WARMUP" ] || samples="$WORK/samples/P4"
        p4_pk_run "$run" "${samples:+$samples.pk}" "$P4_KEYNODE" 0 || ok[pk]=0
        XDG_CACHE_HOME="$P4_BIG_CACHE" p4_pk_run "$run" "${samples:+$samples.big}" "$P4_BIG" "$P4_BIG_SECRETS" || ok[big]=0
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
    # PERFORMANCE.md: at least 50x faster than pass, within 1.1x of gocryptfs with an fsync
    # per file (the same durability as pk's close). gocryptfs without fsync is context.
    record_result P4 "write $P4_FILES files of 1 KiB, each durable" \
        "pass insert (git), $((PASS_BATCHES * PASS_BATCH)) timed, scaled to $P4_FILES" 0.02 \
        "$((ok[pk] & ok[pass]))" "s/$P4_FILES files" pass
    record_result P4 "write $P4_FILES files of 1 KiB, each durable" \
        "gocryptfs + fsync per file (durable, not versioned)" 1.1 "$((ok[pk] & ok[gcsync]))" "s/$P4_FILES files" gcsync
    record_shown P4 "write $P4_FILES files of 1 KiB, each durable" \
        "gocryptfs without fsync (neither durable nor versioned)" "$((ok[pk] & ok[gocryptfs]))" "s/$P4_FILES files" gocryptfs
    # The same writes into the big keynode, against pk's own into the empty one.
    record_result P4 "write $P4_FILES files of 1 KiB into a keynode of $P4_BIG_SECRETS" \
        "pk, the same into an empty keynode" 1.2 "$((ok[pk] & ok[big]))" "s/$P4_FILES files" pk big
}

# p4_pk_run RUN SAMPLES KEYNODE HELD: one pk run on a fresh copy of KEYNODE (which holds
# HELD secrets), mounted for this run only; checks it and unmounts it.
p4_pk_run() {
    local run="$1" samples="$2" keynode="$WORK/p4-r$1.keynode" mountpoint="$WORK/p4-mount-r$1" bad=0
    cp "$3" "$keynode"
    mount_pk "$mountpoint" "$keynode" "$P4_KEY"
    mkdir -p "$mountpoint/bench/p4"
    time_loop P4 "$samples" 1 write "$mountpoint/bench/p4" "$P4_FILES" || bad=1
    check_p4_pk "$keynode" "$mountpoint" "$4" || bad=1
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

# check_p4_pk KEYNODE MOUNTPOINT HELD: every file written must be a secret holding the
# value, as one version, in the keynode itself (read by a separate pk process, not
# through the mount) and in the mount, beside the HELD secrets it had.
check_p4_pk() {
    local keynode="$1" mountpoint="$2" held="$3" bad=0 sample count
    sample="bench/p4/f$(printf '%05d' $((P4_FILES / 2)))"
    count="$(pk_on "$keynode" "$P4_KEY" ls | grep -c .)" || true
    [ "$count" = "$((P4_FILES + held))" ] \
        || { note "P4: WRONG OUTPUT: pk ls lists $count secrets, not $P4_FILES + $held"; bad=1; }
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

notes_p4() {
    echo "- P4: $P4_FILES new 1 KiB files (create, write, close) in a fresh directory, in one process, timed by $LOOP_KIND; median over $P4_RUNS runs after $P4_WARMUP warm-up. Each pk run writes into a fresh copy of an empty keynode, mounted for that run, and then into a fresh copy of a keynode of $P4_BIG_SECRETS secrets of 64 bytes (made by one \`pk import\`, its caches kept as the import left them), the last row comparing the two; each close returns after a durable, signed version (checked after each run: \`pk ls\` lists the $P4_FILES secrets, a sample has one version and reads back right through \`pk get\` and the mount). gocryptfs writes the same files into a fresh directory per run, without versions or fsync, and again with an fsync per file (the same durability as pk: the design's target; the row without fsync is shown for context). pass: \`pass insert -m\` with git, one process per secret as pass is used; $PASS_BATCHES batches of $PASS_BATCH inserts timed ($((PASS_BATCHES * PASS_BATCH)) in all) and scaled to $P4_FILES, median over the batches: $P4_FILES inserts would take minutes."
}
