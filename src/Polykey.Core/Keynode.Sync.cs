using Polykey.Core.Access;
using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Storage;
using Polykey.Core.Sync;

namespace Polykey.Core;

/// <summary>
/// Moving histories between keynodes: per history, only forward. A pull takes what another
/// keynode offers that this owner may read, checks every object, signature and rule as any
/// reader of this file would, and lands what passes as one change; a push appends to another
/// keynode's file what its owner may read and does not hold yet.
/// </summary>
public sealed partial class Keynode
{
    // Objects fetched from another keynode and not landed yet: read like the file's own while checking them.
    private Dictionary<ObjectId, byte[]>? _incoming;
    private long _incomingBytes;

    /// <summary>Takes from <paramref name="source"/> every history this owner may read and trusts it for (optionally only paths matching <paramref name="patterns"/>).</summary>
    public SyncReport Receive(IHistorySource source, IReadOnlyList<string> patterns, IProgress<TransferProgress>? progress = null)
    {
        PathPattern[] filters = patterns.Select(p => new PathPattern(p)).ToArray();
        Unlock();
        var report = new SyncReport();
        lock (_gate)
        using (LockForWriting())
        {
            ReadNewChanges();
            _incoming = new Dictionary<ObjectId, byte[]>();
            _incomingBytes = 0;
            var before = new Dictionary<string, ObjectId?>(StringComparer.Ordinal);
            try
            {
                var landing = new List<RefMove>();
                List<(string Id, ObjectId Tip)> offered = Offered(source, report, progress);
                int done = 0;
                foreach ((string id, ObjectId tip) in offered)
                {
                    progress?.Report(new TransferProgress("checking", done++, offered.Count));
                    ObjectId? accepted = _accepted.TryGetValue(id, out ObjectId a) ? a : null;
                    // What this pull lands is checked as the change it will be.
                    Outcome? considered = CheckingAs(_state.End.Sequence + 1, () => Consider(id, tip, accepted, filters, report));
                    if (considered is not { } outcome) continue;
                    landing.Add(new RefMove(id, tip, outcome.Conflict));
                    if (outcome.Conflict)
                    {
                        report.Conflicts.Add(new SyncConflict(outcome.Path, id, accepted!.Value.Hex, tip.Hex));
                        continue;
                    }
                    if (!outcome.Statement) report.Moved.Add(new SyncedHistory(outcome.Path, id));
                    // Taken for the rest of this pull: a newer rules view decides who may write what follows.
                    before.TryAdd(id, accepted);
                    _accepted[id] = tip;
                    // The change this pull lands as: later changes on this handle meet the end from there.
                    NoteOwnerEnds(id, accepted, tip, _state.End.Sequence + 1);
                }
                Restore(before);
                progress?.Report(new TransferProgress("writing", offered.Count, offered.Count));
                if (landing.Count > 0) Land(landing);
                return report;
            }
            finally
            {
                Restore(before);
                _incoming = null;
                _peekedVersions.Clear();
            }
        }
    }

    private void Restore(Dictionary<string, ObjectId?> before)
    {
        foreach ((string id, ObjectId? tip) in before)
            if (tip is { } t) _accepted[id] = t;
            else _accepted.Remove(id);
        before.Clear();
    }

    /// <summary>Statements every receiver that trusts their keynode takes, readable or not: their signed facts are all they say.</summary>
    private static bool ForEveryone(VersionKind? kind) => kind is VersionKind.AsOf or VersionKind.OwnerTransition or VersionKind.OwnerRevocation;

    // The order histories move in, within one transfer: owner statements first (they say which
    // key signed the rest), then rules and pruned statements (who may write the rest, which
    // values it may lack), then everything else.
    private static int SyncRank(VersionKind? kind) => kind switch
    {
        VersionKind.OwnerTransition => 0,
        VersionKind.OwnerRevocation => 1,
        VersionKind.Rules or VersionKind.AsOf or VersionKind.Pruned => 2,
        _ => 3,
    };

    // What a transfer report shows for a statement's history, which has no path of its own; null for a secret's.
    private static string? StatementLabel(VersionKind? kind) => kind switch
    {
        VersionKind.Rules => "(rules)",
        VersionKind.AsOf => "(as of)",
        VersionKind.Pruned => "(pruned)",
        VersionKind.OwnerTransition => "(owner transition)",
        VersionKind.OwnerRevocation => "(owner revocation)",
        _ => null,
    };

