using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core;

/// <summary>Writing: every change is one atomic, durable append of signed versions.</summary>
public sealed partial class Keynode
{
    /// <summary>Writes a new version; returns its number (counted along the history: see <see cref="Write"/>).</summary>
    public int Set(string path, ReadOnlySpan<byte> value)
    {
        Write(path, value);
        return CurrentVersionNumber(path);
    }

    /// <summary>
    /// Writes a new version without numbering it. A number is counted by walking the history
    /// back to its first version, so a write that reports it costs what the secret's history
    /// holds; this one costs what it writes.
    /// </summary>
    public void Write(string path, ReadOnlySpan<byte> value)
    {
        byte[] copy = value.ToArray();
        try
        {
            Commit([new SecretEdit.Set(path, copy)]);
        }
        finally
        {
            Array.Clear(copy);
        }
    }

    /// <summary>The number of a live secret's current version (1 for its first).</summary>
    public int CurrentVersionNumber(string path)
    {
        lock (_gate) return VersionNumber(Live(path).Tip);
    }

    public int Restore(string path, int version)
    {
        RequireNameable(path);
        byte[] old;
        lock (_gate)
        {
            (string _, SecretBytes value, VersionKind kind) = ReadVersion(VersionCommit(Known(path), path, version));
            using (value)
            {
                if (kind != VersionKind.Value) throw PolykeyException.NotFound($"version {version} of {path} is a removal; there is nothing to restore");
                old = value.Span.ToArray();
            }
        }
        try
        {
            return Set(path, old);
        }
        finally
        {
            Array.Clear(old);
        }
    }

    public void Remove(string path) => Commit([new SecretEdit.Remove(path)]);

    /// <summary>Renames a secret; its history moves with it.</summary>
    public void Move(string source, string destination) => Commit([new SecretEdit.Move(source, destination)]);

