using Polykey.Core.Access;
using Polykey.Core.Crypto;
using Polykey.Core.Git;

namespace Polykey.Core;

/// <summary>The access list: who besides the owner may read or write which secrets.</summary>
public sealed partial class Keynode
{
    private readonly Dictionary<ObjectId, AccessList> _accessByTip = new();
    private AccessList? _pendingAccess;
    private string? _accessHistory;

    /// <summary>The access list as of the last accepted change (empty when none was ever written).</summary>
    public AccessList Access
    {
        get
        {
            lock (_gate) return CurrentAccess();
        }
    }

    private AccessList CurrentAccess()
    {
        if (_accessHistory is null) return AccessList.Empty;
        ObjectId tip = _accepted[_accessHistory];
        if (_accessByTip.TryGetValue(tip, out AccessList? known)) return known;
        (string _, SecretBytes value, VersionKind _) = ReadVersion(tip);
        using (value) return _accessByTip[tip] = AccessList.Parse(value.Span);
    }

    private VersionKind? KindOfCommit(ObjectId id)
    {
        if (_kinds.TryGetValue(id, out VersionKind? known)) return known;
        // A version this handle just built: its kind is known without reading it back.
        if (_ownVersions.TryGetValue(id, out var own)) return own.Kind;
        return _kinds[id] = VersionBuilder.KindOf(Tree.Decode(ReadObject(ReadCommit(id).Tree, ObjectType.Tree)), out _);
    }

    /// <summary>
    /// Names an identity: a fingerprint or label the access list knows, the owner's, or the
    /// path of an exported key file.
    /// </summary>
    public Identity ResolveIdentity(string name)
    {
        lock (_gate)
        {
            IEnumerable<Identity> known = CurrentAccess().Known.Prepend(Owner);
            Identity? match = known.FirstOrDefault(i => string.Equals(i.Fingerprint, name.Replace(" ", ""), StringComparison.OrdinalIgnoreCase))
                ?? known.FirstOrDefault(i => i.Label == name);
            if (match is not null) return match;
        }
        if (File.Exists(name)) return Identity.Load(File.ReadAllBytes(name), $"key file {name}");
        throw PolykeyException.NotFound($"no identity named {name} in {Path}",
            "name an identity by fingerprint or label from 'pk access', or by an exported key file (pk identity export)");
    }

    /// <summary>Grants read and/or write on patterns; returns the secrets re-encrypted so the grantee can read them.</summary>
    public IReadOnlyList<string> Grant(Identity who, bool read, bool write, IReadOnlyList<string> patterns, IProgress<Sync.TransferProgress>? progress = null)
    {
        PathPattern[] compiled = patterns.Select(p => new PathPattern(p)).ToArray();
        if (who.Fingerprint == Owner.Fingerprint) throw PolykeyException.Usage("the owner may already read and write everything");
        RequireOwnerSigner("grant");
        lock (_gate)
        {
            AccessList updated = CurrentAccess().WithGrant(who, read ? patterns : [], write ? patterns : []);
            List<string> paths = read ? Index().Live.Select(e => e.Path).Where(p => compiled.Any(pattern => pattern.Matches(p))).ToList() : [];
            CommitWithAccess(updated, paths, progress);
            return paths;
        }
    }

    /// <summary>
    /// Withdraws patterns (or every right, when none are named). Secrets the identity could
    /// read get a new version encrypted without its key; returns them (they must be rotated:
    /// a copy it already took cannot be unseen).
    /// </summary>
    public IReadOnlyList<string> Revoke(Identity who, IReadOnlyList<string> patterns, IProgress<Sync.TransferProgress>? progress = null)
    {
        RequireOwnerSigner("revoke");
        lock (_gate)
        {
            AccessList before = CurrentAccess();
            Grant grant = before.GrantOf(who.Fingerprint) ?? throw PolykeyException.NotFound($"{who.Label} ({who.Fingerprint}) holds no grant in {Path}");
            AccessList updated = before.WithoutGrant(who, patterns.ToHashSet(), DateTimeOffset.UtcNow);
            Grant? after = updated.GrantOf(who.Fingerprint);
            List<string> paths = Index().Live.Select(e => e.Path).Where(p => grant.CanRead(p) && !(after?.CanRead(p) ?? false)).ToList();
            CommitWithAccess(updated, paths, progress);
            return paths;
        }
    }

