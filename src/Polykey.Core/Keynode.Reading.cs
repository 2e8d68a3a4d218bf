using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core;

/// <summary>Reading: listings, values, histories, and the whole-keynode check.</summary>
public sealed partial class Keynode
{
    public IReadOnlyList<SecretInfo> List(string? prefix = null, bool countVersions = false)
    {
        lock (_gate)
        {
            return Index().Live
                .Where(e => prefix is null || SecretPath.IsUnder(e.Path, prefix))
                .OrderBy(e => e.Path, StringComparer.Ordinal)
                .Select(e => new SecretInfo(e.Path, e.Id, e.Size, e.Modified, countVersions ? VersionNumber(e.Tip) : 0, e.Tip.Hex))
                .ToList();
        }
    }

    /// <summary>The live secret at a path, or null; cheap (no history walk).</summary>
    public SecretInfo? Find(string path)
    {
        lock (_gate)
            return LookupLive(path) is { } e ? new SecretInfo(e.Path, e.Id, e.Size, e.Modified, 0, e.Tip.Hex) : null;
    }

    /// <summary>The current value (or version <paramref name="version"/>, counted from 1).</summary>
    public SecretBytes Get(string path, int? version = null)
    {
        RequireNameable(path);
        lock (_gate)
        {
            IndexEntry entry = version is null ? Live(path) : Known(path);
            RequireFresh(entry.Id, path);
            ObjectId commit = version is null ? entry.Tip : VersionCommit(entry, path, version.Value);
            if (version is not null && IsPrunedVersion(commit, ReadCommit(commit))) throw PrunedError($"version {version} of {path}");
            (string name, SecretBytes value, VersionKind kind) = ReadVersion(commit);
            // Names come from an index, a memo or a snapshot delta; the tip itself names its path.
            // Were they ever to disagree, no other secret's value is handed out under this name.
            if (version is null && name != path)
            {
                value.Dispose();
                throw PolykeyException.Failed($"the names {Path} was opened with do not match its versions: {path} leads to a version of another path",
                    "run 'pk verify'; removing pk's cache directory (polykey/ under $XDG_CACHE_HOME) makes the next open read every history");
            }
            if (kind != VersionKind.Value)
            {
                value.Dispose();
                throw PolykeyException.NotFound($"version {version} of {path} is a removal; it has no value",
                    $"see 'pk log {path}' for versions that hold values");
            }
            return value;
        }
    }

    /// <summary>
    /// The value of one version, named by its commit (<see cref="SecretInfo.Tip"/> of an
    /// earlier listing): for readers that keep a version after a newer one replaced it.
    /// </summary>
    public SecretBytes GetVersion(string path, string commit)
    {
        RequireNameable(path);
        if (!ObjectId.TryParse(commit, out ObjectId id))
            throw PolykeyException.NotFound($"'{commit}' is not a version id", "see 'pk log' for version ids");
        lock (_gate)
        {
            if (LookupLive(path) is { } entry) RequireFresh(entry.Id, path);
            (string name, SecretBytes value, VersionKind kind) = ReadVersion(id);
            if (kind == VersionKind.Value && name == path) return value;
            value.Dispose();
            throw PolykeyException.NotFound($"version {commit} holds no value of {path}", $"see 'pk log {path}' for its versions");
        }
    }

    public IReadOnlyList<VersionInfo> Log(string path)
    {
        RequireNameable(path);
        lock (_gate)
        {
            IndexEntry entry = Known(path);
            List<(ObjectId Id, Commit Commit)> history = History(entry.Tip);
            var versions = new List<VersionInfo>(history.Count);
            for (int i = 0; i < history.Count; i++)
            {
                (ObjectId id, Commit commit) = history[history.Count - 1 - i];
                if (IsPrunedVersion(id, commit))
                {
                    versions.Add(new VersionInfo(i + 1, id.Hex, commit.Time, commit.SignerFingerprint, path, -1, KindOfCommit(id) != VersionKind.Value) { Pruned = true });
                    continue;
                }
                // A history taken from another keynode may hold versions written before this owner could read them.
                if (TryReadVersion(id, commit) is not { } version)
                {
                    versions.Add(new VersionInfo(i + 1, id.Hex, commit.Time, commit.SignerFingerprint, path, -1, KindOfCommit(id) != VersionKind.Value) { Readable = false });
                    continue;
                }
                using (version.value)
                    versions.Add(new VersionInfo(i + 1, id.Hex, commit.Time, commit.SignerFingerprint, version.path, version.value.Length, version.kind != VersionKind.Value));
            }
            return versions;
        }
    }

