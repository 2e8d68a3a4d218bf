#!/usr/bin/env bash
# Installs what pk needs on Debian, builds pk as a NativeAOT binary and puts it on PATH.
# Idempotent and non-interactive; run as root for system packages (CI runs as root).
#   scripts/install.sh            build + install to /usr/local/bin (root) or ~/.local/bin
#   PK_PREFIX=/opt/pk scripts/install.sh   install to /opt/pk/bin
# Beside the binary: $prefix/share/man/man1/pk.1.gz and the bash, zsh and fish completions.
# Beside pk: the mount(8) helper in PREFIX/sbin (mount.pk, mount.fuse.pk), its page mount.pk(8),
# and the systemd units in PREFIX/lib/systemd/system, their ExecStart pointing at PREFIX/bin/pk.
set -euo pipefail
cd "$(dirname "$0")/.."

runtime_packages=(git gnupg tar fuse3 libfuse3-3)
build_packages=(clang zlib1g-dev)

missing_packages() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || printf '%s\n' "$p"
    done
}

install_packages() {
    local missing
    mapfile -t missing < <(missing_packages "$@")
    [ "${#missing[@]}" -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "install.sh: missing Debian packages: ${missing[*]}; install them as root (apt-get install ${missing[*]})" >&2
        return 1
    fi
    echo "install.sh: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

command -v dotnet >/dev/null || { echo "install.sh: the .NET SDK (dotnet) is needed: https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2; exit 1; }
if command -v dpkg-query >/dev/null; then
    install_packages "${runtime_packages[@]}" "${build_packages[@]}"
fi

if [ "$(id -u)" -eq 0 ]; then prefix="${PK_PREFIX:-/usr/local}"; else prefix="${PK_PREFIX:-$HOME/.local}"; fi
out=artifacts/pk
echo "install.sh: publishing pk (NativeAOT)..." >&2
dotnet publish src/Polykey.Cli/Polykey.Cli.csproj -c Release -r linux-x64 -o "$out" -nologo -v quiet \
    -p:DebugType=none -p:DebugSymbols=false >&2
install -d "$prefix/bin"
install -m 0755 "$out/pk" "$prefix/bin/pk"
echo "install.sh: installed $prefix/bin/pk" >&2

# The manual page and completion scripts are printed by the binary just built, from its own
# command definitions, so they describe exactly the commands it has.
generated=$(mktemp -d)
trap 'rm -rf "$generated"' EXIT
"$out/pk" man | gzip -9n > "$generated/pk.1.gz"
"$out/pk" completion bash > "$generated/pk.bash"
"$out/pk" completion zsh > "$generated/_pk"
"$out/pk" completion fish > "$generated/pk.fish"
install -D -m 0644 "$generated/pk.1.gz" "$prefix/share/man/man1/pk.1.gz"
install -D -m 0644 "$generated/pk.bash" "$prefix/share/bash-completion/completions/pk"
install -D -m 0644 "$generated/_pk" "$prefix/share/zsh/site-functions/_pk"
install -D -m 0644 "$generated/pk.fish" "$prefix/share/fish/vendor_completions.d/pk.fish"
echo "install.sh: installed pk(1) and bash, zsh and fish completions under $prefix/share" >&2
# mount.pk finds pk as ../bin/pk from its own directory, so it needs no editing.
install -d "$prefix/sbin"
install -m 0755 packaging/mount.pk "$prefix/sbin/mount.pk"
ln -sfn mount.pk "$prefix/sbin/mount.fuse.pk"
gzip -9n < packaging/mount.pk.8 > "$generated/mount.pk.8.gz"
install -D -m 0644 "$generated/mount.pk.8.gz" "$prefix/share/man/man8/mount.pk.8.gz"
ln -sfn mount.pk.8.gz "$prefix/share/man/man8/mount.fuse.pk.8.gz"
echo "install.sh: installed $prefix/sbin/mount.pk and mount.pk(8); for mount -t pk and fstab, link it where mount(8) looks:" \
    "ln -s $prefix/sbin/mount.pk /sbin/mount.pk && ln -s $prefix/sbin/mount.pk /sbin/mount.fuse.pk" >&2

# The units name /usr/bin/pk, where a package puts it; this install's pk is elsewhere.
units="$prefix/lib/systemd/system"
install -d "$units"
for unit in packaging/systemd/*; do
    sed "s|^ExecStart=/usr/bin/pk |ExecStart=$prefix/bin/pk |" "$unit" > "$out/$(basename "$unit")"
    install -m 0644 "$out/$(basename "$unit")" "$units/$(basename "$unit")"
done
echo "install.sh: installed the systemd units pk-mount@.service, pk-pull@.service and pk-pull@.timer in $units" >&2
case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *) echo "install.sh: add $prefix/bin to PATH" >&2 ;;
esac
