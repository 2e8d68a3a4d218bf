using Polykey.Core.Crypto;
using Polykey.Core.Storage;

namespace Polykey.Core;

/// <summary>
/// The name index kept in the keynode (docs/keynode-format.md §8.5): the owner's open snapshot
/// and name memo, written as a change of their own and signed by the owner, so that a reader
/// with no caches (a new machine, a wiped cache) opens in the time of what changed since the
/// index, not of every history. Written by bulk operations (import, gc), which already cost the
/// keynode's size; readers without it, or with a key other than the owner's, or meeting one
/// that does not check out, take the slow path and reach the same state.
/// </summary>
public sealed partial class Keynode
{
    /// <summary>Below this many histories a cold open is fast enough that an index would only take room.</summary>
    public const int NameIndexMinimumHistories = 256;

    /// <summary>
    /// Appends a signed name index when this keynode can have one: written by its first owner,
    /// whose key never moved (a rotated or revoked owner's keynode opens cold by the slow path),
    /// of at least <paramref name="minimumHistories"/> histories, with nothing damaged,
    /// refused or unaccounted for. Costs about the keynode's size in names and tips (some 240
    /// bytes a history). False when none was written.
    /// </summary>
    public bool WriteNameIndex(int minimumHistories = NameIndexMinimumHistories)
    {
        SecretIdentity signer = Unlock();
        if (!signer.CanSign) return false;
        lock (_gate)
        {
            using (LockForWriting())
            {
                ReadNewChanges();
                if (!IndexableNow(signer, minimumHistories)) return false;
                byte[]? snapshot = OpenSnapshot.Encode(Id, _state.FormatVersion, _state.End, _state.OwnerPublicKey!.Value, _state.OwnerSealedKey,
                    _accessHistory, _accepted, _conflicts, _state.Objects, verifiedLength: 0);
                byte[]? memo = snapshot is null ? null : NameMemo.Build(Id, _state.End, signer, Index().Known);
                if (snapshot is null || memo is null) return false;
                byte[] data = NameIndexMember.Build(Id, snapshot, memo, payload => CommitSignature.Sign(payload, signer));
                Change written = _file.WriteChange(_state.End, _state.WriteAt, [new PendingMember(NameIndexMember.MemberName, data)], DateTimeOffset.UtcNow);
                _checkedUpTo = new ScanPoint(written.End, written.Sequence, written.RecordHash);
                ReadNewChanges();
                RememberScanPoint();
                return true;
            }
        }
    }

    /// <summary>Whether the owner's key is at hand without asking for a passphrase: unlocked already, an identity file, or kept by pk unlock.</summary>
    public bool OwnerKeyAtHand => _identity is not null || _credential switch
    {
        Credential.KeyFile keyFile => keyFile.Identity.CanSign && keyFile.Identity.Public.Fingerprint == Owner.Fingerprint,
        Credential.Passphrase passphrase => passphrase.UnlockedKey(Id, Owner.Fingerprint) is { CanSign: true } unlocked && unlocked.Public.Fingerprint == Owner.Fingerprint,
        _ => false,
    };

    private bool IndexableNow(SecretIdentity signer, int minimumHistories) =>
        signer.Public.Fingerprint == FirstOwner.Fingerprint && !OwnerChainIds(Id, FirstOwner.Fingerprint).Any(_accepted.ContainsKey)
        && _accepted.Count >= minimumHistories
        && !_refusedSomething && Warnings.Count == _cacheWarnings && _state.Unaccounted.Count == 0 && _unchecked.Count == 0
        // The index's change must follow the one it names, end to end: a reader finds it walking back from record to record.
        && _state.WriteAt == _state.End.Offset && _state.End.Layout is not null;

    // The histories whose tip means the first owner key moved (its owner history, its revocation):
    // the index is signed by that key, whose word stops counting once either exists.
    private static string[] OwnerChainIds(string keynodeId, string firstOwner) =>
        [OwnerHistoryId(keynodeId), RevocationHistoryId(keynodeId, firstOwner)];

