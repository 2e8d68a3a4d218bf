using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core;

/// <summary>
/// An open keynode: one encrypted, append-only file of secrets, each with its own signed git
/// history. Thread-safe; every change is durable before a writing method returns.
/// </summary>
public sealed class Keynode : IDisposable
{
    private readonly KeynodeFile _file;
    private readonly KeynodeState _state = new();
    private readonly Credential? _credential;
    private readonly object _gate = new();
    private SecretIdentity? _identity;
    private SecretIndex? _index;

    private Keynode(KeynodeFile file, Credential? credential)
    {
        _file = file;
        _credential = credential;
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
    public static Keynode Create(string path, string label, Credential credential)
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
        var keynode = new Keynode(file, credential) { _identity = owner };
        keynode.Load();
        return keynode;
    }

    public static Keynode Open(string path, Credential? credential)
    {
        KeynodeFile file = KeynodeFile.Open(path);
        var keynode = new Keynode(file, credential);
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
        using (_file.LockShared()) ReadNewChanges();
        if (_state.KeynodeId is null || _state.OwnerPublicKey is null)
            throw _state.End.Offset == 0 && _state.KeynodeId is null
                ? KeynodeLayout.NotAKeynode(Path)
                : PolykeyException.Failed($"keynode {Path} has no owner key", "run 'pk verify' for a full report");
        Owner = Identity.Load(_file.ReadData(_state.OwnerPublicKey.Value), $"the owner key of {Path}");
    }

    // Reads changes others committed since we last looked; updates the index for moved refs.
    private void ReadNewChanges()
    {
        ScanResult scan = _file.ReadChanges(_state.End);
        if (scan.Changes.Count > 0 && _state.End.Offset == 0 && scan.Changes[0].Members.FirstOrDefault().Name != KeynodeLayout.HeaderMember)
            throw KeynodeLayout.NotAKeynode(Path);
        if (scan.Changes.Count == 0 && _state.End.Offset == 0)
            throw LooksLikeKeynode(scan.Bytes)
                ? PolykeyException.Failed($"keynode {Path} is incomplete: its first change was never finished",
                    "the file was cut while 'pk init' wrote it; create it again or restore a backup")
                : KeynodeLayout.NotAKeynode(Path);
        if (scan.TailWarning is not null && !Warnings.Contains(scan.TailWarning)) Warnings.Add(scan.TailWarning);
        HashSet<string> moved = _state.Apply(scan, Path);
        if (_index is null) return;
        foreach (string id in moved) IndexHistory(_index, id);
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

    public IReadOnlyList<SecretInfo> List(string? prefix = null, bool countVersions = false)
    {
        lock (_gate)
        {
            return Index().Live
                .Where(e => prefix is null || SecretPath.IsUnder(e.Path, prefix))
                .OrderBy(e => e.Path, StringComparer.Ordinal)
                .Select(e => new SecretInfo(e.Path, e.Id, e.Size, e.Modified, countVersions ? History(e.Tip).Count : 0))
                .ToList();
        }
    }

    /// <summary>The current value (or version <paramref name="version"/>, counted from 1).</summary>
    public SecretBytes Get(string path, int? version = null)
    {
        SecretPath.Validate(path);
        lock (_gate)
        {
            IndexEntry entry = version is null ? Live(path) : Known(path);
            ObjectId commit = version is null ? entry.Tip : VersionCommit(entry, path, version.Value);
            (string _, SecretBytes value, bool removed) = ReadVersion(commit);
            if (removed)
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
                (string name, SecretBytes value, bool removed) = ReadVersion(id);
                using (value)
                    versions.Add(new VersionInfo(i + 1, id.Hex, commit.Time, commit.SignerFingerprint, name, value.Length, removed));
            }
            return versions;
        }
    }

    /// <summary>Writes a new version; returns its number.</summary>
    public int Set(string path, ReadOnlySpan<byte> value)
    {
        SecretPath.Validate(path);
        byte[] copy = value.ToArray();
        try
        {
            return Write(() =>
            {
                IndexEntry? entry = Index().Find(path);
                return Append(entry?.Id ?? VersionBuilder.NewSecretId(), entry?.Tip, path, copy, removed: false);
            });
        }
        finally
        {
            Array.Clear(copy);
        }
    }

    public int Restore(string path, int version)
    {
        SecretPath.Validate(path);
        return Write(() =>
        {
            IndexEntry entry = Known(path);
            (string _, SecretBytes value, bool removed) = ReadVersion(VersionCommit(entry, path, version));
            using (value)
            {
                if (removed) throw PolykeyException.NotFound($"version {version} of {path} is a removal; there is nothing to restore");
                return Append(entry.Id, entry.Tip, path, value.Span, removed: false);
            }
        });
    }

