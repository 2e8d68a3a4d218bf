# shellcheck shell=bash
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

notes_p1() {
    echo "- P1: whole-process wall time of \`pk get\` vs \`pass show\` (hyperfine, $WARMUP warm-up + $RUNS runs each); pk reads its key from a file, pass has a warm gpg-agent."
}