    // The source's histories that are new here and readable by this owner, rules first (they decide who may write the rest).
    private List<(string Id, ObjectId Tip)> Offered(IHistorySource source, SyncReport report, IProgress<TransferProgress>? progress)
    {
        var offered = new List<(string Id, ObjectId Tip, int Rank)>();
        if (source is IPrefetchingHistorySource remote) Prefetch(remote, progress);
        // Two keynodes' tip maps are compared in bulk; any other source, tip by tip.
        IReadOnlyList<KeyValuePair<string, ObjectId>> unlike = source.Tips is TipMap theirs
            ? theirs.Unlike(_accepted)
            : source.Tips.Where(t => !(_accepted.TryGetValue(t.Key, out ObjectId ours) && ours == t.Value)).OrderBy(t => t.Key, StringComparer.Ordinal).ToList();
        report.UpToDate += source.Tips.Count - unlike.Count;
        int done = 0;
        foreach ((string id, ObjectId tip) in unlike)
        {
            progress?.Report(new TransferProgress("fetching", done++, unlike.Count));
            if (id == Id) continue; // this keynode's own access list comes from nowhere else
            try
            {
                Fetch(source, tip);
                VersionKind? kind = KindOfCommit(tip);
                // Another keynode's access list stays there (readable here only when one key owns both).
                if (kind == VersionKind.AccessList) continue;
                // Not for this owner: nothing of it lands. A statement is for everyone: its signed time is all it says.
                if (!ForEveryone(kind) && !ReadableBy(tip, Owner)) continue;
                offered.Add((id, tip, SyncRank(kind)));
            }
            catch (PolykeyException e)
            {
                report.Refused.Add(new SyncRefusal(null, id, e.Message));
            }
        }
        // Owner statements first (they say which key signed the rest), then rules (who may write the rest).
        return offered.OrderBy(o => o.Rank).Select(o => (o.Id, o.Tip)).ToList();
    }

    // A source across a network gets every history this pull will fetch in one request, each down to what is held here.
    private void Prefetch(IPrefetchingHistorySource source, IProgress<TransferProgress>? progress) =>
        source.Prefetch(source.Tips
            .Where(t => t.Key != Id && !(_accepted.TryGetValue(t.Key, out ObjectId ours) && ours == t.Value) && !_state.TryGetObject(t.Value, out _))
            .OrderBy(t => t.Key, StringComparer.Ordinal)
            .Select(t => new HistoryWant(t.Value, _accepted.TryGetValue(t.Key, out ObjectId ours) ? ours : null))
            .ToList(), progress);

    /// <summary>What a taken history is: its path for the report, whether it lands as a conflict, whether it is only an as-of statement (not reported).</summary>
    private readonly record struct Outcome(string Path, bool Conflict, bool Statement = false);

    /// <summary>Whether to land a history's tip (as a move or as a conflict); null when it is left out (the report says why).</summary>
    private Outcome? Consider(string id, ObjectId tip, ObjectId? accepted, PathPattern[] filters, SyncReport report)
    {
        try
        {
            string? origin = OriginOf(ReadCommit(tip));
            if (origin is not null && OriginOwner(origin) is null)
            {
                report.Skipped.Add(new SyncRefusal(null, id, $"a history of keynode {origin[..8]}, which this keynode takes no histories from"));
                return null;
            }
            if (accepted is { } held && IsAncestor(tip, held))
            {
                report.Older++;
                return null;
            }
            bool conflict = accepted is { } ours && !IsAncestor(ours, tip);
            if (conflict && _conflicts.TryGetValue(id, out ObjectId known) && known == tip) return null; // already kept
            if (CheckMove(id, conflict ? null : accepted, tip) is { } problem)
            {
                report.Refused.Add(new SyncRefusal(PathOf(id), id, problem));
                return null;
            }
            if (MissingValueProblem(tip, accepted) is { } missing)
            {
                report.Refused.Add(new SyncRefusal(PathOf(id), id, missing));
                return null;
            }
            VersionKind? kind = KindOfCommit(tip);
            if (kind is VersionKind.AsOf or VersionKind.Pruned) return new Outcome(StatementLabel(kind)!, conflict, Statement: true);
            if (kind is VersionKind.OwnerTransition or VersionKind.OwnerRevocation) return new Outcome(StatementLabel(kind)!, conflict);
            (string Path, long Size, VersionKind Kind)? version = TryPeekVersion(tip, ReadCommit(tip));
            if (version is not { } v) return null;
            bool rules = v.Kind is VersionKind.Rules or VersionKind.AccessList;
            if (!rules && !SecretPath.IsValid(v.Path))
            {
                report.Refused.Add(new SyncRefusal(null, id, $"its version {tip} names an invalid path ({SecretPath.Escape(v.Path)})"));
                return null;
            }
            if (!rules && origin != Id && CurrentAccess().OriginOf(origin!) is { } trusted && !trusted.Covers(v.Path))
            {
                report.Skipped.Add(new SyncRefusal(SecretPath.Escape(v.Path), id, $"outside the paths this keynode takes from keynode {origin![..8]}"));
                return null;
            }
            if (!rules && filters.Length > 0 && !filters.Any(f => f.Matches(v.Path))) return null;
            // Decrypted once: indexing the landed tip takes what this peek found.
            if (!conflict) _peekedVersions[tip] = v;
            return new Outcome(rules ? "(rules of keynode " + origin![..8] + ")" : SecretPath.Escape(v.Path), conflict);
        }
        catch (PolykeyException e)
        {
            report.Refused.Add(new SyncRefusal(PathOf(id), id, e.Message));
            return null;
        }
    }