    // One change: the new access list, each grantee's view of it, then a re-encrypted version of each path under it.
    private void CommitWithAccess(AccessList updated, IReadOnlyList<string> reencrypt, IProgress<Sync.TransferProgress>? progress = null)
    {
        var edits = new List<SecretEdit> { new SecretEdit.SetAccess(updated) };
        AccessList before = CurrentAccess();
        foreach (Grant grant in updated.Grants)
        {
            AccessList view = updated.ViewFor(grant);
            if (before.GrantOf(grant.Identity.Fingerprint) is { } old && before.ViewFor(old).Serialize().AsSpan().SequenceEqual(view.Serialize())) continue;
            edits.Add(new SecretEdit.SetRules(grant.Identity, view));
        }
        // Whoever lost every right is told so (an empty view), so its pk stops writing what would be refused.
        foreach (Grant gone in before.Grants.Where(g => updated.GrantOf(g.Identity.Fingerprint) is null))
            edits.Add(new SecretEdit.SetRules(gone.Identity, new AccessList([], []) { For = gone.Identity.Fingerprint }));
        var values = new List<byte[]>();
        try
        {
            for (int i = 0; i < reencrypt.Count; i++)
            {
                if (i % 256 == 0) progress?.Report(new Sync.TransferProgress("decrypting", i, reencrypt.Count));
                string path = reencrypt[i];
                using SecretBytes value = Get(path);
                byte[] copy = value.Span.ToArray();
                values.Add(copy);
                edits.Add(new SecretEdit.Set(path, copy));
            }
            Commit(edits, progress);
        }
        finally
        {
            foreach (byte[] value in values) Array.Clear(value);
        }
    }

    /// <summary>For each revoked identity, the secrets (and version numbers) whose messages were encrypted to its key.</summary>
    public IReadOnlyList<(Identity Identity, string Path, IReadOnlyList<int> Versions)> RotateNeeded()
    {
        lock (_gate)
        {
            var result = new List<(Identity, string, IReadOnlyList<int>)>();
            foreach (Revocation revocation in CurrentAccess().Revocations)
            {
                foreach (IndexEntry entry in Index().Live.OrderBy(e => e.Path, StringComparer.Ordinal))
                {
                    List<(ObjectId Id, Commit Commit)> history = History(entry.Tip);
                    var versions = new List<int>();
                    for (int i = history.Count - 1, number = 1; i >= 0; i--, number++)
                    {
                        IReadOnlyDictionary<string, ObjectId> tree = Tree.Decode(ReadObject(history[i].Commit.Tree, ObjectType.Tree));
                        if (VersionBuilder.KindOf(tree, out ObjectId blob) is not VersionKind.Value) continue;
                        // A pruned value is gone: which keys it was encrypted to went with it (run this before pruning).
                        if (!HoldsObject(blob) && IsPruned(history[i].Id, history[i].Commit)) continue;
                        if (SecretMessage.RecipientKeyIds(ReadObject(blob, ObjectType.Blob)).Contains(revocation.Identity.EncryptionKeyId)) versions.Add(number);
                    }
                    if (versions.Count > 0) result.Add((revocation.Identity, entry.Path, versions));
                }
            }
            return result;
        }
    }

    private void RequireOwnerSigner(string what)
    {
        SecretIdentity signer = Unlock();
        if (!signer.CanSign || signer.Public.Fingerprint != Owner.Fingerprint)
            throw PolykeyException.Denied($"only the owner's signing key may {what} access to {Path}", "use the owner's passphrase or full key file, not a read-only credential");
    }
}
