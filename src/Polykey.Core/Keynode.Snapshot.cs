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
    // Below these, what changed since the snapshot is written as its delta, which every open then
    // reads (~5 us an object here: after importing 3,000 secrets, 78 ms a get against 31 ms);
    // past them, the snapshot and memo are written again whole, a cost in proportion to the
    // keynode (23 MB at 100,000 secrets). With one cost growing with the delta and the other with
    // the keynode, rewriting after about the square root of the keynode's objects keeps their sum
    // per write low: at 100,000 secrets (300,000 objects) a rewrite every ~1,100 objects.
    private const int MinObjectsPerSnapshot = 512;
    private const long BytesPerSnapshot = 64L << 20;

    private int ObjectsPerSnapshot => Math.Max(MinObjectsPerSnapshot, 2 * (int)Math.Sqrt(_snapshot?.Objects.Count ?? 0));

    private int MovesPerSnapshot => ObjectsPerSnapshot / 4;

    private OpenSnapshot? _snapshot;
    private SnapshotDelta? _delta;
    // Id -> what the delta noted for it (tip and entry; no entry: unreadable here), once the key is at hand.
    private Dictionary<string, (ObjectId Tip, IndexEntry? Entry)>? _deltaNames;
    // The change end the caches on disk describe (snapshot or delta); -1 when none.
    private long _savedEnd = -1;
    // Once this handle rewrote the snapshot, its in-memory base is not the one on disk: no deltas of it.
    private bool _snapshotRewritten;
    private NameMemo? _memo;
    private bool _memoTried;
    // What the histories moved since the snapshot say, while the whole index is not built.
    private SecretIndex? _movedIndex;
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
        return loaded is { } snapshot && ResumeFrom(keynodeId, snapshot, out verifiedFrom);
    }

    /// <summary>Takes <paramref name="snapshot"/>'s state (and its delta), if it still describes the start of this file; disposes it if not.</summary>
    private bool ResumeFrom(string keynodeId, OpenSnapshot snapshot, out long verifiedFrom)
    {
        verifiedFrom = 0;
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
        _savedEnd = snapshot.End.Offset;
        verifiedFrom = snapshot.VerifiedLength;
        ResumeDelta(keynodeId, snapshot, ref verifiedFrom);
        return true;
    }

    private void ResumeDelta(string keynodeId, OpenSnapshot snapshot, ref long verifiedFrom)
    {
        string path = SnapshotDelta.PathFor(_cacheDirectory!, keynodeId);
        SnapshotDelta? delta = SnapshotDelta.Load(path, keynodeId, snapshot.End, out bool damaged);
        if (damaged) CacheWarning($"the snapshot delta {path} is damaged; {Path} was read from its snapshot's end instead (it is written again)");
        // A delta past the end of this file belongs to another copy of it, or one rolled back.
        if (delta is null || !_file.EndsWithRecord(delta.End)) return;
        _delta = delta;
        _state.ResumeDelta(delta.End, delta.Objects);
        foreach ((string id, ObjectId? tip) in delta.Moved)
        {
            if (tip is { } t) _accepted[id] = t;
            else _accepted.Remove(id);
        }
        _conflicts = new Dictionary<string, ObjectId>(delta.Conflicts, StringComparer.Ordinal);
        _accessHistory = delta.AccessHistory;
        _savedEnd = delta.End.Offset;
        verifiedFrom = delta.VerifiedLength;
    }

    /// <summary>The memo of names as of the snapshot, when this reader has one.</summary>
    private NameMemo? Memo()
    {
        if (_memoTried) return _memo;
        _memoTried = true;
        if (_cacheDirectory is null || _snapshot is null) return null;
        string path = NameMemo.PathFor(_cacheDirectory, Id);
        _memo = NameMemo.Open(path, Id, _snapshot.End, Unlock(), out bool damaged);
        if (_delta is not null)
        {
            _deltaNames = _delta.Names(Unlock(), Id)?.ToDictionary(n => n.Id, n => (n.Tip, n.Entry), StringComparer.Ordinal);
            if (_deltaNames is null) CacheWarning($"the snapshot delta for {Path} is damaged; names were decrypted from the keynode instead");
        }
        // Without its memo, the snapshot is written again (with one) the next time this handle may.
        _memoMissing = _memo is null;
        if (damaged) MemoDamaged();
        return _memo;
    }

    // A memo (or a chunk of it) that did not open under this reader's key: read around, and written again.
    private void MemoDamaged()
    {
        CacheWarning($"the name memo {NameMemo.PathFor(_cacheDirectory!, Id)} is damaged; names were decrypted from {Path} instead (the memo is written again)");
        _memoMissing = true;
        _memo?.Dispose();
        _memo = null;
    }

    /// <summary>Builds the whole name index: from the memo for histories unmoved since the snapshot, by decrypting the rest.</summary>
    private SecretIndex BuildIndex()
    {
        var index = new SecretIndex();
        List<(string Id, ObjectId Tip, IndexEntry? Entry)>? known = Memo()?.All();
        if (_memo is not null && known is null) MemoDamaged();
        if (known is not null)
        {
            foreach ((string id, ObjectId tip, IndexEntry? entry) in known)
            {
                // The memo was written with the snapshot, from the tips it holds: only moves since can differ.
                if (id == _accessHistory || _accepted.HasMoved(id)) continue;
                index.Set(id, tip, entry);
            }
            // The memo holds every history of the snapshot: only those moved since are left,
            // and of those, what the moved index already read (a writer's own versions) is not read again.
            foreach ((string id, ObjectId? tip) in _accepted.Moved)
            {
                if (tip is not { } t || id == _accessHistory || index.Holds(id, t)) continue;
                if (_movedIndex is not null && _movedIndex.TryKnown(id, out ObjectId movedTip, out IndexEntry? entry) && movedTip == t)
                    index.Set(id, t, entry);
                else IndexHistory(index, id);
            }
        }
        else
        {
            int indexed = 0;
            foreach ((string id, ObjectId tip) in _accepted)
                if (id != _accessHistory && !index.Holds(id, tip))
                {
                    IndexHistory(index, id);
                    indexed++;
                }
            if (indexed >= ReadEverythingTrimThreshold) TrimAfterReadingEverything();
        }
        _movedIndex = null;
        return index;
    }

    /// <summary>Histories read in one open past which the decoded commits it left are dropped (settable for tests: dropping is never wrong).</summary>
    internal static int ReadEverythingTrimThreshold { get; set; } = 10_000;

    // An open without caches decodes every tip's commit: at 100,000 secrets ~50 MB of decoded
    // commits and kinds that a long-lived reader (a mount) would keep for nothing, since they are
    // read again on demand. Dropped, and collected now, so the daemon's footprint is the index's.
    private void TrimAfterReadingEverything()
    {
        _decodedCommits.Clear();
        _kinds.Clear();
        GC.Collect();
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
            MemoDamaged();
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

    /// <summary>
    /// Records what this handle read or wrote since the caches on disk were written: as the
    /// snapshot's delta while that stays small, else as a new snapshot and memo. Only of a clean
    /// state, and only with the key at hand (names are sealed under it).
    /// </summary>
    private void SaveSnapshotIfDue()
    {
        if (_cacheDirectory is null || !_loaded || _identity is null || Warnings.Count > _cacheWarnings || _refusedSomething
            || _state.Unaccounted.Count > 0 || _unchecked.Count > 0 || _incoming is not null)
            return;
        if (_state.End.Offset == _savedEnd && !_memoMissing || !_file.EndsWithRecord(_state.End)) return;
        bool whole = _snapshot is null || _snapshotRewritten || _memoMissing || _deltaNames is null && _delta is not null
            || _accepted.MovedSinceRecorded >= MovesPerSnapshot || _state.ObjectsSinceSnapshot.Count >= ObjectsPerSnapshot
            || _state.End.Offset - _snapshot.End.Offset >= BytesPerSnapshot;
        if (!whole)
        {
            var moved = _accepted.Moved.ToList();
            if (SnapshotDelta.Save(SnapshotDelta.PathFor(_cacheDirectory, Id), Id, _snapshot!.End, _state.End, _verifiedCache?.Length ?? 0, _accessHistory,
                    moved, _conflicts, _state.ObjectsSinceSnapshot, _identity, MovedNames(moved)))
                _savedEnd = _state.End.Offset;
            return;
        }
        SecretIndex index = Index();
        bool saved = OpenSnapshot.TrySave(OpenSnapshot.PathFor(_cacheDirectory, Id), Id, _state.FormatVersion, _state.End,
            _state.OwnerPublicKey!.Value, _state.OwnerSealedKey, _accessHistory, _accepted, _conflicts, _state.Objects, _verifiedCache?.Length ?? 0);
        if (saved && NameMemo.Save(NameMemo.PathFor(_cacheDirectory, Id), Id, _state.End, _identity, index.Known))
        {
            SnapshotDelta.Remove(SnapshotDelta.PathFor(_cacheDirectory, Id));
            _savedEnd = _state.End.Offset;
            _snapshotRewritten = true;
            _memoMissing = false;
        }
    }

    // What the moved histories' tips say: from the whole index when it is built, else from the moved ones'.
    private List<(string Id, ObjectId Tip, IndexEntry? Entry)> MovedNames(List<KeyValuePair<string, ObjectId?>> moved)
    {
        var names = new List<(string, ObjectId, IndexEntry?)>();
        SecretIndex source = _index ?? MovedIndex();
        foreach ((string id, ObjectId? tip) in moved)
            if (tip is { } t && source.TryKnown(id, out ObjectId known, out IndexEntry? entry) && known == t) names.Add((id, t, entry));
        return names;
    }

    /// <summary>Saves what is worth keeping for the next open (a CLI command's handle, or a mount's at unmount).</summary>
    private void SaveCaches()
    {
        try
        {
            lock (_gate)
            {
                _verifiedCache?.Flush();
                SaveSnapshotIfDue();
            }
        }
        catch (PolykeyException)
        {
            // Caches only save time: damage met now, or a full disk, costs the next open.
        }
    }
}
