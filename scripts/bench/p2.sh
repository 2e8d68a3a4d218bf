# shellcheck shell=bash
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

notes_p2() {
    echo "- P2: whole-process wall time of \`pk set\` (a durable, signed version) vs \`pass insert\` (a git commit), same counts as P1; each run must have made one version."
}
