using Polykey.Core;
using Polykey.Core.Access;
using Polykey.Core.Sync;
using Polykey.Cli.Transports;

namespace Polykey.Cli;

/// <summary>
/// Where a push or pull goes: a named remote of the keynode, or a location given directly
/// (see <see cref="Transport"/> for the kinds of location).
/// </summary>
internal static class RemoteLocation
{
    /// <summary>The remote a command names, or the keynode's only remote (or "origin") when it names none.</summary>
    public static (Remote? Remote, string Url) Resolve(Keynode keynode, string? nameOrUrl)
    {
        AccessList access = keynode.Access;
        if (nameOrUrl is null)
        {
            Remote only = access.Remotes.Count == 1 ? access.Remotes[0]
                : access.RemoteNamed("origin") ?? throw PolykeyException.Usage(
                    access.Remotes.Count == 0 ? $"{keynode.Path} has no remote" : "name the remote: this keynode has several",
                    access.Remotes.Count == 0 ? "add one with 'pk remote add NAME URL'" : "see 'pk remote ls'");
            return (only, only.Url);
        }
        if (RemoteName.IsValid(nameOrUrl) && access.RemoteNamed(nameOrUrl) is { } named) return (named, named.Url);
        return (null, Normalise(nameOrUrl));
    }

    /// <summary>A location as messages show it: a password or token in a URL's user part is masked.</summary>
    public static string Shown(string url) => GitProcess.Redact(url);

    /// <summary>Locations are stored as given, except that a path becomes absolute (it must work from any directory).</summary>
    public static string Normalise(string url) => Transport.IsPath(url) ? Path.GetFullPath(url) : url;

    /// <summary>
    /// Opens the keynode at a location, checking it is the one a named remote pinned: the same
    /// keynode id, and the owner this keynode trusts for it. <paramref name="forPull"/>: only
    /// read from it (a pull or clone), which a git relay on this machine serves in place.
    /// </summary>
    public static IHistoryTarget Open(Keynode? keynode, Remote? remote, string url, bool forPull = false)
    {
        // Only a keynode reaching its own mirror (or naming a new location) may make an empty git relay its own.
        bool mayClaim = keynode is not null && (remote is null || remote.KeynodeId == keynode.Id);
        IHistoryTarget archive = forPull ? Transport.OpenForPull(url, Pinned(keynode, remote)) : Transport.Open(url, mayClaim ? keynode : null);
        try
        {
            if (remote is not null && archive.KeynodeId != remote.KeynodeId)
                throw PolykeyException.Denied($"{Shown(url)} now holds keynode {archive.KeynodeId}, not keynode {remote.KeynodeId} that remote {remote.Name} names",
                    $"if the remote moved, remove it and add it again: pk remote rm {remote.Name}");
            if (keynode is not null && archive.KeynodeId == keynode.Id && archive.Owner.Fingerprint != keynode.FirstOwner.Fingerprint)
                throw PolykeyException.Denied(
                    $"{Shown(url)} claims to hold this keynode ({keynode.Id}) but names owner {archive.Owner.Fingerprint}, not {keynode.FirstOwner.Fingerprint}",
                    "someone forged the relay's identity; nothing was transferred");
            if (keynode?.Access.OriginOf(archive.KeynodeId) is { } trusted && trusted.Owner.Fingerprint != archive.Owner.Fingerprint)
                throw PolykeyException.Denied(
                    $"the owner of keynode {archive.KeynodeId} at {Shown(url)} changed: it names {archive.Owner.Fingerprint}, this keynode pinned {trusted.Owner.Fingerprint}",
                    "someone replaced the remote keynode, or its owner made a new one; nothing was transferred");
            return archive;
        }
        catch
        {
            archive.Dispose();
            throw;
        }
    }

    // The keynode and owner a named remote stands for, as this keynode trusts them.
    private static RelayIdentity? Pinned(Keynode? keynode, Remote? remote)
    {
        if (keynode is null || remote is null) return null;
        if (keynode.Access.OriginOf(remote.KeynodeId) is { } origin) return new RelayIdentity(remote.KeynodeId, origin.Owner);
        // A mirror names the first owner, as Transport.Open writes it (a rotation does not change it).
        return remote.KeynodeId == keynode.Id ? new RelayIdentity(keynode.Id, keynode.FirstOwner) : null;
    }
}
