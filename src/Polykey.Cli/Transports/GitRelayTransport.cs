using Polykey.Core;
using Polykey.Core.Sync;

namespace Polykey.Cli.Transports;

/// <summary>Any git server as a ciphertext-only relay, through the real git client. Not built yet.</summary>
internal static class GitRelayTransport
{
    public static bool Handles(string url) =>
        url.EndsWith(".git", StringComparison.Ordinal) || url.EndsWith(".git/", StringComparison.Ordinal)
        || url.StartsWith("git://", StringComparison.Ordinal) || url.StartsWith("http://", StringComparison.Ordinal)
        || url.StartsWith("https://", StringComparison.Ordinal) || url.StartsWith("file://", StringComparison.Ordinal);

    public static IHistoryTarget Open(string url) =>
        throw PolykeyException.Failed($"{url}: the git relay transport is not built yet; only keynode paths and ssh can be reached today",
            "copy the keynode file, or reach it over a mounted filesystem (NFS, sshfs)");
}
