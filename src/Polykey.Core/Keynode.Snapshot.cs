using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core;

/// <summary>
/// Opening at the cost of what changed: a reader resumes from its open snapshot (the state it
/// accepted at a change end, docs/keynode-format.md §8) and finds names in its name memo (what
/// it decrypted then), reading and decrypting only what was appended since. Both are caches: a
/// reader without them (or `pk verify`, which uses none) reads the whole file and gets the same
/// answer.
/// </summary>
public sealed partial class Keynode
{
    // A snapshot (and memo) is written again once this many histories moved since the last one, or
    // this many bytes were appended: an open then reads and decrypts at most that much.
    private const int MovesPerSnapshot = 32;
    private const long BytesPerSnapshot = 4L << 20;

    private OpenSnapshot? _snapshot;
    private long _snapshotEnd = -1;
    private NameMemo? _memo;
    private bool _memoTried;
    // What the histories moved since the snapshot say, while the whole index is not built.
    private SecretIndex? _movedIndex;
    private int _movedAtSave;
    private bool _memoMissing;
    // Warnings about damaged caches: they do not keep a snapshot from being written (it replaces them).
    private int _cacheWarnings;

    private void CacheWarning(string warning)
    {
        if (Warnings.Contains(warning)) return;
        Warnings.Add(warning);
        _cacheWarnings++;
    }

    /// <summary>Takes the state this reader's snapshot recorded, if it still describes the start of this file.</summary>
    private bool TryResume(string keynodeId, out long verifiedFrom)
    {
        verifiedFrom = 0;
        if (_cacheDirectory is null) return false;
        string path = OpenSnapshot.PathFor(_cacheDirectory, keynodeId);
        OpenSnapshot? loaded = OpenSnapshot.Load(path, keynodeId, out bool damaged);
        if (damaged) CacheWarning($"the open snapshot {path} is damaged; {Path} was read from its start instead (the snapshot is written again)");
        if (loaded is not { } snapshot) return false;
        // The record there names the whole chain before it (each record hashes its predecessor):
        // the same record means the same file up to there, appended to since at most.
        if (!_file.EndsWithRecord(snapshot.End))
        {
            snapshot.Dispose();
            return false;
        }
        _snapshot = snapshot;
        _state = KeynodeState.Resume(keynodeId, snapshot.FormatVersion, snapshot.OwnerPublicKey, snapshot.OwnerSealedKey, snapshot.End, snapshot.Objects);
        _accepted = new TipMap(snapshot.Accepted);
        _conflicts = new Dictionary<string, ObjectId>(snapshot.Conflicts, StringComparer.Ordinal);
        _accessHistory = snapshot.AccessHistory;
        _snapshotEnd = snapshot.End.Offset;
        verifiedFrom = snapshot.VerifiedLength;
        return true;
    }

    /// <summary>The memo of names as of the snapshot, when this reader has one.</summary>
    private NameMemo? Memo()
    {
        if (_memoTried) return _memo;
        _memoTried = true;
        if (_cacheDirectory is null || _snapshot is null) return null;
        string path = NameMemo.PathFor(_cacheDirectory, Id);
        _memo = NameMemo.Open(path, Id, _snapshot.End, Unlock(), out bool damaged);
        if (damaged) CacheWarning($"the name memo {path} is damaged; names were decrypted from {Path} instead (the memo is written again)");
        // Without its memo, the snapshot is written again (with one) the next time this handle may.
        _memoMissing = _memo is null;
        return _memo;
    }

