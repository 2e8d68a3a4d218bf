# shellcheck shell=bash
# P6: pull of P6_SECRETS changed secrets into an empty subscriber (each object checked,
# every signature verified, one change) vs `git fetch` of the same objects from the
# publisher's keynode extracted as a repository; then (P6b) a pull of one changed
# secret into the full subscriber, against the 100 ms budget of PERFORMANCE.md.

P6_SECRETS=10000 # secrets the publisher shares; --quick keeps it and runs fewer pulls
if [ "$QUICK" = 1 ]; then P6_RUNS=3; else P6_RUNS=5; fi

# A publisher keynode with P6_SECRETS secrets (one change, `pk import`) shared
# read-only with a subscriber that trusts it; the subscriber before its first pull,
# after it, and the publisher with one secret changed since.
setup_p6() {
    local dir="$WORK/p6" i
    mkdir -p "$dir/src"
    for ((i = 1; i <= P6_SECRETS; i++)); do printf 'value-%s' "$i" >"$dir/src/s$i"; done
    for who in pub sub; do new_keynode "$dir/$who.keynode" "$dir/$who.key" "$who"; done
    pk_on "$dir/sub.keynode" "$dir/sub.key" identity export >"$dir/sub.pub" 2>/dev/null
    quietly pk_on "$dir/pub.keynode" "$dir/pub.key" import "$dir/src" --prefix prod
    quietly pk_on "$dir/pub.keynode" "$dir/pub.key" grant "$dir/sub.pub" 'prod/**' --read
    quietly pk_on "$dir/sub.keynode" "$dir/sub.key" remote add pub "$dir/pub.keynode"
    cp "$dir/sub.keynode" "$dir/sub-empty.keynode"
    # git's side: the publisher's keynode is a git repository once extracted.
    mkdir "$dir/pub-repo"
    tar -xf "$dir/pub.keynode" -C "$dir/pub-repo"
}

bench_p6() {
    local dir="$WORK/p6" valid=1
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

notes_p6() {
    echo "- P6: whole-process \`pk pull\` of $P6_SECRETS secrets (each with two versions: before and after the read grant) into a fresh copy of an empty subscriber, $P6_RUNS runs, vs \`git fetch\` of the same refs and objects from the publisher's keynode extracted with tar into a fresh bare repository. P6b: \`pk pull\` of one changed secret into a fresh copy of the full subscriber ($RUNS runs), against the 100 ms budget of PERFORMANCE.md (shown as the peer)."
}
