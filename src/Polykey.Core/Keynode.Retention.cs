using System.Text;
using Polykey.Core.Crypto;
using Polykey.Core.Git;

namespace Polykey.Core;

/// <summary>
/// Retention: each version stores its whole value, so a secret rewritten often grows the file
/// without bound. `pk gc --keep-versions N / --keep-since D` drops the blobs (encrypted values)
/// of old versions and keeps their commits and trees, so every signature and chain still
/// verifies. Before dropping anything the owner signs a pruned statement (a version of the
/// keynode's pruned history, docs/keynode-format.md §5.5.3) naming what may be missing; a reader
/// accepts a missing blob only on that word, and reports any other missing blob as damage.
/// </summary>
public sealed partial class Keynode
{
    private const string PrunedName = "polykey:pruned";

    // The commits each accepted statement covers, by the statement's tip: statements never change.
    private readonly Dictionary<ObjectId, HashSet<ObjectId>> _prunedByTip = new();

    /// <summary>The id of the history holding <paramref name="origin"/>'s pruned statements.</summary>
    internal static string PrunedHistoryId(string origin) =>
        DerivedHistoryId("pruned", origin);

    /// <summary>
    /// Compacts the keynode (<see cref="Compact(IProgress{Sync.TransferProgress}?)"/>) after signing a pruned
    /// statement for what <paramref name="retention"/> drops; the pruned values are left out of the new file.
    /// </summary>
    public CompactReport Compact(Retention retention, IProgress<Sync.TransferProgress>? progress = null)
    {
        // Signed and appended first: a crash after it leaves the old file, whose values are all still there.
        StatePruned(retention, DateTimeOffset.UtcNow);
        return Compact(progress);
    }

    /// <summary>Appends a statement covering everything already pruned plus what the retention drops now; returns how many versions that adds.</summary>
    internal int StatePruned(Retention retention, DateTimeOffset now)
    {
        RequireOwnerSigner("prune versions in");
        lock (_gate)
        using (LockForWriting())
        {
            // Under the writer lock: the statement written here repeats what the newest one covered, even one
            // another gc wrote a moment ago (forgetting it would turn the values that gc dropped into damage).
            // Commit takes the same flock again on this handle, which flock(2) does not count.
            ReadNewChanges();
            // Checked before signing anything: a gc that then refuses must leave the file as it was.
            RequireNothingRefused();
            PrunedStatement current = OwnStatement()
                ?? throw PolykeyException.Failed($"the pruned statement in {Path} cannot be read; a new one would forget what it covers",
                    "run 'pk verify' for a full report; nothing was changed");
            var lines = current.Lines.ToList();
            int added = 0;
            foreach ((string id, ObjectId tip) in _accepted.ToList())
            {
                // Only secrets' histories: access lists, rules, statements and directory records are small and always whole.
                if (Index().ById(id) is not { Kind: VersionKind.Value or VersionKind.Removed } entry || !retention.Covers(entry.Path)) continue;
                List<(ObjectId Id, Commit Commit)> history = History(tip);
                int kept = retention.Kept(history.Select(h => h.Commit.Time).ToList(), now);
                if (kept >= history.Count) continue;
                int fresh = history.Skip(kept).Count(h => !IsPruned(h.Id, h.Commit));
                if (fresh == 0) continue;
                added += fresh;
                lines.Add((id, history[kept].Id));
            }
            if (added == 0) return 0;
            Commit([new SecretEdit.StatePruned(PrunedStatement.Of(WithoutCoveredLines(lines)))]);
            return added;
        }
    }

    // A line whose commit lies below another line's of the same history says nothing more: dropped, so the statement stays one line per history.
    private List<(string History, ObjectId Through)> WithoutCoveredLines(List<(string History, ObjectId Through)> lines)
    {
        var kept = new List<(string, ObjectId)>();
        foreach (var group in lines.Distinct().GroupBy(l => l.History))
        {
            var items = group.ToList();
            foreach (var line in items)
            {
                bool below = items.Any(other => other.Through != line.Through && Covered(group.Key, other.Through).Contains(line.Through));
                if (!below) kept.Add(line);
            }
        }
        return kept;
    }

    /// <summary>This keynode's newest accepted statement (empty when there is none); null when this reader cannot read it.</summary>
    private PrunedStatement? OwnStatement() =>
        _accepted.TryGetValue(PrunedHistoryId(Id), out ObjectId tip) ? ReadStatement(tip) : PrunedStatement.Empty;