    /// <summary>Builds the whole name index: from the memo for histories unmoved since the snapshot, by decrypting the rest.</summary>
    private SecretIndex BuildIndex()
    {
        var index = new SecretIndex();
        List<(string Id, ObjectId Tip, IndexEntry? Entry)>? known = Memo()?.All();
        if (_memo is not null && known is null)
        {
            CacheWarning($"the name memo for {Path} is damaged; names were decrypted from the keynode instead (the memo is written again)");
            _memoMissing = true;
        }
        if (known is not null)
        {
            foreach ((string id, ObjectId tip, IndexEntry? entry) in known)
            {
                // The memo was written with the snapshot, from the tips it holds: only moves since can differ.
                if (id == _accessHistory || _accepted.HasMoved(id)) continue;
                if (entry is null) index.SetUnreadable(id, tip);
                else index.Set(entry);
            }
            // The memo holds every history of the snapshot: only those moved since are left.
            foreach ((string id, ObjectId? tip) in _accepted.Moved)
                if (tip is { } t && id != _accessHistory && !index.Holds(id, t)) IndexHistory(index, id);
        }
        else
        {
            foreach ((string id, ObjectId tip) in _accepted)
                if (id != _accessHistory && !index.Holds(id, tip)) IndexHistory(index, id);
        }
        _movedIndex = null;
        return index;
    }

    /// <summary>
    /// The secret history that owns a name, as <see cref="SecretIndex.Find"/> would say, without
    /// building the whole index when the memo can answer: the memo's candidates that did not move
    /// since the snapshot, and the histories that did.
    /// </summary>
    private IndexEntry? Lookup(string path)
    {
        if (_index is not null || Memo() is not { } memo) return Index().Find(path);
        if (memo.Named(path) is not { } named)
        {
            CacheWarning($"the name memo for {Path} is damaged; names were decrypted from the keynode instead (the memo is written again)");
            _memoMissing = true;
            _memo = null;
            return Index().Find(path);
        }
        var candidates = new SecretIndex();
        foreach (IndexEntry entry in named)
            if (entry.Id != _accessHistory && !_accepted.HasMoved(entry.Id))
                candidates.Set(entry);
        foreach (IndexEntry moved in MovedIndex().Named(path)) candidates.Set(moved);
        return candidates.Find(path);
    }

    private IndexEntry? LookupLive(string path) => Lookup(path) is { Removed: false } e ? e : null;

    private SecretIndex MovedIndex()
    {
        if (_movedIndex is not null) return _movedIndex;
        var moved = new SecretIndex();
        foreach ((string id, ObjectId? tip) in _accepted.Moved)
            if (tip is not null && id != _accessHistory) IndexHistory(moved, id);
        return _movedIndex = moved;
    }

    /// <summary>Writes a snapshot and memo of what this handle accepted when enough changed since the last, and only of a clean state.</summary>
    private void SaveSnapshotIfDue()
    {
        if (_cacheDirectory is null || !_loaded || _identity is null || Warnings.Count > _cacheWarnings || _refusedSomething
            || _state.Unaccounted.Count > 0 || _unchecked.Count > 0 || _incoming is not null)
            return;
        bool due = _snapshotEnd < 0 || _memoMissing || _accepted.MovedSinceRecorded - _movedAtSave >= MovesPerSnapshot || _state.End.Offset - _snapshotEnd >= BytesPerSnapshot;
        if (!due || _state.End.Offset == _snapshotEnd && !_memoMissing || !_file.EndsWithRecord(_state.End)) return;
        SecretIndex index = Index();
        bool saved = OpenSnapshot.TrySave(OpenSnapshot.PathFor(_cacheDirectory, Id), Id, _state.FormatVersion, _state.End,
            _state.OwnerPublicKey!.Value, _state.OwnerSealedKey, _accessHistory, _accepted, _conflicts, _state.Objects, _verifiedCache?.Length ?? 0);
        if (saved && NameMemo.Save(NameMemo.PathFor(_cacheDirectory, Id), Id, _state.End, _identity, index.Known))
        {
            _snapshotEnd = _state.End.Offset;
            _movedAtSave = _accepted.MovedSinceRecorded;
            _memoMissing = false;
        }
    }

    /// <summary>Saves what is worth keeping for the next open (a CLI command's handle, or a mount's at unmount).</summary>
    private void SaveCaches()
    {
        try
        {
            lock (_gate) SaveSnapshotIfDue();
        }
        catch (PolykeyException)
        {
            // Caches only save time: damage met now, or a full disk, costs the next open.
        }
    }
}