    /// <summary>
    /// Writes several edits as one change: all land or none. Each edit resolves its path against
    /// the keynode as it was before the batch, so a batch may name each path only once.
    /// </summary>
    public void Commit(IReadOnlyList<SecretEdit> edits, IProgress<Sync.TransferProgress>? progress = null)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string path in edits.SelectMany(Paths))
        {
            if (!path.StartsWith("polykey:", StringComparison.Ordinal)) RequireNameable(path);
            if (!seen.Add(path)) throw new ArgumentException($"a batch names {path} twice", nameof(edits));
        }
        // A name being made must follow every rule, even where an existing name need not.
        foreach (string path in edits.Select(NewName).OfType<string>()) SecretPath.Validate(path);

        SecretIdentity signer = Unlock();
        if (!signer.CanSign)
            throw PolykeyException.Denied($"the credential for {Path} is read-only; it cannot change secrets");
        if (OwnerRevoked && signer.Public.Fingerprint == Owner.Fingerprint)
            throw PolykeyException.Denied($"the owner key of {Path} was revoked as compromised: nothing it signs from now on is accepted",
                "make a new keynode (pk init) and copy the secrets into it");
        lock (_gate)
        {
            using (LockForWriting())
            {
                ReadNewChanges();
                DateTimeOffset now = DateTimeOffset.UtcNow;
                var members = new List<PendingMember>();
                try
                {
                    if (edits.Count >= ParallelBatch) members.AddRange(MembersInParallel(edits, signer, now, progress));
                    else
                        for (int i = 0; i < edits.Count; i++)
                        {
                            // Encrypting and signing is the slow part of a large batch: say how far it got.
                            if (i % 256 == 0) progress?.Report(new Sync.TransferProgress("encrypting", i, edits.Count));
                            members.AddRange(Members(edits[i], signer, now));
                        }
                    progress?.Report(new Sync.TransferProgress("writing", edits.Count, edits.Count));
                }
                finally
                {
                    _pendingAccess = null;
                }
                if (members.Count == 0) return;
                try
                {
                    // Versions of another keynode's histories are checked against its rules on every open: not remembered.
                    if (signer.Public.Fingerprint == Owner.Fingerprint) _validator?.TrustSignedByOwner(_ownVersions.Keys.Where(k => !_ownForeign.Contains(k)).ToList());
                    _validator?.Trust(_ownVersions.Keys);
                    Change written = _file.WriteChange(_state.End, _state.WriteAt, PackedChange.Of(members, _state), now);
                    // Bytes we just built and made durable need no hashing on the way back in,
                    // and the commits and trees the check of the new tips reads need no inflating.
                    _checkedUpTo = new ScanPoint(written.End, written.Sequence, written.RecordHash);
                    _justBuilt = new();
                    foreach (var (id, type, content) in members.Select(m => m.Built).OfType<(ObjectId, ObjectType, byte[])>()) _justBuilt.TryAdd(id, (type, content));
                    ReadNewChanges();
                    // What we just wrote is known without decrypting: note it before _ownVersions is cleared.
                    if (_index is null && Memo() is not null) MovedIndex();
                    else Index();
                    RememberScanPoint();
                }
                finally
                {
                    _ownVersions.Clear();
                    _ownForeign.Clear();
                    _justBuilt = null;
                }
            }
        }
    }

    private string? NewName(SecretEdit edit) => edit switch
    {
        SecretEdit.Move m => m.Destination,
        SecretEdit.MakeDirectory d => d.Path,
        SecretEdit.Set s when Lookup(s.Path) is null => s.Path,
        _ => null,
    };

    private static IEnumerable<string> Paths(SecretEdit edit) => edit switch
    {
        SecretEdit.Move m => [m.Source, m.Destination],
        SecretEdit.Set s => [s.Path],
        SecretEdit.Remove r => [r.Path],
        SecretEdit.Resolve r => [r.Path],
        SecretEdit.MakeDirectory d => [d.Path],
        SecretEdit.RemoveDirectory d => [d.Path],
        SecretEdit.SetAccess => [Polykey.Core.Access.AccessList.MessageName],
        SecretEdit.StampAsOf => [AsOfName],
        SecretEdit.StatePruned => [PrunedName],
        SecretEdit.SetRules r => [Polykey.Core.Access.AccessList.RulesMessageName + ":" + r.Grantee.Fingerprint],
        _ => throw new ArgumentOutOfRangeException(nameof(edit)),
    };

    private List<PendingMember> Members(SecretEdit edit, SecretIdentity signer, DateTimeOffset now)
    {
        switch (edit)
        {
            case SecretEdit.Set set:
                return Built(PlanSet(set, signer), set.Value, signer, now);
            case SecretEdit.Remove remove:
            {
                IndexEntry entry = Live(remove.Path);
                return Version(entry.Id, OriginOfHistory(entry.Id), entry.Tip, remove.Path, [], VersionKind.Removed, signer, now);
            }
            case SecretEdit.Move move:
            {
                IndexEntry entry = Live(move.Source);
                if (LookupLive(move.Destination) is not null)
                    throw PolykeyException.Conflict($"{move.Destination} already exists", $"remove it first with 'pk rm {move.Destination}', or choose another name");
                (string _, SecretBytes value, VersionKind _) = ReadVersion(entry.Tip);
                using (value) return Version(entry.Id, OriginOfHistory(entry.Id), entry.Tip, move.Destination, value.Span, VersionKind.Value, signer, now);
            }
            case SecretEdit.Resolve resolve:
            {
                IndexEntry entry = Lookup(resolve.Path) ?? throw Missing(resolve.Path);
                ObjectId other = OpenConflict(entry.Id)
                    ?? throw PolykeyException.NotFound($"{resolve.Path} has no conflict to settle", "'pk pull' reports conflicts; 'pk ls --conflicts' lists them");
                (string name, SecretBytes value, VersionKind kind) = ReadVersion(resolve.Theirs ? other : entry.Tip);
                using (value)
                    return Version(entry.Id, OriginOfHistory(entry.Id), entry.Tip, name, value.Span, kind, signer, now, merged: other);
            }
            case SecretEdit.MakeDirectory mkdir:
                if (Index().FindDirectory(mkdir.Path) is not null) return [];
                return Version(VersionBuilder.NewSecretId(), NewHistoryOrigin(mkdir.Path), null, mkdir.Path, [], VersionKind.Directory, signer, now);
            case SecretEdit.RemoveDirectory rmdir:
            {
                IndexEntry entry = Index().FindDirectory(rmdir.Path) ?? throw PolykeyException.NotFound($"no directory record {rmdir.Path}");
                return Version(entry.Id, OriginOfHistory(entry.Id), entry.Tip, rmdir.Path, [], VersionKind.DirectoryRemoved, signer, now);
            }
            case SecretEdit.SetAccess access:
            {
                _pendingAccess = access.List;
                ObjectId? tip = _accessHistory is null ? null : _accepted[_accessHistory];
                return Version(Id, Id, tip, Polykey.Core.Access.AccessList.MessageName, access.List.Serialize(), VersionKind.AccessList, signer, now, [Owner]);
            }
            case SecretEdit.StampAsOf:
            {
                string id = AsOfHistoryId(Id);
                ObjectId? tip = _accepted.TryGetValue(id, out ObjectId t) ? t : null;
                return Version(id, Id, tip, AsOfName, [], VersionKind.AsOf, signer, now, [Owner]);
            }
            case SecretEdit.StatePruned pruned:
            {
                string id = PrunedHistoryId(Id);
                ObjectId? tip = _accepted.TryGetValue(id, out ObjectId t) ? t : null;
                return Version(id, Id, tip, PrunedName, pruned.Statement.Serialize(), VersionKind.Pruned, signer, now, StatementReaders());
            }
            case SecretEdit.SetRules rules:
            {
                string id = RulesHistoryId(Id, rules.Grantee.Fingerprint);
                ObjectId? tip = _accepted.TryGetValue(id, out ObjectId t) ? t : null;
                return Version(id, Id, tip, Polykey.Core.Access.AccessList.RulesMessageName, rules.View.Serialize(), VersionKind.Rules, signer, now, [Owner, rules.Grantee]);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(edit));
        }
    }

    private List<PendingMember> Version(string id, string origin, ObjectId? parent, string path, ReadOnlySpan<byte> value, VersionKind kind,
        SecretIdentity signer, DateTimeOffset now, IEnumerable<Identity>? readers = null, ObjectId? merged = null)
    {
        return Built(PlanVersion(id, origin, parent, path, kind, signer, readers, merged), value, signer, now);
    }

    private List<PendingMember> Built(VersionPlan plan, ReadOnlySpan<byte> value, SecretIdentity signer, DateTimeOffset now)
    {
        (ObjectId tip, List<PendingMember> members) = plan.Build(value, signer, now);
        NoteOwnVersion(plan, tip, value.Length);
        return members;
    }

    /// <summary>A new value's version: a new history when the name is new, else the next version of the one it names.</summary>
    private VersionPlan PlanSet(SecretEdit.Set set, SecretIdentity signer)
    {
        IndexEntry? entry = Lookup(set.Path);
        string origin = entry is null ? NewHistoryOrigin(set.Path) : OriginOfHistory(entry.Id);
        return PlanVersion(entry?.Id ?? VersionBuilder.NewSecretId(), origin, entry?.Tip, set.Path, VersionKind.Value, signer);
    }

    /// <summary>What a version needs from the keynode, decided before it is encrypted and signed (which needs nothing of it).</summary>
    private VersionPlan PlanVersion(string id, string origin, ObjectId? parent, string path, VersionKind kind,
        SecretIdentity signer, IEnumerable<Identity>? readers = null, ObjectId? merged = null)
    {
        if (readers is null) RequireWriter(origin, path, signer, kind);
        long sequence = Math.Max(parent is { } p ? SequenceOf(p) : 0, merged is { } m ? SequenceOf(m) : 0) + 1;
        return new VersionPlan(id, origin, parent, sequence, path, kind, (readers ?? Readers(path, origin)).ToList(), merged);
    }

    // We signed it and know what it holds: reading it back need not verify or decrypt it again.
    private void NoteOwnVersion(VersionPlan plan, ObjectId tip, long size)
    {
        _ownVersions[tip] = (plan.Path, size, plan.Kind);
        if (plan.Origin != Id) _ownForeign.Add(tip);
    }
}
