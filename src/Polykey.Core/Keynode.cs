using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core;

/// <summary>
/// An open keynode: one encrypted, append-only file of secrets, each with its own signed git
/// history. Thread-safe; every change is durable before a writing method returns.
/// </summary>
public sealed partial class Keynode : IDisposable
{
    private readonly KeynodeFile _file;
    private readonly KeynodeState _state = new();
    private readonly Credential? _credential;
    private readonly object _gate = new();
    private SecretIdentity? _identity;
    private SecretIndex? _index;
    private HistoryValidator? _validator;
    private readonly string? _cacheDirectory;
    private VerifiedCommitCache? _verifiedCache;
    private ScanPoint? _checkedUpTo;
    // Tips this reader accepted: a ref in the file moves a history only if the move validates.
    private readonly Dictionary<string, ObjectId> _accepted = new(StringComparer.Ordinal);
    private readonly List<(string Id, ObjectId Tip)> _unchecked = new();
    private readonly Dictionary<ObjectId, (Commit Commit, int Number)> _commits = new();
    private readonly Dictionary<ObjectId, (string Path, long Size, VersionKind Kind)> _ownVersions = new();

    private Keynode(KeynodeFile file, Credential? credential, string? cacheDirectory)
    {
        _file = file;
        _credential = credential;
        _cacheDirectory = cacheDirectory;
    }

    public string Path => _file.Path;
    public string Id => _state.KeynodeId!;
    public Identity Owner { get; private set; } = null!;

    /// <summary>Warnings met while reading (a damaged, unacknowledged last change), for the caller to show.</summary>
    public List<string> Warnings { get; } = new();

