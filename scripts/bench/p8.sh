# shellcheck shell=bash
# P8: opening a keynode after P8_CHANGES appended changes (each a durable version written
# through the mount) vs the same keynode after `pk gc`: whole-process `pk get`, each file
# with a cache directory of its own. Two rows: as a user meets it (the reader's open
# snapshot is there: an open reads what changed since its last one), and with no open
# snapshot (nor scan point, name memo or delta; verified signatures kept), where an open
# reads every change.

NEEDED_TOOLS+=(fusermount3 python3)
if [ "$QUICK" = 1 ]; then P8_CHANGES=2000; else P8_CHANGES=10000; fi
P8_DIR=''

setup_p8() {
    P8_DIR="$WORK/p8"
    mkdir -p "$P8_DIR/cache-appended" "$P8_DIR/cache-compacted"
    new_keynode "$P8_DIR/appended.keynode" "$P8_DIR/owner.key" bench-p8
    note "P8: writing $P8_CHANGES versions through the mount"
    mount_pk "$P8_DIR/mnt" "$P8_DIR/appended.keynode" "$P8_DIR/owner.key"
    python3 - "$P8_DIR/mnt" "$P8_CHANGES" <<'EOF'
import sys
mount, changes = sys.argv[1], int(sys.argv[2])
for i in range(changes):
    with open(f"{mount}/s{i % 500:03d}", "w") as f:
        f.write(f"value {i}")
EOF
    quietly "$PK" unmount "$P8_DIR/mnt"
    cp "$P8_DIR/appended.keynode" "$P8_DIR/compacted.keynode"
    quietly env XDG_CACHE_HOME="$P8_DIR/cache-compacted" "$PK" gc -k "$P8_DIR/compacted.keynode" --identity-file "$P8_DIR/owner.key"
}

# p8_get WHICH: the timed command, on appended or compacted, with that file's own caches.
p8_get() {
    printf 'env XDG_CACHE_HOME=%s %s get s042 -k %s --identity-file %s' "$(q "$P8_DIR/cache-$1")" "$(q "$PK")" \
        "$(q "$P8_DIR/$1.keynode")" "$(q "$P8_DIR/owner.key")"
}

bench_p8() {
    local valid=1 which forget=''
    local expected="value $((P8_CHANGES - 500 + 42))"
    for which in appended compacted; do
        [ "$(eval "$(p8_get "$which")")" = "$expected" ] || { note "P8: WRONG OUTPUT: s042 on the $which keynode"; valid=0; }
    done
    [ "$(stat -c %s "$P8_DIR/compacted.keynode")" -lt "$(stat -c %s "$P8_DIR/appended.keynode")" ] \
        || { note "P8: WRONG OUTPUT: pk gc did not make the keynode smaller"; valid=0; }
    run_pair P8 "$(p8_get appended)" "after pk gc" "$(p8_get compacted)"
    record_result P8 "open after $P8_CHANGES appended changes" "same after pk gc" 1.2 "$valid"

    note "P8c: the same, with no open snapshot"
    for which in appended compacted; do
        forget+="rm -f $(q "$P8_DIR/cache-$which")/polykey/*.open $(q "$P8_DIR/cache-$which")/polykey/*.names"
        forget+=" $(q "$P8_DIR/cache-$which")/polykey/*.delta $(q "$P8_DIR/cache-$which")/polykey/*.scan;"
    done
    hyperfine --warmup 1 --runs "$((RUNS < 20 ? RUNS : 20))" --style basic --export-json "$WORK/P8c.json" \
        --prepare "sh -c $(q "$forget")" --command-name pk "$(p8_get appended)" \
        --prepare "sh -c $(q "$forget")" --command-name "after pk gc" "$(p8_get compacted)" >&2
    hyperfine_times "$WORK/P8c.json" 0 >"$WORK/samples/P8c.pk"
    hyperfine_times "$WORK/P8c.json" 1 >"$WORK/samples/P8c.peer"
    record_result P8c "open after $P8_CHANGES appended changes, no open snapshot" "same after pk gc" 1.2 "$valid"
}

notes_p8() {
    echo "- P8: whole-process \`pk get\` on a keynode after $P8_CHANGES versions written through the mount (each its own change, 500 secrets), vs a copy of it after \`pk gc\`, each with a cache directory of its own: with the reader's open snapshot ($WARMUP warm-up + $RUNS runs), and (P8c) with the open snapshot, name memo, delta and scan point removed before each run (verified signatures kept), so that the open reads every change."
}
