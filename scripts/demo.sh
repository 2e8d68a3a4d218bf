#!/usr/bin/env bash
# The main job, on a throw-away keynode: install pk if missing, keep a few versioned
# secrets, show them, then prove they are plain tar + git + OpenPGP underneath.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v pk >/dev/null; then
    scripts/install.sh
    export PATH="/usr/local/bin:$HOME/.local/bin:$PATH"
fi

work=$(mktemp -d)
cleanup() {
    if [ -n "${mounted:-}" ]; then pk unmount "$work/mnt" 2>/dev/null || fusermount3 -u -z "$work/mnt" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
export PK_KEYNODE="$work/demo.keynode"
printf 'demo passphrase\n' > "$work/passphrase"
export PK_PASSPHRASE_FILE="$work/passphrase"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
step pk init --name demo-admin
printf 'hunter2' | pk set prod/db/password
printf 'sk_live_123' | pk set prod/api/key
printf 'correct horse' | pk set prod/db/password
step pk ls -l
step pk get prod/db/password; echo
step pk log prod/db/password
step pk get prod/db/password --version 1; echo
step pk env --prefix prod/

if [ -e /dev/fuse ] && command -v fusermount3 >/dev/null; then
    echo; echo "Mounted, the secrets are plain files; every save is a signed version."
    mkdir "$work/mnt"
    step pk mount "$work/mnt"
    mounted=1
    step ls -lR "$work/mnt"
    step cat "$work/mnt/prod/api/key"; echo
    step sed -i 's/sk_live_123/sk_live_456/' "$work/mnt/prod/api/key"
    step pk get prod/api/key; echo
    step pk log prod/api/key
    step pk unmount "$work/mnt"
    mounted=
fi

echo; echo "The keynode is one file: a tar of a git repository whose blobs are OpenPGP messages."
mkdir "$work/repo"
step tar -xf "$PK_KEYNODE" -C "$work/repo"
step git --git-dir="$work/repo" for-each-ref refs/secrets
if grep -q -e hunter2 -e prod/db "$PK_KEYNODE"; then echo "demo: a plain-text secret was found in the file!" >&2; exit 1; fi
echo; echo "grep finds no secret name or value in $(basename "$PK_KEYNODE"). Done."
