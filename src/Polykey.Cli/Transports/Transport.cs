using Polykey.Core.Sync;

namespace Polykey.Cli.Transports;

/// <summary>
/// Picks the transport a location names: ssh (ssh://host/path, host:path) to a keynode served
/// by pk on the far side, any git URL (ending in .git, git://, http(s)://, file://) as a
/// ciphertext-only relay, or else a keynode file's path.
/// </summary>
internal static class Transport
{
    /// <summary>
    /// Opens a location. <paramref name="local"/> is the keynode that would push there: an empty
    /// git relay becomes its relay (a mirror of it) with the first push.
    /// </summary>
    public static IHistoryTarget Open(string url, Core.Keynode? local = null)
    {
        // A relay names the keynode's first owner, as every remote and reader pins it (a rotation does not change it).
        if (GitRelayTransport.Handles(url)) return GitRelayTransport.Open(url, local is null ? null : new RelayIdentity(local.Id, local.FirstOwner));
        if (SshTransport.Handles(url)) return SshTransport.Open(url);
        if (Directory.Exists(url)) throw Core.PolykeyException.Failed($"{url} is a directory, not a keynode file");
        return KeynodeArchive.Open(url, Session.CacheDirectory);
    }

    /// <summary>
    /// Opens a location to pull from (or clone). <paramref name="expected"/> is the keynode and
    /// owner the puller pinned for it, when it did.
    /// </summary>
    public static IHistoryTarget OpenForPull(string url, RelayIdentity? expected)
    {
        if (GitRelayTransport.Handles(url)) return GitRelayTransport.OpenForPull(url, expected);
        return Open(url);
    }

    /// <summary>Whether a location is a local path (stored absolute, so it works from any directory).</summary>
    public static bool IsPath(string url) => !GitRelayTransport.Handles(url) && !SshTransport.Handles(url);
}
