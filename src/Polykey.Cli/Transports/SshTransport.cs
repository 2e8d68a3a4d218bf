using Polykey.Core;
using Polykey.Core.Sync;

namespace Polykey.Cli.Transports;

/// <summary>A keynode on another host, reached through the system ssh client with pk serving it on the far side. Not built yet.</summary>
internal static class SshTransport
{
    public static bool Handles(string url) =>
        url.StartsWith("ssh://", StringComparison.Ordinal)
        || (!url.Contains("://", StringComparison.Ordinal) && url.IndexOf(':') is > 0 and var colon && (url.IndexOf('/') is var slash && (slash < 0 || colon < slash)));

    public static IHistoryTarget Open(string url) =>
        throw PolykeyException.Failed($"{url}: the ssh transport is not built yet; only keynode paths can be reached today",
            "copy the keynode file, or reach it over a mounted filesystem (NFS, sshfs)");
}
