# shellcheck shell=bash
# P7: start-up. `pk --help`, whole process, against the 20 ms budget of PERFORMANCE.md,
# with `pass --help` beside it (the published Polykey CLI takes ~500 ms; it is not
# installed here). `pk get` start-up is P1.

bench_p7() {
    local valid=1
    "$PK" --help 2>/dev/null | grep -q '^  get ' \
        || { note "P7: WRONG OUTPUT: pk --help does not list the get command"; valid=0; }
    run_pair P7 "$(q "$PK") --help" "pass" "pass --help"
    record_budget P7 "start-up: pk --help" "pass --help" 0.020 "$valid" ms
}

notes_p7() {
    echo "- P7: whole-process wall time of \`pk --help\` (hyperfine, $WARMUP warm-up + $RUNS runs), against the 20 ms budget of PERFORMANCE.md; \`pass --help\` is shown beside it (the published Polykey CLI, ~500 ms, is not installed here). \`pk get\`'s start-up is in P1."
}