    public void Remove(string path)
    {
        SecretPath.Validate(path);
        Write(() =>
        {
            IndexEntry entry = Live(path);
            return Append(entry.Id, entry.Tip, path, ReadOnlySpan<byte>.Empty, removed: true);
        });
    }

    /// <summary>Renames a secret; its history moves with it.</summary>
    public void Move(string source, string destination)
    {
        SecretPath.Validate(source);
        SecretPath.Validate(destination);
        Write(() =>
        {
            IndexEntry entry = Live(source);
            if (source == destination) return 0;
            if (Index().FindLive(destination) is not null)
                throw PolykeyException.Conflict($"{destination} already exists", $"remove it first with 'pk rm {destination}', or choose another name");
            (string _, SecretBytes value, bool _) = ReadVersion(entry.Tip);
            using (value) return Append(entry.Id, entry.Tip, destination, value.Span, removed: false);
        });
    }

    private int Write(Func<int> change)
    {
        SecretIdentity signer = Unlock();
        if (!signer.CanSign)
            throw PolykeyException.Denied($"the credential for {Path} is read-only; it cannot change secrets");
        lock (_gate)
        {
            using (_file.LockExclusive())
            {
                ReadNewChanges();
                return change();
            }
        }
    }

    // Call inside Write: appends one version, re-reads it from disk, and returns its number.
    private int Append(string secretId, ObjectId? parent, string path, ReadOnlySpan<byte> value, bool removed)
    {
        (ObjectId tip, List<PendingMember> members) = VersionBuilder.Build(
            secretId, parent, path, value, removed, DateTimeOffset.UtcNow, Unlock(), Readers());
        _file.WriteChange(_state.End, members, DateTimeOffset.UtcNow);
        ReadNewChanges();
        Index();
        return History(tip).Count;
    }

    private IEnumerable<Identity> Readers() => [Owner];

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
        var history = new List<(ObjectId, Commit)>();
        for (ObjectId? at = tip; at is { } id;)
        {
            Commit commit = ReadCommit(id);
            history.Add((id, commit));
            at = commit.Parent;
        }
        return history;
    }

    private SecretIndex Index()
    {
        if (_index is not null) return _index;
        var index = new SecretIndex();
        foreach (string id in _state.SecretRefs.Keys) IndexHistory(index, id);
        return _index = index;
    }

    private void IndexHistory(SecretIndex index, string id)
    {
        ObjectId tip = _state.SecretRefs[id];
        Commit commit = ReadCommit(tip);
        (string path, SecretBytes value, bool removed)? version = TryReadVersion(tip, commit);
        if (version is null)
        {
            index.Forget(id);
            return;
        }
        using (version.Value.value)
            index.Set(new IndexEntry(id, tip, version.Value.path, version.Value.value.Length, commit.Time, version.Value.removed));
    }

    private (string Path, SecretBytes Value, bool Removed) ReadVersion(ObjectId commitId) =>
        TryReadVersion(commitId, ReadCommit(commitId))
        ?? throw PolykeyException.Denied($"version {commitId} is not encrypted to this credential");

    private (string path, SecretBytes value, bool removed)? TryReadVersion(ObjectId commitId, Commit commit)
    {
        IReadOnlyDictionary<string, ObjectId> tree = Tree.Decode(ReadObject(commit.Tree, ObjectType.Tree));
        bool removed = tree.ContainsKey(VersionBuilder.RemovedEntry);
        if (!tree.TryGetValue(removed ? VersionBuilder.RemovedEntry : VersionBuilder.ValueEntry, out ObjectId blob))
            throw PolykeyException.Failed($"version {commitId} in {Path} has no secret blob", "run 'pk verify' for a full report");
        var decrypted = SecretMessage.TryDecrypt(ReadObject(blob, ObjectType.Blob), Unlock(), $"version {commitId} in {Path}");
        return decrypted is null ? null : (decrypted.Value.Path, decrypted.Value.Value, removed);
    }

    private Commit ReadCommit(ObjectId id) => Commit.Decode(id, ReadObject(id, ObjectType.Commit)).Commit;

    private byte[] ReadObject(ObjectId id, ObjectType expected)
    {
        if (!_state.TryGetObject(id, out TarMember member))
            throw PolykeyException.Failed($"keynode {Path} lacks git object {id}", "run 'pk verify' for a full report");
        (ObjectType type, byte[] content) = LooseObject.Decode(id, _file.ReadData(member));
        if (type != expected) throw PolykeyException.Failed($"git object {id} in {Path} is a {type}, not a {expected}");
        return content;
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