    /// <summary>The statement a pruned-history version holds; null when it is unreadable here or not a statement.</summary>
    private PrunedStatement? ReadStatement(ObjectId tip)
    {
        Commit commit = ReadCommit(tip);
        // A statement is never pruned itself; its blob missing is damage (and must not ask for a statement to cover it).
        if (VersionBlob(tip, commit) is not (VersionKind.Pruned, var blob) || !HoldsObject(blob)) return null;
        var version = TryReadVersion(tip, commit);
        if (version is not { } v) return null;
        using (v.value) return v.path == PrunedName ? PrunedStatement.TryParse(v.value.Span) : null;
    }

    /// <summary>
    /// Whether the owner's word allows this version's value to be missing: this keynode's newest
    /// statement, or its origin's (which travels with the history), covers it.
    /// </summary>
    private bool IsPruned(ObjectId id, Commit commit)
    {
        if (HistoryBinding.TryParse(commit.Message) is not { } binding) return false;
        string origin = binding.Origin ?? Id;
        return PrunedCommits(Id).Contains(id) || origin != Id && PrunedCommits(origin).Contains(id);
    }

    /// <summary>A version whose value was pruned: its blob is absent and a statement says so.</summary>
    private bool IsPrunedVersion(ObjectId id, Commit commit) =>
        !HoldsObject(VersionBlob(id, commit).Blob) && IsPruned(id, commit);

    private bool HoldsObject(ObjectId id) => _state.TryGetObject(id, out _) || _incoming?.ContainsKey(id) == true;

    private HashSet<ObjectId> PrunedCommits(string origin)
    {
        if (!_accepted.TryGetValue(PrunedHistoryId(origin), out ObjectId tip)) return [];
        if (_prunedByTip.TryGetValue(tip, out HashSet<ObjectId>? known)) return known;
        var covered = new HashSet<ObjectId>();
        foreach ((string history, ObjectId through) in (ReadStatement(tip) ?? PrunedStatement.Empty).Lines)
            covered.UnionWith(Covered(history, through));
        return _prunedByTip[tip] = covered;
    }

    /// <summary>A commit and every commit it descends from, as far as they are versions of <paramref name="history"/>.</summary>
    private HashSet<ObjectId> Covered(string history, ObjectId through)
    {
        var covered = new HashSet<ObjectId>();
        var pending = new Stack<ObjectId>();
        pending.Push(through);
        while (pending.TryPop(out ObjectId id))
        {
            if (covered.Contains(id)) continue;
            Commit commit;
            try
            {
                commit = ReadCommit(id);
            }
            catch (PolykeyException)
            {
                continue; // a commit missing or damaged is reported where it is needed; it covers nothing
            }
            if (HistoryBinding.TryParse(commit.Message)?.HistoryId != history) continue;
            covered.Add(id);
            foreach (ObjectId parent in commit.Parents) pending.Push(parent);
        }
        return covered;
    }

    /// <summary>A pruned statement stands only in its keynode's pruned history, and that history holds nothing else.</summary>
    private string? PrunedPlacementProblem(string historyId, ObjectId id, string origin)
    {
        bool statement = KindOfCommit(id) == VersionKind.Pruned;
        if (statement == (historyId == PrunedHistoryId(origin))) return null;
        return statement
            ? $"commit {id} is a pruned statement outside its keynode's pruned history"
            : $"commit {id} is not a pruned statement but stands in the pruned history";
    }

    /// <summary>Who may read a statement: the owner and every grantee, so any reader of the file can tell pruned from damaged (it reveals only which blobs are absent, which the file shows anyway).</summary>
    private IEnumerable<Identity> StatementReaders() =>
        new[] { Owner }.Concat(CurrentAccess().Grants.Select(g => g.Identity)).DistinctBy(i => i.Fingerprint);

    /// <summary>
    /// Why a received history cannot land: a version between what this keynode holds and the new
    /// tip whose value neither came nor is covered by a statement taken (a source withholding a
    /// value is damage, never a pruning); null when none.
    /// </summary>
    private string? MissingValueProblem(ObjectId tip, ObjectId? accepted)
    {
        var seen = new HashSet<ObjectId>();
        var pending = new Stack<ObjectId>();
        pending.Push(tip);
        while (pending.TryPop(out ObjectId id))
        {
            if (id == accepted || !seen.Add(id) || _state.TryGetObject(id, out _)) continue; // held here: checked when it landed
            Commit commit = ReadCommit(id);
            if (!HoldsObject(VersionBlob(id, commit).Blob) && (id == tip || !IsPruned(id, commit)))
                return $"the source lacks the value of version {id} (git object {VersionBlob(id, commit).Blob}), and no pruned statement covers it";
            foreach (ObjectId parent in commit.Parents) pending.Push(parent);
        }
        return null;
    }

    private static PolykeyException PrunedError(string what) =>
        PolykeyException.NotFound($"{what} was pruned by 'pk gc': its value is gone from the keynode (the owner's signed pruned statement covers it)",
            "'pk log PATH' shows which versions still hold values");
}
