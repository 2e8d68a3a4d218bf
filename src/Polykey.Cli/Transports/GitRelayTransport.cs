using Polykey.Core.Sync;

namespace Polykey.Cli.Transports;

/// <summary>Any git server as a ciphertext-only relay, through the real git client (docs/git-relay.md).</summary>
internal static class GitRelayTransport
{
    public static bool Handles(string url) =>
        url.EndsWith(".git", StringComparison.Ordinal) || url.EndsWith(".git/", StringComparison.Ordinal)
        || url.StartsWith("git://", StringComparison.Ordinal) || url.StartsWith("http://", StringComparison.Ordinal)
        || url.StartsWith("https://", StringComparison.Ordinal) || url.StartsWith("file://", StringComparison.Ordinal);

    /// <summary>
    /// Opens the relay at <paramref name="url"/>. An empty repository becomes the relay of
    /// <paramref name="claim"/> (the local keynode) with its first push; without a claim it is an error.
    /// </summary>
    public static IHistoryTarget Open(string url, RelayIdentity? claim) => GitRelay.Open(url, claim);

    /// <summary>
    /// Opens the relay at <paramref name="url"/> to pull from: a bare repository on this machine is
    /// read in place, any other through its cache. <paramref name="expected"/> is the identity the
    /// puller pinned, if any (it spares reading the relay's).
    /// </summary>
    public static IHistoryTarget OpenForPull(string url, RelayIdentity? expected) =>
        LocalGitRepository.Locate(url) is { } gitDir ? InPlaceGitRelay.Open(gitDir, url, expected) : GitRelay.Open(url, claim: null, expected);
}