    /// <summary>
    /// Creates a keynode. With a passphrase, a new owner identity is generated and sealed inside
    /// the file; with a key file, that key becomes the owner and stays outside the file.
    /// </summary>
    public static Keynode Create(string path, string label, Credential credential, string? cacheDirectory = null)
    {
        SecretIdentity owner;
        var members = new List<PendingMember> { new(KeynodeLayout.HeaderMember, KeynodeLayout.Header(VersionBuilder.NewSecretId())) };
        switch (credential)
        {
            case Credential.Passphrase passphrase:
                byte[] secret = passphrase.Read();
                owner = SecretIdentity.Generate(label);
                members.Add(new PendingMember(KeynodeLayout.OwnerPublicKeyMember, owner.Public.ToBinary()));
                members.Add(new PendingMember(KeynodeLayout.OwnerSealedKeyMember, KeyVault.Seal(owner, secret)));
                break;
            case Credential.KeyFile keyFile:
                owner = keyFile.Identity;
                if (!owner.CanSign) throw PolykeyException.Denied($"{keyFile.Source} is a read-only credential; a keynode's owner must be able to sign");
                members.Add(new PendingMember(KeynodeLayout.OwnerPublicKeyMember, owner.Public.ToBinary()));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(credential));
        }
        members.AddRange(KeynodeLayout.GitSkeleton());
        KeynodeFile file = KeynodeFile.Create(path, members, DateTimeOffset.UtcNow);
        var keynode = new Keynode(file, credential, cacheDirectory) { _identity = owner };
        keynode.Load();
        return keynode;
    }

    /// <param name="cacheDirectory">Where to remember what was verified (e.g. $XDG_CACHE_HOME); null remembers nothing.</param>
    public static Keynode Open(string path, Credential? credential, string? cacheDirectory = null)
    {
        KeynodeFile file = KeynodeFile.Open(path);
        var keynode = new Keynode(file, credential, cacheDirectory);
        try
        {
            keynode.Load();
            return keynode;
        }
        catch
        {
            keynode.Dispose();
            throw;
        }
    }

    private void Load()
    {
        if (PeekKeynodeId() is { } peeked)
        {
            _verifiedCache = VerifiedCommitCache.For(_cacheDirectory, peeked);
            _checkedUpTo = _verifiedCache.LoadScanPoint();
        }
        using (_file.LockShared()) ReadNewChanges();
        if (_state.KeynodeId is null || _state.OwnerPublicKey is null)
            throw _state.End.Offset == 0 && _state.KeynodeId is null
                ? KeynodeLayout.NotAKeynode(Path)
                : PolykeyException.Failed($"keynode {Path} has no owner key", "run 'pk verify' for a full report");
        Owner = Identity.Load(_file.ReadData(_state.OwnerPublicKey.Value), $"the owner key of {Path}");
        _validator = new HistoryValidator(ReadSignedCommit, Owner.Fingerprint);
        _verifiedCache ??= VerifiedCommitCache.For(_cacheDirectory, Id);
        _validator.Trust(_verifiedCache.Load());
        AcceptMovedHistories();
        RememberScanPoint();
    }

    // Saves the end of what was hashed, when it moved, so the next open need not hash it again.
    private void RememberScanPoint()
    {
        if (_verifiedCache is null || _checkedUpTo is { } known && known.Offset == _state.End.Offset) return;
        _checkedUpTo = _state.End;
        _verifiedCache.SaveScanPoint(_state.End);
    }

    // The keynode id from the header member, read before anything else so caches can be found.
    private string? PeekKeynodeId()
    {
        try
        {
            byte[] head = new byte[1024];
            if (RandomAccess.Read(_file.Handle, head, 0) < 1024) return null;
            if (TarHeader.TryParse(head) is not { Name: KeynodeLayout.HeaderMember, Size: < 512 } header) return null;
            return KeynodeLayout.ParseHeader(head.AsSpan(512, (int)header.Size).ToArray(), Path);
        }
        catch (PolykeyException)
        {
            return null;
        }
    }

    private (Commit, string?, byte[]) ReadSignedCommit(ObjectId id)
    {
        byte[] raw = ReadObject(id, ObjectType.Commit);
        (Commit commit, string? signature) = Git.Commit.Decode(id, raw);
        return (commit, signature, Git.Commit.SignedPayload(raw));
    }

    /// <summary>Takes each moved ref only if it validates; a refused move is reported and the history keeps its accepted tip.</summary>
    private void AcceptMovedHistories()
    {
        if (_validator is null) return;
        foreach ((string id, ObjectId candidate) in _unchecked)
        {
            ObjectId? accepted = _accepted.TryGetValue(id, out ObjectId a) ? a : null;
            string? problem;
            try
            {
                problem = _validator.Check(accepted, candidate, WriterOf);
            }
            catch (PolykeyException e)
            {
                problem = e.Message;
            }
            if (problem is null)
            {
                _accepted[id] = candidate;
                if (KindOfCommit(candidate) == VersionKind.AccessList) _accessHistory = id;
                else if (_index is not null) IndexHistory(_index, id);
                continue;
            }
            string warning = $"refused a change to secret history {id[..8]}: {problem}";
            if (!Warnings.Contains(warning)) Warnings.Add(warning);
        }
        _unchecked.Clear();
        _verifiedCache?.Append(_validator.TakeNewlyVerifiedByOwner());
    }

    // Reads changes others committed since we last looked; updates the index for moved refs.
    private void ReadNewChanges()
    {
        ScanResult scan = _file.ReadChanges(_state.End, _checkedUpTo);
        if (scan.Changes.Count > 0 && _state.End.Offset == 0 && scan.Changes[0].Members.FirstOrDefault().Name != KeynodeLayout.HeaderMember)
            throw KeynodeLayout.NotAKeynode(Path);
        if (scan.Changes.Count == 0 && _state.End.Offset == 0)
            throw LooksLikeKeynode(scan.Bytes)
                ? PolykeyException.Failed($"keynode {Path} is incomplete: its first change was never finished",
                    "the file was cut while 'pk init' wrote it; create it again or restore a backup")
                : KeynodeLayout.NotAKeynode(Path);
        if (scan.TailWarning is not null && !Warnings.Contains(scan.TailWarning)) Warnings.Add(scan.TailWarning);
        _unchecked.AddRange(_state.Apply(scan, Path));
        AcceptMovedHistories();
    }

    private static bool LooksLikeKeynode(byte[] bytes) =>
        TarHeader.TryParse(bytes) is { Name: KeynodeLayout.HeaderMember };

    /// <summary>Picks up changes made by other processes since the last read.</summary>
    public void Refresh()
    {
        lock (_gate)
        {
            using (_file.LockShared()) ReadNewChanges();
        }
    }

    /// <summary>How many changes this handle has read so far; it grows with every change, ours or others'.</summary>
    public long ChangeCount
    {
        get
        {
            lock (_gate) return _state.End.Sequence;
        }
    }

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
            return Index().FindLive(path) is { } e ? new SecretInfo(e.Path, e.Id, e.Size, e.Modified, 0, e.Tip.Hex) : null;
    }

    /// <summary>The current value (or version <paramref name="version"/>, counted from 1).</summary>
    public SecretBytes Get(string path, int? version = null)
    {
        SecretPath.Validate(path);
        lock (_gate)
        {
            IndexEntry entry = version is null ? Live(path) : Known(path);
            ObjectId commit = version is null ? entry.Tip : VersionCommit(entry, path, version.Value);
            (string _, SecretBytes value, VersionKind kind) = ReadVersion(commit);
            if (kind != VersionKind.Value)
            {
                value.Dispose();
                throw PolykeyException.NotFound($"version {version} of {path} is a removal; it has no value",
                    $"see 'pk log {path}' for versions that hold values");
            }
            return value;
        }
    }

    public IReadOnlyList<VersionInfo> Log(string path)
    {
        SecretPath.Validate(path);
        lock (_gate)
        {
            IndexEntry entry = Known(path);
            List<(ObjectId Id, Commit Commit)> history = History(entry.Tip);
            var versions = new List<VersionInfo>(history.Count);
            for (int i = 0; i < history.Count; i++)
            {
                (ObjectId id, Commit commit) = history[history.Count - 1 - i];
                (string name, SecretBytes value, VersionKind kind) = ReadVersion(id);
                using (value)
                    versions.Add(new VersionInfo(i + 1, id.Hex, commit.Time, commit.SignerFingerprint, name, value.Length, kind != VersionKind.Value));
            }
            return versions;
        }
    }

    /// <summary>Writes a new version; returns its number.</summary>
    public int Set(string path, ReadOnlySpan<byte> value)
    {
        byte[] copy = value.ToArray();
        try
        {
            Commit([new SecretEdit.Set(path, copy)]);
            lock (_gate) return VersionNumber(Index().FindLive(path)!.Tip);
        }
        finally
        {
            Array.Clear(copy);
        }
    }

    public int Restore(string path, int version)
    {
        SecretPath.Validate(path);
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

    /// <summary>Directory records (made by mkdir in a mount), so empty directories survive remounts.</summary>
    public IReadOnlyList<string> ListDirectories()
    {
        lock (_gate) return Index().Directories.Select(d => d.Path).OrderBy(p => p, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Writes several edits as one change: all land or none. Each edit resolves its path against
    /// the keynode as it was before the batch, so a batch may name each path only once.
    /// </summary>
    public void Commit(IReadOnlyList<SecretEdit> edits)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string path in edits.SelectMany(Paths))
        {
            if (path != Polykey.Core.Access.AccessList.MessageName) SecretPath.Validate(path);
            if (!seen.Add(path)) throw new ArgumentException($"a batch names {path} twice", nameof(edits));
        }

        SecretIdentity signer = Unlock();
        if (!signer.CanSign)
            throw PolykeyException.Denied($"the credential for {Path} is read-only; it cannot change secrets");
        lock (_gate)
        {
            using (_file.LockExclusive())
            {
                ReadNewChanges();
                DateTimeOffset now = DateTimeOffset.UtcNow;
                var members = new List<PendingMember>();
                try
                {
                    foreach (SecretEdit edit in edits) members.AddRange(Members(edit, signer, now));
                }
                finally
                {
                    _pendingAccess = null;
                }
                if (members.Count == 0) return;
                try
                {
                    if (signer.Public.Fingerprint == Owner.Fingerprint) _validator?.TrustSignedByOwner(_ownVersions.Keys.ToList());
                    else _validator?.Trust(_ownVersions.Keys);
                    _file.WriteChange(_state.End, members, now);
                    ReadNewChanges();
                    Index();
                    RememberScanPoint();
                }
                finally
                {
                    _ownVersions.Clear();
                }
            }
        }
    }

    private static IEnumerable<string> Paths(SecretEdit edit) => edit switch
    {
        SecretEdit.Move m => [m.Source, m.Destination],
        SecretEdit.Set s => [s.Path],
        SecretEdit.Remove r => [r.Path],
        SecretEdit.MakeDirectory d => [d.Path],
        SecretEdit.RemoveDirectory d => [d.Path],
        SecretEdit.SetAccess => [Polykey.Core.Access.AccessList.MessageName],
        _ => throw new ArgumentOutOfRangeException(nameof(edit)),
    };

    private List<PendingMember> Members(SecretEdit edit, SecretIdentity signer, DateTimeOffset now)
    {
        switch (edit)
        {
            case SecretEdit.Set set:
            {
                IndexEntry? entry = Index().Find(set.Path);
                return Version(entry?.Id ?? VersionBuilder.NewSecretId(), entry?.Tip, set.Path, set.Value, VersionKind.Value, signer, now, Readers(set.Path));
            }
            case SecretEdit.Remove remove:
            {
                IndexEntry entry = Live(remove.Path);
                return Version(entry.Id, entry.Tip, remove.Path, [], VersionKind.Removed, signer, now, Readers(remove.Path));
            }
            case SecretEdit.Move move:
            {
                IndexEntry entry = Live(move.Source);
                if (Index().FindLive(move.Destination) is not null)
                    throw PolykeyException.Conflict($"{move.Destination} already exists", $"remove it first with 'pk rm {move.Destination}', or choose another name");
                (string _, SecretBytes value, VersionKind _) = ReadVersion(entry.Tip);
                using (value) return Version(entry.Id, entry.Tip, move.Destination, value.Span, VersionKind.Value, signer, now, Readers(move.Destination));
            }
            case SecretEdit.MakeDirectory mkdir:
                if (Index().FindDirectory(mkdir.Path) is not null) return [];
                return Version(VersionBuilder.NewSecretId(), null, mkdir.Path, [], VersionKind.Directory, signer, now, Readers(mkdir.Path));
            case SecretEdit.RemoveDirectory rmdir:
            {
                IndexEntry entry = Index().FindDirectory(rmdir.Path) ?? throw PolykeyException.NotFound($"no directory record {rmdir.Path}");
                return Version(entry.Id, entry.Tip, rmdir.Path, [], VersionKind.DirectoryRemoved, signer, now, Readers(rmdir.Path));
            }
            case SecretEdit.SetAccess access:
            {
                _pendingAccess = access.List;
                ObjectId? tip = _accessHistory is null ? null : _accepted[_accessHistory];
                return Version(_accessHistory ?? VersionBuilder.NewSecretId(), tip, Polykey.Core.Access.AccessList.MessageName, access.List.Serialize(),
                    VersionKind.AccessList, signer, now, [Owner]);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(edit));
        }
    }

    private List<PendingMember> Version(string id, ObjectId? parent, string path, ReadOnlySpan<byte> value, VersionKind kind, SecretIdentity signer, DateTimeOffset now, IEnumerable<Identity> readers)
    {
        (ObjectId tip, List<PendingMember> members) = VersionBuilder.Build(id, parent, path, value, kind, now, signer, readers);
        // We signed it and know what it holds: reading it back need not verify or decrypt it again.
        _ownVersions[tip] = (path, value.Length, kind);
        return members;
    }


    private IndexEntry Live(string path) => Index().FindLive(path) ?? throw Missing(path);

    private IndexEntry Known(string path) => Index().Find(path) ?? throw Missing(path);

    private PolykeyException Missing(string path) =>
        Index().Find(path) is { Removed: true }
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

    private SecretIndex Index()
    {
        if (_index is not null) return _index;
        var index = new SecretIndex();
        foreach (string id in _accepted.Keys.Where(id => id != _accessHistory)) IndexHistory(index, id);
        return _index = index;
    }

    private void IndexHistory(SecretIndex index, string id)
    {
        ObjectId tip = _accepted[id];
        Commit commit = ReadCommit(tip);
        if (_ownVersions.Remove(tip, out var own))
        {
            index.Set(new IndexEntry(id, tip, own.Path, own.Size, commit.Time, own.Kind));
            return;
        }
        (string path, SecretBytes value, VersionKind kind)? version = TryReadVersion(tip, commit);
        if (version is null)
        {
            index.Forget(id);
            return;
        }
        using (version.Value.value)
            index.Set(new IndexEntry(id, tip, version.Value.path, version.Value.value.Length, commit.Time, version.Value.kind));
    }

    private (string Path, SecretBytes Value, VersionKind Kind) ReadVersion(ObjectId commitId) =>
        TryReadVersion(commitId, ReadCommit(commitId))
        ?? throw PolykeyException.Denied($"version {commitId} is not encrypted to this credential");

    private (string path, SecretBytes value, VersionKind kind)? TryReadVersion(ObjectId commitId, Commit commit)
    {
        IReadOnlyDictionary<string, ObjectId> tree = Tree.Decode(ReadObject(commit.Tree, ObjectType.Tree));
        VersionKind kind = VersionBuilder.KindOf(tree, out ObjectId blob)
            ?? throw PolykeyException.Failed($"version {commitId} in {Path} has no secret blob", "run 'pk verify' for a full report");
        var decrypted = SecretMessage.TryDecrypt(ReadObject(blob, ObjectType.Blob), Unlock(), $"version {commitId} in {Path}");
        return decrypted is null ? null : (decrypted.Value.Path, decrypted.Value.Value, kind);
    }

    private Commit ReadCommit(ObjectId id) => Git.Commit.Decode(id, ReadObject(id, ObjectType.Commit)).Commit;

    private byte[] ReadObject(ObjectId id, ObjectType expected)
    {
        if (!_state.TryGetObject(id, out TarMember member))
            throw PolykeyException.Failed($"keynode {Path} lacks git object {id}", "run 'pk verify' for a full report");
        (ObjectType type, byte[] content) = LooseObject.Decode(id, _file.ReadData(member));
        if (type != expected) throw PolykeyException.Failed($"git object {id} in {Path} is a {type}, not a {expected}");
        return content;
    }

    /// <summary>
    /// Checks the whole keynode: every git object against its name, every version's message
    /// (decrypted, integrity-checked), and reports what opening refused. The change records
    /// and signatures were already checked when it was opened.
    /// </summary>
    public VerifyReport Verify()
    {
        lock (_gate)
        {
            var problems = new List<string>(Warnings);
            int objects = 0, versions = 0;
            foreach (ObjectId id in _state.ObjectIds)
            {
                objects++;
                _state.TryGetObject(id, out TarMember member);
                try { LooseObject.Decode(id, _file.ReadData(member)); }
                catch (PolykeyException e) { problems.Add(e.Message); }
            }
            foreach ((string id, ObjectId tip) in _accepted)
            {
                foreach ((ObjectId commit, Commit _) in History(tip))
                {
                    versions++;
                    try
                    {
                        (string, SecretBytes value, VersionKind)? version = TryReadVersion(commit, ReadCommit(commit));
                        version?.value.Dispose();
                        if (version is null) problems.Add($"version {commit} of history {id[..8]} is not encrypted to this credential");
                    }
                    catch (PolykeyException e)
                    {
                        problems.Add(e.Message);
                    }
                }
            }
            return new VerifyReport(Path, _state.End.Sequence, objects, _accepted.Count, versions, problems);
        }
    }

    /// <summary>The unlocked identity, asking the credential the first time a key is needed.</summary>
    public SecretIdentity Unlock()
    {
        if (_identity is not null) return _identity;
        _identity = _credential switch
        {
            null => throw PolykeyException.Denied($"opening {Path} needs a passphrase or an identity file",
                "pass --passphrase-file or --identity-file, or set $PK_PASSPHRASE_FILE"),
            Credential.KeyFile keyFile when keyFile.Identity.Public.Fingerprint == Owner.Fingerprint => keyFile.Identity,
            Credential.KeyFile keyFile => throw PolykeyException.Denied(
                $"identity {keyFile.Identity.Public.Fingerprint} from {keyFile.Source} holds no key for {Path}",
                $"the keynode's owner is {Owner.Fingerprint}"),
            Credential.Passphrase passphrase => UnsealOwnerKey(passphrase),
            _ => throw new InvalidOperationException(),
        };
        return _identity;
    }

    private SecretIdentity UnsealOwnerKey(Credential.Passphrase passphrase)
    {
        if (_state.OwnerSealedKey is not { } sealedKey)
            throw PolykeyException.Denied($"keynode {Path} keeps its owner key outside the file", "pass the owner's --identity-file");
        byte[] secret = passphrase.Read();
        try
        {
            return KeyVault.Open(_file.ReadData(sealedKey), secret, Path);
        }
        finally
        {
            Array.Clear(secret);
        }
    }

    public void Dispose() => _file.Dispose();
}
