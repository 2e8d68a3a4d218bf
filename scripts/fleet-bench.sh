#!/usr/bin/env bash
# The fleet measurement of docs/sync.md: one rotation reaches N subscriber keynodes through one
# bare git relay (file://), each pulling with its own cache and state (as separate machines
# would), each verifying what it takes. Prints the time from the admin's `pk push` to the
# last subscriber's verified pull, then checks (not timed) that every subscriber reads the new
# value. Set-up (N clones) is not timed.
#
# Usage: scripts/fleet-bench.sh [N]   (default 1000; JOBS=parallel pulls, default: CPUs)
set -euo pipefail
n="${1:-1000}"
jobs="${JOBS:-$(nproc)}"
pk="${PK_BIN:-pk}"
work="$(mktemp -d "${TMPDIR:-/tmp}/pk-fleet.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
export XDG_CACHE_HOME="$work/admin-cache" XDG_STATE_HOME="$work/admin-state"
unset PK_PASSPHRASE PK_PASSPHRASE_FILE PK_IDENTITY_FILE PK_KEYNODE CREDENTIALS_DIRECTORY

admin=(-k "$work/admin.keynode" --identity-file "$work/admin.key")
PK_PASSPHRASE=fleet-only "$pk" init --name admin -k admin.keynode 2>/dev/null
PK_PASSPHRASE=fleet-only "$pk" identity export --secret -o admin.key -k admin.keynode 2>/dev/null
PK_PASSPHRASE=fleet-only "$pk" init --name app -k app.keynode 2>/dev/null
PK_PASSPHRASE=fleet-only "$pk" identity export --secret -o app.key -k app.keynode 2>/dev/null
"$pk" identity export -k app.keynode --identity-file app.key >app.pub 2>/dev/null
printf 'before-rotation' | "$pk" set prod/app/db/password "${admin[@]}"
"$pk" grant app.pub 'prod/app/**' --read "${admin[@]}" 2>/dev/null
git init -q --bare relay.git
relay="file://$work/relay.git"
"$pk" remote add relay "$relay" "${admin[@]}" 2>/dev/null
"$pk" push relay "${admin[@]}" 2>/dev/null

echo "fleet-bench: cloning $n subscribers ($jobs at a time; not timed)" >&2
export pk relay work
seq "$n" | xargs -P "$jobs" -I{} sh -c '
    XDG_CACHE_HOME="$work/s{}/cache" XDG_STATE_HOME="$work/s{}/state" \
        "$pk" clone "$relay" "$work/s{}/app.keynode" --identity-file "$work/app.key" --paths "prod/app/**" >/dev/null 2>&1 \
        || { echo "fleet-bench: clone {} failed" >&2; exit 255; }'

printf 'after-rotation' | "$pk" set prod/app/db/password "${admin[@]}"
start="$(date +%s.%N)"
"$pk" push relay "${admin[@]}" 2>/dev/null
# Each pull checks every commit it takes against the origin's signed rules before it lands.
seq "$n" | xargs -P "$jobs" -I{} sh -c '
    XDG_CACHE_HOME="$work/s{}/cache" XDG_STATE_HOME="$work/s{}/state" \
        "$pk" pull -k "$work/s{}/app.keynode" --identity-file "$work/app.key" >/dev/null 2>&1 \
        || { echo "fleet-bench: subscriber {} could not pull" >&2; exit 255; }'
end="$(date +%s.%N)"
seconds="$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')"
# Then (not timed) every subscriber must hold the new value.
seq "$n" | xargs -P "$jobs" -I{} sh -c '
    [ "$(XDG_CACHE_HOME="$work/s{}/cache" XDG_STATE_HOME="$work/s{}/state" \
        "$pk" get prod/app/db/password -k "$work/s{}/app.keynode" --identity-file "$work/app.key")" = after-rotation ] \
        || { echo "fleet-bench: subscriber {} did not get the rotation" >&2; exit 255; }'
echo "fleet: $n subscribers, $jobs pulls at a time: push to last verified pull $seconds s (target < 60 s)"
