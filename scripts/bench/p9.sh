# shellcheck shell=bash
# P9: `pk get` of a keynode sealed by a passphrase, after `pk unlock` (the owner key
# comes from the kernel keyring: no passphrase read, no key derivation), whole process,
# vs `pass show` with a warm gpg-agent: the two ways to skip typing a passphrase.

P9_KEYNODE=''

# A small keynode of its own: its owner key is sealed by a passphrase, with no key
# file anywhere, so the unlocked key is the only way to it without the passphrase.
setup_p9() {
    local dir="$WORK/p9"
    mkdir -m 700 "$dir"
    P9_KEYNODE="$dir/p9.keynode"
    printf 'bench-only' >"$dir/passphrase"
    quietly "$PK" init --name bench-p9 -k "$P9_KEYNODE" --passphrase-file "$dir/passphrase"
    quietly "$PK" set bench/p9 -k "$P9_KEYNODE" --passphrase-file "$dir/passphrase" <"$WORK/value"
    UNLOCKED+=("$P9_KEYNODE")
    quietly "$PK" unlock -k "$P9_KEYNODE" --passphrase-file "$dir/passphrase" --for 10m
    rm "$dir/passphrase"
}

bench_p9() {
    local valid=1
    check_output P9 "pk get after pk unlock" "$PK" get bench/p9 -k "$P9_KEYNODE" || valid=0
    check_output P9 "pass show" pass show bench/p1 || valid=0
    # stdin from /dev/null: were the key not unlocked, pk would fail for want of a
    # terminal to ask on rather than wait for a passphrase.
    run_pair P9 "$(q "$PK") get bench/p9 -k $(q "$P9_KEYNODE") </dev/null" "pass" "pass show bench/p1"
    # The time above must be that of the unlocked key: once locked, the same command
    # has no way to the owner key.
    quietly "$PK" lock -k "$P9_KEYNODE"
    if "$PK" get bench/p9 -k "$P9_KEYNODE" </dev/null >/dev/null 2>&1; then
        note "P9: WRONG OUTPUT: pk get still read the secret after pk lock: the timed runs did not need the unlocked key"
        valid=0
    fi
    record_result P9 "get 1 KiB, passphrase keynode after pk unlock" "pass show" 0.5 "$valid"
}

notes_p9() {
    echo "- P9: whole-process wall time of \`pk get\` with no credential option or variable, on a keynode whose owner key is sealed by a passphrase, after \`pk unlock --for 10m\` (the key is read from the kernel keyring), vs \`pass show\` with a warm gpg-agent, $WARMUP warm-up + $RUNS runs each; after the runs \`pk lock\` must leave the same command unable to read the secret."
}