    /// <summary>Directory records (made by mkdir in a mount), so empty directories survive remounts.</summary>
    public IReadOnlyList<string> ListDirectories()
    {
        lock (_gate) return Index().Directories.Select(d => d.Path).OrderBy(p => p, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// New names must follow every rule; a name the keynode already holds (an older pk or a
    /// grantee may have written one with a control character) stays reachable, so it can be
    /// read, renamed and removed.
    /// </summary>
    private void RequireNameable(string path)
    {
        if (SecretPath.IsValid(path)) return;
        SecretPath.ValidateLookup(path);
        lock (_gate)
            if (Lookup(path) is null && Index().FindDirectory(path) is null) SecretPath.Validate(path);
    }

    private IndexEntry Live(string path) => LookupLive(path) ?? throw Missing(path);

    private IndexEntry Known(string path) => Lookup(path) ?? throw Missing(path);

    private PolykeyException Missing(string path) =>
        Lookup(path) is { Removed: true }
            ? PolykeyException.NotFound($"secret {path} was removed", $"its history is kept: 'pk log {path}', 'pk restore {path} --version N'")
            : PolykeyException.NotFound($"no secret {path} in {Path}", "list secrets with 'pk ls'");

    private ObjectId VersionCommit(IndexEntry entry, string path, int version)
    {
        List<(ObjectId Id, Commit Commit)> history = History(entry.Tip);
        if (version < 1 || version > history.Count)
            throw PolykeyException.NotFound($"{path} has no version {version} (it has {history.Count})", $"see 'pk log {path}'");
        return history[history.Count - version].Id;
    }

    // Newest first.
    private List<(ObjectId Id, Commit Commit)> History(ObjectId tip)
    {
        var history = new List<(ObjectId, Commit)>(VersionNumber(tip));
        for (ObjectId? at = tip; at is { } id; at = _commits[id].Commit.Parent) history.Add((id, _commits[id].Commit));
        return history;
    }

    /// <summary>A version's number (1 for a history's root). Commits are immutable, so each is read once per process.</summary>
    private int VersionNumber(ObjectId tip)
    {
        var unknown = new Stack<(ObjectId, Commit)>();
        int number = 0;
        for (ObjectId? at = tip; at is { } id;)
        {
            if (_commits.TryGetValue(id, out var known))
            {
                number = known.Number;
                break;
            }
            Commit commit = ReadCommit(id);
            unknown.Push((id, commit));
            at = commit.Parent;
        }
        while (unknown.TryPop(out var entry)) _commits[entry.Item1] = (entry.Item2, ++number);
        return number;
    }

    private SecretIndex Index() => _index ??= BuildIndex();

    private void IndexHistory(SecretIndex index, string id)
    {
        ObjectId tip = _accepted[id];
        // Noted in the snapshot's delta while this tip stood: no need to read it again.
        if (_deltaNames?.TryGetValue(id, out var noted) == true && noted.Tip == tip)
        {
            index.Set(id, tip, noted.Entry);
            return;
        }
        Commit commit = ReadCommit(tip);
        if (_ownVersions.Remove(tip, out var own) || _peekedVersions.Remove(tip, out own))
        {
            index.Set(new IndexEntry(id, tip, own.Path, own.Size, commit.Time, own.Kind));
            return;
        }
        (string Path, long Size, VersionKind Kind)? version = TryPeekVersion(tip, commit);
        if (version is null) index.SetUnreadable(id, tip);
        else index.Set(new IndexEntry(id, tip, version.Value.Path, version.Value.Size, commit.Time, version.Value.Kind));
    }

    /// <summary>
    /// A version's path, size and kind, decrypting only the head of its message: what a listing
    /// needs, at a cost that does not grow with the value. The blob is still read whole and
    /// checked against its name, a piece at a time.
    /// </summary>
    private (string Path, long Size, VersionKind Kind)? TryPeekVersion(ObjectId commitId, Commit commit) =>
        ReportingDamage(() => PeekVersion(commitId, commit));

    private (string Path, long Size, VersionKind Kind)? PeekVersion(ObjectId commitId, Commit commit)
    {
        (VersionKind kind, ObjectId blob) = VersionBlob(commitId, commit);
        if (IsOwnerStatement(kind)) return (StatementName(commitId, kind), 0, kind);
        using ObjectStream content = OpenObject(blob, ObjectType.Blob);
        (string Path, long Size)? peeked = SecretMessage.TryPeek(content, Unlock(), $"version {commitId} in {Path}");
        content.Finish();
        if (peeked is not { Size: < 0 }) return peeked is { } p ? (p.Path, p.Size, kind) : null;
        var whole = TryReadVersion(commitId, commit);
        if (whole is null) return null;
        using (whole.Value.value) return (whole.Value.path, whole.Value.value.Length, kind);
    }

    private (string Path, SecretBytes Value, VersionKind Kind) ReadVersion(ObjectId commitId) =>
        TryReadVersion(commitId, ReadCommit(commitId))
        ?? throw PolykeyException.Denied($"version {commitId} is not encrypted to this credential");

    private (string path, SecretBytes value, VersionKind kind)? TryReadVersion(ObjectId commitId, Commit commit) =>
        ReportingDamage(() => ReadVersionOf(commitId, commit));

    private (string path, SecretBytes value, VersionKind kind)? ReadVersionOf(ObjectId commitId, Commit commit)
    {
        (VersionKind kind, ObjectId blob) = VersionBlob(commitId, commit);
        if (IsOwnerStatement(kind)) return (StatementName(commitId, kind), new SecretBytes([]), kind);
        if (!HoldsObject(blob) && IsPruned(commitId, commit)) throw PrunedError($"version {commitId}");
        using ObjectStream content = OpenObject(blob, ObjectType.Blob);
        (string Path, SecretBytes Value)? decrypted;
        try
        {
            decrypted = SecretMessage.TryDecrypt(content, Unlock(), $"version {commitId} in {Path}");
        }
        catch (PolykeyException e) when (e is not DamagedObjectException)
        {
            // A damaged object reads as a message that will not decrypt: report the damage (which
            // the reader then places in the file), not its symptom. An intact object: the message's own error.
            content.CopyTo(Stream.Null);
            content.Finish();
            throw;
        }
        try
        {
            content.Finish();
        }
        catch
        {
            decrypted?.Value.Dispose();
            throw;
        }
        return decrypted is null ? null : (decrypted.Value.Path, decrypted.Value.Value, kind);
    }

    private static bool IsOwnerStatement(VersionKind kind) => kind is VersionKind.OwnerTransition or VersionKind.OwnerRevocation;

    // Owner statements are in clear and encrypted to nobody: what a listing knows them by (never listed).
    private string StatementName(ObjectId commitId, VersionKind kind) => kind == VersionKind.OwnerTransition
        ? $"polykey:owner-transition:{TransitionOf(commitId).To.Fingerprint}"
        : $"polykey:owner-revocation:{RevocationOf(commitId).Key}";

    // A version's kind and the blob holding its message, from its one-entry tree.
    private (VersionKind Kind, ObjectId Blob) VersionBlob(ObjectId commitId, Commit commit)
    {
        IReadOnlyDictionary<string, ObjectId> tree = Tree.Decode(ReadObject(commit.Tree, ObjectType.Tree));
        VersionKind kind = VersionBuilder.KindOf(tree, out ObjectId blob)
            ?? throw PolykeyException.Failed($"version {commitId} in {Path} has no secret blob", "run 'pk verify' for a full report");
        return (kind, blob);
    }

    // Commits are named by their content: each is read and decoded once per handle.
    private Commit ReadCommit(ObjectId id)
    {
        if (_decodedCommits.TryGetValue(id, out Commit? known)) return known;
        return _decodedCommits[id] = Git.Commit.Decode(id, ReadObject(id, ObjectType.Commit)).Commit;
    }

    /// <summary>An object's content as a stream: bounded by its kind (any kind, with a blob's bound, when <paramref name="expected"/> is null).</summary>
    private ObjectStream OpenObject(ObjectId id, ObjectType? expected)
    {
        long max = LooseObject.MaxObjectBytes(expected ?? ObjectType.Blob);
        ObjectStream stream;
        if (_state.TryGetObject(id, out TarMember member)) stream = StoredObjects.Open(_file, id, member, max);
        else if (_incoming?.TryGetValue(id, out byte[]? stored) == true) stream = ObjectStream.Open(id, new MemoryStream(stored, writable: false), stored.Length, max);
        else throw PolykeyException.Failed($"keynode {Path} lacks git object {id}", "run 'pk verify' for a full report");
        if (expected is { } type && stream.Type != type)
        {
            stream.Dispose();
            throw PolykeyException.Failed($"git object {id} in {Path} is a {stream.Type}, not a {type}");
        }
        return stream;
    }

    // Commits and trees of the change this handle is writing, while it reads that change back.
    private Dictionary<ObjectId, (ObjectType Type, byte[] Content)>? _justBuilt;

    private byte[] ReadObject(ObjectId id, ObjectType expected) => ReportingDamage(() =>
    {
        if (_justBuilt is not null && _justBuilt.TryGetValue(id, out var built) && built.Type == expected && _state.TryGetObject(id, out _))
            return (byte[])built.Content.Clone();
        using ObjectStream stream = OpenObject(id, expected);
        byte[] content = new byte[stream.ContentLength];
        stream.ReadExactly(content);
        stream.Finish();
        return content;
    });

    /// <summary>
    /// An object that does not read back whole, in changes this handle took on the scan cache's
    /// word, is reported as a reader without the cache reports it: as the file's corruption, when
    /// hashing finds it. When the file hashes whole, a reader resumed from its open snapshot cannot
    /// tell a bad object from a wrong place in its own snapshot (damage behind a receipt, §8.2):
    /// the error says how to tell, and nothing is removed on a guess.
    /// </summary>
    private T ReportingDamage<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (PolykeyException e) when (e is DamagedObjectException or MisplacedObjectException && _scannedOnTrust)
        {
            if (WholeFileProblem() is { } corruption)
                throw PolykeyException.Failed(corruption, "restore the file from a backup, or pull the secrets from another keynode; nothing was changed");
            if (_snapshot is null || _cacheDirectory is null) throw;
            throw PolykeyException.Failed(e.Message,
                $"run 'pk verify' for a full report; if it finds {Path} whole, the damage is in pk's cache of it: remove {OpenSnapshot.PathFor(_cacheDirectory, Id)}");
        }
    }

    /// <summary>
    /// Checks the whole keynode: every git object against its name, every version's message
    /// (decrypted, integrity-checked), and reports what opening refused. The change records
    /// and signatures were already checked when it was opened.
    /// </summary>
    public VerifyReport Verify(IProgress<Sync.TransferProgress>? progress = null)
    {
        lock (_gate)
        {
            var problems = new List<string>(Warnings);
            problems.AddRange(_state.Unaccounted);
            if (WholeFileProblem() is { } altered) problems.Add(altered);
            int objects = 0, versions = 0, histories = 0, pruned = 0;
            int objectCount = progress is null ? 0 : _state.ObjectIds.Count(); // counted only for a progress bar
            foreach (ObjectId id in _state.ObjectIds)
            {
                if (objects % 1024 == 0) progress?.Report(new Sync.TransferProgress("objects", objects, objectCount));
                objects++;
                try
                {
                    using ObjectStream stream = OpenObject(id, expected: null);
                    stream.Finish();
                }
                catch (PolykeyException e) { problems.Add(e.Message); }
            }
            foreach ((string id, ObjectId tip) in _accepted)
            {
                if (histories++ % 256 == 0) progress?.Report(new Sync.TransferProgress("versions", histories - 1, _accepted.Count));
                foreach ((ObjectId commit, Commit _) in History(tip))
                {
                    versions++;
                    try
                    {
                        // Missing on the owner's signed word; a value missing without it is damage, reported below.
                        if (IsPrunedVersion(commit, ReadCommit(commit)))
                        {
                            pruned++;
                            continue;
                        }
                        (string, SecretBytes value, VersionKind)? version = TryReadVersion(commit, ReadCommit(commit));
                        version?.value.Dispose();
                        // Another keynode's history may start before this owner was granted it: only its newer versions are ours to read.
                        // So may a version written before the owner moved to the current key: it was encrypted to the key of its time.
                        if (version is null && OriginOfHistory(id) == Id && !BeforeCurrentOwner(ReadCommit(commit))) problems.Add($"version {commit} of history {id[..8]} is not encrypted to this credential");
                    }
                    catch (PolykeyException e)
                    {
                        problems.Add(e.Message);
                    }
                }
            }
            if (_accepted.TryGetValue(PrunedHistoryId(Id), out ObjectId statement) && ReadStatement(statement) is null)
                problems.Add($"the pruned statement {statement} cannot be read: values it covers are reported missing");
            bool indexed = CheckNameIndex(problems);
            return new VerifyReport(Path, _state.End.Sequence, objects, _accepted.Count, versions, problems) { Pruned = pruned, NameIndexChecked = indexed };
        }
    }

    /// <summary>
    /// Hashes every change again, whatever this handle took on the scan cache's word: damage
    /// there is reported here as a reader without the cache reports it.
    /// </summary>
    private string? WholeFileProblem()
    {
        // Hashing the whole file is the costly part: once per end this handle has reached.
        if (_wholeFileCheck is { } done && done.End == _state.End.Offset) return done.Problem;
        string? problem;
        try
        {
            ScanResult full = ChangeScanner.Scan(new BlockReader(_file.Handle, _state.End.Offset, Path), ScanPoint.Origin, Path);
            bool same = full.End.Offset == _state.End.Offset && full.End.RecordHash.AsSpan().SequenceEqual(_state.End.RecordHash)
                && full.End.Layout is { } layout && _state.End.Layout is { } known && layout.AsSpan().SequenceEqual(known);
            problem = same ? null : $"keynode {Path} no longer reads as it did up to byte {_state.End.Offset}: it was altered after this handle read it";
        }
        catch (PolykeyException e)
        {
            problem = e.Message;
        }
        _wholeFileCheck = (_state.End.Offset, problem);
        return problem;
    }
}