    private string? PathOf(string id) => _index?.ById(id) is { } entry ? SecretPath.Escape(entry.Path) : null;

    /// <summary>
    /// Copies into memory every object of a history this file lacks, from its tip back to what
    /// this file holds, checking each against its name, kind and size bound as it comes.
    /// </summary>
    private void Fetch(IHistorySource source, ObjectId tip)
    {
        var pending = new Stack<ObjectId>();
        pending.Push(tip);
        while (pending.TryPop(out ObjectId id))
        {
            if (!FetchObject(source, id, ObjectType.Commit)) continue;
            Commit commit = ReadCommit(id);
            FetchObject(source, commit.Tree, ObjectType.Tree);
            // A value the source lacks may have been pruned there: whether a statement covers it is decided once statements are taken.
            if (VersionBuilder.KindOf(Tree.Decode(ReadObject(commit.Tree, ObjectType.Tree)), out ObjectId blob) is not null)
                FetchObject(source, blob, ObjectType.Blob, mayBeAbsent: true);
            foreach (ObjectId parent in commit.Parents) pending.Push(parent);
        }
    }

    // False when the object is here already.
    private bool FetchObject(IHistorySource source, ObjectId id, ObjectType type, bool mayBeAbsent = false)
    {
        if (_state.TryGetObject(id, out _) || _incoming!.ContainsKey(id)) return false;
        byte[]? offered = source.ReadStored(id);
        if (offered is null && mayBeAbsent) return false;
        byte[] stored = offered ?? throw PolykeyException.Failed($"{source.Location} lacks git object {id} of a history it offers");
        if ((_incomingBytes += stored.Length) > Limits.MaxTransferBytes)
            throw PolykeyException.Failed($"{source.Location} offers more than {Limits.MaxTransferBytes >> 30} GiB in one transfer",
                "pull fewer secrets at a time: name patterns after the remote");
        _incoming![id] = stored;
        try
        {
            using ObjectStream stream = OpenObject(id, type);
            stream.CopyTo(Stream.Null);
            stream.Finish();
        }
        catch
        {
            _incoming.Remove(id);
            throw;
        }
        return true;
    }

    /// <summary>Whether a version's message is encrypted to <paramref name="reader"/> (read from its head, nothing decrypted).</summary>
    private bool ReadableBy(ObjectId commitId, Identity reader)
    {
        (VersionKind _, ObjectId blob) = VersionBlob(commitId, ReadCommit(commitId));
        using ObjectStream message = OpenObject(blob, ObjectType.Blob);
        return SecretMessage.RecipientKeyIds(message).Contains(reader.EncryptionKeyId);
    }

    /// <summary>Whether <paramref name="ancestor"/> is <paramref name="of"/> or one of its ancestors.</summary>
    private bool IsAncestor(ObjectId ancestor, ObjectId of)
    {
        long floor = SequenceOf(ancestor);
        var seen = new HashSet<ObjectId>();
        var pending = new Stack<ObjectId>();
        pending.Push(of);
        while (pending.TryPop(out ObjectId id))
        {
            if (id == ancestor) return true;
            if (!seen.Add(id) || SequenceOf(id) <= floor) continue;
            foreach (ObjectId parent in ReadCommit(id).Parents) pending.Push(parent);
        }
        return false;
    }

