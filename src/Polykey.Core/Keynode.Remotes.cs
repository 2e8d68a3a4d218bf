using Polykey.Core.Access;
using Polykey.Core.Crypto;

namespace Polykey.Core;

/// <summary>Remotes: named places to reach other keynodes, whose owners this one pins and trusts for given paths.</summary>
public sealed partial class Keynode
{
    /// <summary>
    /// Names a remote and trusts the keynode found there (its owner pinned; only for
    /// <paramref name="paths"/> when any are given). A keynode already trusted under another
    /// owner is refused: an owner does not change silently.
    /// </summary>
    public void AddRemote(Remote remote, Identity owner, IReadOnlyList<string> paths)
    {
        foreach (string pattern in paths) _ = new PathPattern(pattern);
        RemoteName.Validate(remote.Name);
        RequireOwnerSigner("change the remotes of");
        lock (_gate)
        {
            if (remote.KeynodeId == Id) throw PolykeyException.Usage($"{remote.Url} is this keynode itself ({Id})");
            AccessList current = CurrentAccess();
            if (current.RemoteNamed(remote.Name) is not null)
                throw PolykeyException.Conflict($"a remote named {remote.Name} exists already", $"remove it first: pk remote rm {remote.Name}");
            if (current.OriginOf(remote.KeynodeId) is { } known && known.Owner.Fingerprint != owner.Fingerprint)
                throw PolykeyException.Denied(
                    $"keynode {remote.KeynodeId} at {remote.Url} now names owner {owner.Fingerprint}, but this keynode trusts owner {known.Owner.Fingerprint} for it",
                    "if its owner really changed, ask them why before trusting the new key");
            CommitWithAccess(current.WithRemote(remote, owner, paths), []);
        }
    }

    /// <summary>
    /// Names a place that holds a copy of this keynode itself, owned by its owner (a git relay it
    /// pushes to): a remote to push to and pull from, not another keynode to trust.
    /// </summary>
    public void AddMirror(Remote remote, Identity owner)
    {
        RemoteName.Validate(remote.Name);
        RequireOwnerSigner("change the remotes of");
        lock (_gate)
        {
            if (remote.KeynodeId != Id || owner.Fingerprint != FirstOwner.Fingerprint)
                throw PolykeyException.Denied($"{remote.Url} holds keynode {remote.KeynodeId} owned by {owner.Fingerprint}, not this keynode",
                    "a mirror holds this keynode itself; add another keynode with its own remote");
            AccessList current = CurrentAccess();
            if (current.RemoteNamed(remote.Name) is not null)
                throw PolykeyException.Conflict($"a remote named {remote.Name} exists already", $"remove it first: pk remote rm {remote.Name}");
            CommitWithAccess(current.WithMirror(remote), []);
        }
    }

    /// <summary>Forgets a remote's name and place; histories already taken from its keynode stay trusted.</summary>
    public void RemoveRemote(string name)
    {
        RequireOwnerSigner("change the remotes of");
        lock (_gate)
        {
            AccessList current = CurrentAccess();
            if (current.RemoteNamed(name) is null) throw PolykeyException.NotFound($"no remote named {name}", "list them with 'pk remote ls'");
            CommitWithAccess(current.WithoutRemote(name), []);
        }
    }
}
