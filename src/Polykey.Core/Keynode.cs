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
    private long _savedScanOffset = -1;
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
            _savedScanOffset = _checkedUpTo?.Offset ?? -1;
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
        if (_verifiedCache is null || _savedScanOffset == _state.End.Offset) return;
        _checkedUpTo = _state.End;
        _savedScanOffset = _state.End.Offset;
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
            // Changes only ever append: a file that still ends where our last change ended
            // (plus the archive's closing blocks) holds nothing new, and asking costs no
            // lock (a mount hears of each of its own appends).
            if (RandomAccess.GetLength(_file.Handle) == _state.End.Offset + ChangeWriter.EndOfArchiveLength) return;
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