    // Writes the taken histories as one change: the objects this file lacks, then each ref.
    private void Land(List<RefMove> landing)
    {
        var members = new List<PendingMember>();
        var added = new HashSet<ObjectId>();
        foreach (RefMove move in landing)
        {
            foreach (ObjectId id in MissingObjects(move.Tip, id => _state.TryGetObject(id, out _)))
                // Absent here and there: a pruned value (Consider let nothing else through).
                if (_incoming!.TryGetValue(id, out byte[]? stored) && added.Add(id)) members.Add(new PendingMember(id.LoosePath, stored));
            string prefix = move.Conflict ? KeynodeLayout.ConflictRefPrefix : KeynodeLayout.SecretRefPrefix;
            members.Add(new PendingMember(prefix + move.Id, System.Text.Encoding.ASCII.GetBytes(move.Tip.Hex + "\n")));
        }
        Change written = _file.WriteChange(_state.End, _state.WriteAt, members, DateTimeOffset.UtcNow);
        _checkedUpTo = new ScanPoint(written.End, written.Sequence, written.RecordHash);
        // The index, when this handle built one, follows each landed ref; a pull never builds it
        // (that would decrypt every secret's tip: the cost of an open, not of what changed).
        ReadNewChanges();
        RememberScanPoint();
    }

    /// <summary>The objects of a history, from its tip back to the first commit <paramref name="held"/> says is there, oldest first.</summary>
    private List<ObjectId> MissingObjects(ObjectId tip, Func<ObjectId, bool> held)
    {
        var objects = new List<ObjectId>();
        var seen = new HashSet<ObjectId>();
        var pending = new Stack<ObjectId>();
        pending.Push(tip);
        while (pending.TryPop(out ObjectId id))
        {
            if (!seen.Add(id) || held(id)) continue;
            Commit commit = ReadCommit(id);
            (VersionKind _, ObjectId blob) = VersionBlob(id, commit);
            objects.AddRange([id, commit.Tree, blob]);
            foreach (ObjectId parent in commit.Parents) pending.Push(parent);
        }
        objects.Reverse();
        return objects.Where(o => !held(o)).ToList();
    }

    /// <summary>
    /// Sends another keynode every history its owner may read that it does not hold at this
    /// version (optionally only paths matching <paramref name="patterns"/>), landing there as one
    /// change. Diverged histories are not sent: they are reported as conflicts, to be pulled and
    /// settled here.
    /// </summary>
    public SyncReport Send(IHistoryTarget target, IReadOnlyList<string> patterns, IProgress<TransferProgress>? progress = null)
    {
        PathPattern[] filters = patterns.Select(p => new PathPattern(p)).ToArray();
        Unlock();
        StampAsOf();
        var report = new SyncReport();
        var objects = new List<(ObjectId, byte[])>();
        var refs = new List<RefUpdate>();
        lock (_gate)
        {
            using (_file.LockShared()) ReadNewChanges();
            Identity targetOwner = CurrentOwnerOf(target);
            var added = new HashSet<ObjectId>();
            var histories = _accepted.Where(h => h.Key != _accessHistory)
                .Select(h => (Id: h.Key, Tip: h.Value, Kind: KindOfCommit(h.Value)))
                .OrderBy(h => SyncRank(h.Kind))
                .ThenBy(h => h.Id, StringComparer.Ordinal).ToList();
            int done = 0;
            foreach ((string id, ObjectId tip, VersionKind? kind) in histories)
            {
                progress?.Report(new TransferProgress("reading", done++, histories.Count));
                bool meta = kind is VersionKind.Rules or VersionKind.Pruned || ForEveryone(kind);
                if (!ForEveryone(kind) && !ReadableBy(tip, targetOwner)) continue;
                IndexEntry? entry = meta ? null : Index().ById(id);
                string path = StatementLabel(kind) ?? (entry is null ? id : SecretPath.Escape(entry.Path));
                if (!meta && filters.Length > 0 && (entry is null || !filters.Any(f => f.Matches(entry.Path)))) continue;
                ObjectId? theirs = target.Tips.TryGetValue(id, out ObjectId t) ? t : null;
                if (theirs == tip)
                {
                    report.UpToDate++;
                    continue;
                }
                HashSet<ObjectId> held = [];
                if (theirs is { } their)
                {
                    if (!_state.TryGetObject(their, out _) || !IsAncestor(their, tip))
                    {
                        if (TargetHolds(target, tip, their)) report.Older++;
                        else report.Conflicts.Add(new SyncConflict(path, id, tip.Hex, their.Hex));
                        continue;
                    }
                    held = [.. MissingObjects(their, _ => false)]; // every object of their tip's history: theirs already
                }
                foreach (ObjectId objectId in MissingObjects(tip, held.Contains))
                    if (added.Add(objectId) && _state.TryGetObject(objectId, out TarMember member))
                        objects.Add((objectId, StoredObjects.ReadLoose(_file, objectId, member)));
                refs.Add(new RefUpdate(id, tip, theirs));
                if (kind is not (VersionKind.AsOf or VersionKind.Pruned)) report.Moved.Add(new SyncedHistory(path, id));
            }
        }
        // A statement alone goes only where one of ours already is: a keynode that never took
        // anything from this one gets nothing appended for nothing.
        string asOf = AsOfHistoryId(Id);
        if (refs.All(r => r.HistoryId == asOf) && !target.Tips.ContainsKey(asOf))
        {
            refs.Clear();
            objects.Clear();
        }
        progress?.Report(new TransferProgress("writing", refs.Count, refs.Count));
        target.Write(new OutgoingChange(objects, refs));
        return report;
    }