    /// <summary>
    /// For a reader with no snapshot: takes the newest name index of the file as its snapshot and
    /// memo (written into its cache, then resumed from as from its own), when the first owner
    /// signed it and it names the change record before it. Anything else leaves the slow path.
    /// </summary>
    private bool TryAdoptNameIndex(string keynodeId, out long verifiedFrom)
    {
        verifiedFrom = 0;
        if (_cacheDirectory is null) return false;
        // A reader that saw the owner key move must see the chain again: the index cannot show it.
        ReaderPins pins = ReaderPins.For(_stateDirectory, keynodeId);
        if (pins.CurrentOwner is not null || pins.RevokedKeys.Count > 0) return false;
        byte[] data;
        (TarMember Member, ScanPoint Before) found;
        TarMember? ownerKey;
        using (_file.LockShared())
        {
            if (NameIndexLocator.FindLast(_file.Handle) is not { } located) return false;
            found = located;
            ownerKey = NameIndexLocator.FirstOwnerKey(_file.Handle);
            if (found.Member.Size > NameIndexMember.MaxBytes || ownerKey is null) return false;
            data = _file.ReadData(found.Member);
        }
        string where = $"the name index at byte {found.Member.DataOffset - TarHeader.BlockSize} of {Path}";
        if (NameIndexMember.TryParse(data, keynodeId) is not { } parsed)
            return IndexRefused($"{where} is malformed");
        // An index whose snapshot another version of pk wrote is not damage: this reader cannot take it, and reads the file.
        if (!OpenSnapshot.IsThisVersion(parsed.Index.Snapshot.Span)) return false;
        Identity owner;
        try
        {
            owner = Identity.Load(ownerKey.Value.Inline!, $"the owner key of {Path}");
        }
        catch (PolykeyException)
        {
            return false;
        }
        if (!CommitSignature.Verify(parsed.Index.SignedPayload(parsed.SignedBody.Span).ToArray(), parsed.Index.Signature, owner))
            return IndexRefused($"{where} is not signed by the keynode's owner");

        string snapshotPath = OpenSnapshot.PathFor(_cacheDirectory, keynodeId);
        if (!PrivateFile.TryReplace(snapshotPath, parsed.Index.Snapshot.Span)) return false;
        OpenSnapshot? snapshot = OpenSnapshot.Load(snapshotPath, keynodeId, out _);
        string? problem = snapshot is null ? "holds no snapshot a reader can take"
            : !SamePoint(snapshot.End, found.Before) ? "does not name the change before it"
            : snapshot.OwnerPublicKey.DataOffset != ownerKey.Value.DataOffset || !snapshot.OwnerPublicKey.Inline!.AsSpan().SequenceEqual(ownerKey.Value.Inline)
                ? "names another owner key than the file's"
            : OwnerChainIds(keynodeId, owner.Fingerprint).Any(id => snapshot.Accepted.TryGet(id, out _)) ? "stands where the owner key has moved"
            : null;
        if (problem is not null)
        {
            snapshot?.Dispose();
            TryDelete(snapshotPath);
            return IndexRefused($"{where} {problem}");
        }
        string memoPath = NameMemo.PathFor(_cacheDirectory, keynodeId);
        // The memo is sealed under the owner's key: another reader's would not open (its own is made as it reads).
        if (!ReadsWithKeyOf(owner) || !NameMemo.IsThisVersion(parsed.Index.Memo.Span) || !PrivateFile.TryReplace(memoPath, parsed.Index.Memo.Span))
            TryDelete(memoPath);
        SnapshotDelta.Remove(SnapshotDelta.PathFor(_cacheDirectory, keynodeId));
        return OpenedFromNameIndex = ResumeFrom(keynodeId, snapshot!, out verifiedFrom);
    }

    /// <summary>Whether this open took its state from the file's name index (for tests and `pk verify`'s report).</summary>
    internal bool OpenedFromNameIndex { get; private set; }

    /// <summary>
    /// For `pk verify`: opens the file as a reader without caches would (in a cache directory of
    /// its own, removed after) and, when that reader takes the name index, compares everything it
    /// lists with what this handle, which read the whole file, lists. An index it refuses, or one
    /// that shows other names, tips or sizes, is a problem. True when an index was taken and agreed.
    /// </summary>
    private bool CheckNameIndex(List<string> problems)
    {
        bool found;
        using (_file.LockShared()) found = NameIndexLocator.FindLast(_file.Handle) is not null;
        // The key this handle unlocked to read every version: the second reader asks for no passphrase again.
        if (!found || _identity is null) return false;
        string cache = Directory.CreateTempSubdirectory("pk-verify-index-").FullName;
        try
        {
            using Keynode cold = Open(Path, new Credential.KeyFile(_identity, "the key pk verify unlocked"), cache, _stateDirectory);
            problems.AddRange(cold.Warnings.Where(w => w.StartsWith("the name index", StringComparison.Ordinal)));
            if (!cold.OpenedFromNameIndex) return false;
            string Listing(Keynode keynode) => string.Join("\n", keynode.List().Select(s => $"{s.Path} {s.Size} {s.Tip}").Concat(keynode.ListDirectories()));
            if (Listing(cold) == Listing(this)) return true;
            problems.Add($"the name index in {Path} shows other names than its histories: a reader without caches would see them (run 'pk gc' to write a new one)");
            return false;
        }
        catch (PolykeyException e)
        {
            problems.Add($"a reader without caches cannot open {Path} from its name index: {e.Message}");
            return false;
        }
        finally
        {
            try { Directory.Delete(cache, recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    private bool IndexRefused(string problem)
    {
        CacheWarning($"{problem}; names were read from the histories instead");
        return false;
    }

    private static bool SamePoint(ScanPoint a, ScanPoint b) =>
        a.Offset == b.Offset && a.Sequence == b.Sequence && a.RecordHash.AsSpan().SequenceEqual(b.RecordHash);

    private bool ReadsWithKeyOf(Identity owner) => _credential switch
    {
        Credential.Passphrase => true,
        Credential.KeyFile keyFile => keyFile.Identity.Public.Fingerprint == owner.Fingerprint,
        _ => false,
    };

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
