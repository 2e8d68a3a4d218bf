#!/usr/bin/env bash
# Builds the Debian package pk_<version>_amd64.deb with dpkg-deb, into artifacts/.
#   scripts/package.sh                      publish pk (NativeAOT) and package it
#   PK_BINARY=artifacts/pk/pk scripts/package.sh   package a binary built already
# Install with `apt-get install ./artifacts/pk_*.deb`; remove with `apt-get purge pk`.
set -euo pipefail
cd "$(dirname "$0")/.."

binary="${PK_BINARY:-}"
if [ -z "$binary" ]; then
    echo "package.sh: publishing pk (NativeAOT)..." >&2
    dotnet publish src/Polykey.Cli/Polykey.Cli.csproj -c Release -r linux-x64 -o artifacts/pk -nologo -v quiet \
        -p:DebugType=none -p:DebugSymbols=false >&2
    binary=artifacts/pk/pk
fi
[ -x "$binary" ] || { echo "package.sh: $binary is not an executable pk" >&2; exit 1; }

# 1.0.0+<commit> from the binary itself -> the Debian version 1.0.0+git.<short commit>.
informational="$("$binary" --version)"
version="${informational%%+*}"
commit="${informational#*+}"
[ "$commit" != "$informational" ] && version="$version+git.${commit:0:12}"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
root="$stage/pk"

install -D -m 0755 "$binary" "$root/usr/bin/pk"
strip --strip-unneeded "$root/usr/bin/pk" 2>/dev/null || true

doc="$root/usr/share/doc/pk"
install -D -m 0644 packaging/debian/copyright "$doc/copyright"
sed "s/@VERSION@/$version/; s/@DATE@/$(date -R -u -d "@$(git log -1 --format=%ct 2>/dev/null || date +%s)")/" \
    packaging/debian/changelog | gzip -9n > "$doc/changelog.gz" # a native package: no .Debian
chmod 0644 "$doc/changelog.gz"
install -D -m 0644 packaging/debian/lintian-overrides "$root/usr/share/lintian/overrides/pk"

# The manual page and completions come from the binary's own command definitions.
install -d "$root/usr/share/man/man1" "$root/usr/share/bash-completion/completions" \
    "$root/usr/share/zsh/vendor-completions" "$root/usr/share/fish/vendor_completions.d"
"$binary" man | gzip -9n > "$root/usr/share/man/man1/pk.1.gz"
"$binary" completion bash > "$root/usr/share/bash-completion/completions/pk"
"$binary" completion zsh > "$root/usr/share/zsh/vendor-completions/_pk"
"$binary" completion fish > "$root/usr/share/fish/vendor_completions.d/pk.fish"
chmod 0644 "$root/usr/share/man/man1/pk.1.gz" "$root/usr/share/bash-completion/completions/pk" \
    "$root/usr/share/zsh/vendor-completions/_pk" "$root/usr/share/fish/vendor_completions.d/pk.fish"
if [ -d packaging/systemd ]; then
    install -d "$root/usr/lib/systemd/system"
    install -m 0644 packaging/systemd/*.service packaging/systemd/*.timer "$root/usr/lib/systemd/system/" 2>/dev/null || true
fi
if [ -f packaging/mount.pk ]; then
    # mount(8) looks for helpers in /sbin, which is /usr/sbin on a merged /usr; mount.pk runs ../bin/pk.
    install -D -m 0755 packaging/mount.pk "$root/usr/sbin/mount.pk"
    ln -s mount.pk "$root/usr/sbin/mount.fuse.pk"
    install -d "$root/usr/share/man/man8"
    gzip -9n < packaging/mount.pk.8 > "$root/usr/share/man/man8/mount.pk.8.gz"
    chmod 0644 "$root/usr/share/man/man8/mount.pk.8.gz"
    ln -s mount.pk.8.gz "$root/usr/share/man/man8/mount.fuse.pk.8.gz"
fi

install -d "$root/DEBIAN"
installed_kib="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
sed "s/@VERSION@/$version/; s/@INSTALLED_SIZE@/$installed_kib/" packaging/debian/control > "$root/DEBIAN/control"
find "$root" -type d -exec chmod 0755 {} +

mkdir -p artifacts
out="artifacts/pk_${version}_amd64.deb"
rm -f artifacts/pk_*_amd64.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >&2
echo "$out"
