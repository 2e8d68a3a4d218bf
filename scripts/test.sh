#!/usr/bin/env bash
# Runs every test project against the installed NativeAOT pk and real tools (tar, git, gpg,
# vim, ...). Installs what is missing. Ends with one line: "tests: N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

# groff-base and man-db render pk(1); bsdutils' script gives pk a terminal; zsh and fish load
# the completions; lintian checks the Debian package; systemd only for `systemd-analyze verify`
# of the units (nothing here runs it as init).
test_packages=(git gnupg tar vim nano tmux rsync procps attr fuse3 openssh-client openssh-server groff-base man-db bsdutils zsh fish lintian systemd)
if [ "$(id -u)" -eq 0 ] && command -v dpkg-query >/dev/null; then
    missing=()
    for p in "${test_packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "test.sh: installing ${missing[*]}" >&2
        DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi

if ! scripts/install.sh; then
    echo "test.sh: install failed" >&2
    echo "tests: 0 passed, 1 failed"
    exit 1
fi
prefix=$([ "$(id -u)" -eq 0 ] && echo "${PK_PREFIX:-/usr/local}" || echo "${PK_PREFIX:-$HOME/.local}")
export PK_BIN="$prefix/bin/pk"

passed=0; failed=0; skipped=0
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

for project in tests/*/*.csproj; do
    name=$(basename "$project" .csproj)
    echo "test.sh: running $name" >&2
    dotnet test "$project" -nologo --logger "trx;LogFileName=$results/$name.trx" --logger "console;verbosity=normal" 2>&1 \
        | tee "$results/$name.log" | grep -E "^\s*(Failed|Passed|Skipped) |error|Total tests|Passed!|Failed!" >&2
    # Counts come from the TRX summary, so a crashed run that reports nothing counts as a failure.
    if [ -f "$results/$name.trx" ]; then
        counters=$(grep -o '<Counters [^>]*>' "$results/$name.trx" | head -1)
        get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
        total=$(get total); p=$(get passed); f=$(get failed); e=$(get error); ne=$(get notExecuted)
        passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0} + ${e:-0})); skipped=$((skipped + ${ne:-0}))
        # The log goes with the run: show each failure's message and stack here, where CI keeps it.
        if [ "${f:-0}" -gt 0 ]; then
            grep -E -A25 "^\s+Failed " "$results/$name.log" | grep -v "^\s*Passed " >&2
            # CI keeps only the tail of a long log: name each failure again just before the totals.
            grep -E -A3 "^\s+Failed " "$results/$name.log" | grep -v "^\s*Passed " | cut -c1-300 >> "$results/failures"
        fi
        [ "${total:-0}" -gt 0 ] || { echo "test.sh: $name ran no test" >&2; failed=$((failed + 1)); }
    else
        echo "test.sh: $name produced no results (build or host failure)" >&2
        failed=$((failed + 1))
    fi
done

# A test that leaves a FUSE mount behind has failed, whatever it reported.
if command -v findmnt >/dev/null && leftover=$(findmnt -rn -t fuse,fuse.pk -o TARGET 2>/dev/null) && [ -n "$leftover" ]; then
    echo "test.sh: FUSE mounts left behind: $leftover" >&2
    failed=$((failed + 1))
fi

if [ -s "$results/failures" ]; then
    echo "test.sh: failed tests (details above):" >&2
    cat "$results/failures" >&2
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
