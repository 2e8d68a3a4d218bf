# shellcheck shell=bash
# P3: open/read/close of one 1 KiB file, P3_OPS times in one process, through the pk
# mount (writable and --read-only) vs a plain tmpfs (the physical limit) and gocryptfs.

NEEDED_TOOLS+=(gocryptfs fusermount3)
P3_OPS=10000     # open/read/close per round; --quick keeps it and runs fewer rounds
if [ "$QUICK" = 1 ]; then P3_WARMUP=1 P3_RUNS=3; else P3_WARMUP=2 P3_RUNS=11; fi
PK_MNT=''        # where P3 mounts the bench keynode
PK_RO_MNT=''     # and where it mounts it again with --read-only

# The same 1 KiB in each file system, written through it, as a user would.
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

# Rounds interleave the file systems, so that a burst of load on this shared machine
# hits all of them alike; warm-up rounds fill the caches.
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
    record_result P3 "$P3_OPS x open/read/close 1 KiB" "tmpfs" 1.2 \
        "$((ok[pk] & ok[tmpfs]))" "µs/op" tmpfs
    record_result P3 "$P3_OPS x open/read/close 1 KiB" "gocryptfs" 0.05 \
        "$((ok[pk] & ok[gocryptfs]))" "µs/op" gocryptfs
    record_result P3 "$P3_OPS x open/read/close 1 KiB, read-only mount" "tmpfs" 1.2 \
        "$((ok[pkro] & ok[tmpfs]))" "µs/op" tmpfs pkro
    record_result P3 "$P3_OPS x open/read/close 1 KiB, read-only mount" "gocryptfs" 0.05 \
        "$((ok[pkro] & ok[gocryptfs]))" "µs/op" gocryptfs pkro
}

notes_p3() {
    echo "- P3: $P3_OPS x open/read/close of the same 1 KiB file in one process, timed by $LOOP_KIND; every read is checked against the value. Per round the four file systems run one after another (the pk mount, the same keynode mounted \`--read-only\`, tmpfs under /dev/shm, gocryptfs); median of µs per open/read/close over $P3_RUNS rounds, after $P3_WARMUP warm-up."
}