    /// <summary>
    /// The target's current owner key as this keynode knows it: its own for a mirror, the end of
    /// the owner chain it follows for a trusted origin; else the first owner the target names.
    /// </summary>
    private Identity CurrentOwnerOf(IHistorySource target) =>
        target.KeynodeId == Id ? Owner : ChainOf(target.KeynodeId)?.Current ?? target.Owner;

    // Whether the target's tip descends from ours (it is newer), walked in the target's own objects.
    private static bool TargetHolds(IHistorySource target, ObjectId ours, ObjectId theirs)
    {
        var seen = new HashSet<ObjectId>();
        var pending = new Stack<ObjectId>();
        pending.Push(theirs);
        while (pending.TryPop(out ObjectId id) && seen.Count < Limits.MaxHistoryWalk)
        {
            if (id == ours) return true;
            if (!seen.Add(id) || target.ReadStored(id) is not { } stored) continue;
            try
            {
                (ObjectType type, byte[] content) = LooseObject.Decode(id, stored, LooseObject.MaxObjectBytes(ObjectType.Commit));
                if (type != ObjectType.Commit) continue;
                foreach (ObjectId parent in Git.Commit.Decode(id, content).Commit.Parents) pending.Push(parent);
            }
            catch (PolykeyException)
            {
                // A damaged object there proves nothing: treated as not newer (a conflict is reported).
            }
        }
        return false;
    }

    /// <summary>Histories whose other side's version diverged from ours and is not settled yet.</summary>
    public IReadOnlyList<SyncConflict> Conflicts()
    {
        lock (_gate)
        {
            var open = new List<SyncConflict>();
            foreach (string id in _conflicts.Keys.Order(StringComparer.Ordinal))
                if (OpenConflict(id) is { } theirs && Index().ById(id) is { } entry)
                    open.Add(new SyncConflict(SecretPath.Escape(entry.Path), id, entry.Tip.Hex, theirs.Hex));
            return open;
        }
    }

    // The other side's tip of a history, while it is not part of ours.
    private ObjectId? OpenConflict(string id) =>
        _conflicts.TryGetValue(id, out ObjectId theirs) && _accepted.TryGetValue(id, out ObjectId ours) && !IsAncestor(theirs, ours) ? theirs : null;

    /// <summary>The other side's value of a secret in conflict.</summary>
    public SecretBytes GetTheirs(string path)
    {
        lock (_gate)
        {
            IndexEntry entry = Known(path);
            RequireFresh(entry.Id, path);
            ObjectId theirs = OpenConflict(entry.Id) ?? throw PolykeyException.NotFound($"{path} has no conflict", "'pk resolve' lists the secrets in conflict");
            (string _, SecretBytes value, VersionKind kind) = ReadVersion(theirs);
            if (kind == VersionKind.Value) return value;
            value.Dispose();
            throw PolykeyException.NotFound($"the other side removed {path}", $"keep it with 'pk resolve {path} --ours', or remove it with --theirs");
        }
    }

    /// <summary>Settles a conflict: a new version holding our value or theirs, descending from both tips.</summary>
    public void Resolve(string path, bool theirs) => Commit([new SecretEdit.Resolve(path, theirs)]);
}
