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
    private KeynodeFile _file;
    private KeynodeState _state = new();
    private readonly Credential? _credential;
    private readonly object _gate = new();
    private SecretIdentity? _identity;
    private SecretIndex? _index;
    private HistoryValidator? _validator;
    private readonly string? _cacheDirectory;
    private readonly string? _stateDirectory;
    private readonly bool _legacyAllowed;
    private VerifiedCommitCache? _verifiedCache;
    private ReaderPins? _pins;
    // Set when this open took changes on the remembered scan point without hashing them.
    private bool _scannedOnTrust;
    private bool _refusedSomething;
    private bool _loaded;
    // The last whole-file hash check: up to which change end, and what it found.
    private (long End, string? Problem)? _wholeFileCheck;
    private ScanPoint? _checkedUpTo;
    private long _savedScanOffset = -1;
    // Tips this reader accepted: a ref in the file moves a history only if the move validates.
    private TipMap _accepted = new();
    // Another keynode's tips that diverged from ours (kept until settled), by history id.
    private Dictionary<string, ObjectId> _conflicts = new(StringComparer.Ordinal);
    private readonly List<RefMove> _unchecked = new();
    private readonly Dictionary<ObjectId, (Commit Commit, int Number)> _commits = new();
    private readonly Dictionary<ObjectId, Commit> _decodedCommits = new();
    private readonly Dictionary<ObjectId, VersionKind?> _kinds = new();
    private readonly Dictionary<ObjectId, (string Path, long Size, VersionKind Kind)> _ownVersions = new();
    // Tips a pull already decrypted the head of: indexing them once landed need not decrypt them again.
    private readonly Dictionary<ObjectId, (string Path, long Size, VersionKind Kind)> _peekedVersions = new();
    private readonly HashSet<ObjectId> _ownForeign = new();

    private Keynode(KeynodeFile file, Credential? credential, string? cacheDirectory, string? stateDirectory, bool legacyAllowed = false)
    {
        _file = file;
        _credential = credential;
        _cacheDirectory = cacheDirectory;
        _stateDirectory = stateDirectory;
        _legacyAllowed = legacyAllowed;
    }

    public string Path => _file.Path;
    public string Id => _state.KeynodeId!;

    /// <summary>True when the owner key is sealed inside the file by a passphrase; false when it lives in an identity file.</summary>
    public bool SealsOwnerKey => _state.OwnerSealedKey is not null;

    /// <summary>Warnings met while reading (a damaged, unacknowledged last change), for the caller to show.</summary>
    public List<string> Warnings { get; } = new();

    /// <summary>
    /// Creates a keynode. With a passphrase, a new owner identity is generated and sealed inside
    /// the file; with a key file, that key becomes the owner and stays outside the file.
    /// </summary>
    /// <param name="stateDirectory">Where to pin the owner and access list (e.g. $XDG_STATE_HOME); null pins nothing.</param>
    public static Keynode Create(string path, string label, Credential credential, string? cacheDirectory = null, string? stateDirectory = null)
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
        var keynode = new Keynode(file, credential, cacheDirectory, stateDirectory) { _identity = owner };
        keynode.Load(trustScanCache: true);
        return keynode;
    }

    /// <param name="cacheDirectory">Where to remember what was verified (e.g. $XDG_CACHE_HOME); null remembers nothing.</param>
    /// <param name="stateDirectory">Where this reader pins the owner and access list (e.g. $XDG_STATE_HOME); null pins nothing.</param>
    public static Keynode Open(string path, Credential? credential, string? cacheDirectory = null, string? stateDirectory = null) =>
        Open(path, credential, cacheDirectory, stateDirectory, legacyAllowed: false, trustScanCache: true);

    private static Keynode Open(string path, Credential? credential, string? cacheDirectory, string? stateDirectory, bool legacyAllowed, bool trustScanCache)
    {
        KeynodeFile file = KeynodeFile.Open(path);
        var keynode = new Keynode(file, credential, cacheDirectory, stateDirectory, legacyAllowed);
        try
        {
            keynode.Load(trustScanCache);
            return keynode;
        }
        catch (RescanNeeded)
        {
            // Something was refused in changes taken on the scan cache's word: hash them all, so
            // the answer is the one a reader without the cache gets.
            keynode.Dispose();
            return Open(path, credential, cacheDirectory, stateDirectory, legacyAllowed, trustScanCache: false);
        }
        catch
        {
            keynode.Dispose();
            throw;
        }
    }

    private sealed class RescanNeeded : Exception;

    private void Load(bool trustScanCache)
    {
        long verifiedFrom = 0;
        if (_file.PeekKeynodeId() is { } peeked)
        {
            _verifiedCache = VerifiedCommitCache.For(_cacheDirectory, peeked);
            ScanPoint? remembered = _verifiedCache.LoadScanPoint();
            // What the snapshot took needs no new look; changes after it are read as usual.
            if (trustScanCache && (TryResume(peeked, out verifiedFrom) || TryAdoptNameIndex(peeked, out verifiedFrom))) _scannedOnTrust = true;
            _checkedUpTo = trustScanCache && remembered is { } point && point.Offset > _state.End.Offset ? remembered : null;
            _scannedOnTrust |= _checkedUpTo is not null;
            _savedScanOffset = remembered?.Offset ?? -1;
        }
        using (_file.LockShared()) ReadNewChanges();
        if (_state.KeynodeId is null || _state.OwnerPublicKey is null)
            throw _state.KeynodeId is null
                ? KeynodeLayout.NotAKeynode(Path)
                : PolykeyException.Failed($"keynode {Path} has no owner key in its first change", "run 'pk verify' for a full report");
        if (Legacy && !_legacyAllowed)
            throw PolykeyException.Failed(_state.FormatVersion == KeynodeLayout.LegacyFormatVersion
                    ? $"keynode {Path} uses format 1, whose versions do not name their history, so replayed versions cannot be told apart"
                    : $"keynode {Path} uses format {_state.FormatVersion}, whose versions do not name the keynode whose rules govern them, so they cannot be shared safely",
                $"upgrade it once with 'pk upgrade -k {Path}' (needs the owner's key; the old file is kept beside it)");
        FirstOwner = Identity.Load(_file.ReadData(_state.OwnerPublicKey.Value), $"the owner key of {Path}");
        _pins = ReaderPins.For(_stateDirectory, Id);
        if (_pins.Owner is { } pinned && pinned != FirstOwner.Fingerprint)
            throw PolykeyException.Failed(
                $"keynode {Path} now names owner {FirstOwner.Fingerprint}, but this user pinned owner {pinned} for it: the file was replaced by another keynode with the same id",
                $"if you replaced it on purpose, remove {_pins.Location} and open it again");
        _validator = new HistoryValidator(ReadSignedCommit);
        _verifiedCache ??= VerifiedCommitCache.For(_cacheDirectory, Id);
        // Commits below the snapshot's tips are never walked again: only what was listed since is of use.
        _validator.Trust(_verifiedCache.Load(verifiedFrom));
        AcceptMovedHistories();
        PublishWhatWasRead();
        if (_scannedOnTrust && _refusedSomething) throw new RescanNeeded();
        PinAccessList(atOpen: true);
        _loaded = true;
        RememberScanPoint();
        SaveSnapshotIfDue();
    }

    // Saves the end of what was hashed, when it moved, so the next open need not hash it again.
    private void RememberScanPoint()
    {
        if (_verifiedCache is null || _savedScanOffset == _state.End.Offset) return;
        _checkedUpTo = _state.End;
        _savedScanOffset = _state.End.Offset;
        _verifiedCache.SaveScanPoint(_state.End);
    }

    private (Commit, string?, byte[]) ReadSignedCommit(ObjectId id)
    {
        byte[] raw = ReadObject(id, ObjectType.Commit);
        (Commit commit, string? signature) = Git.Commit.Decode(id, raw);
        _decodedCommits.TryAdd(id, commit);
        return (commit, signature, Git.Commit.SignedPayload(raw));
    }

    /// <summary>Takes each moved ref only if it validates; a refused move is reported and the history keeps its accepted tip.</summary>
    private void AcceptMovedHistories()
    {
        if (_validator is null) return;
        // In file order; within a change, owner statements first: the versions the new owner
        // signed in the change that names it are checked against it.
        foreach (RefMove move in _unchecked.OrderBy(m => m.Change).ThenBy(m => StatementRank(m.Tip)).ToList())
        {
            string? refusal = CheckingAs(move.Change, () => AcceptProblem(move));
            if (refusal is not { } problem) continue;
            _refusedSomething = true;
            string warning = $"refused a change to secret history {move.Id[..8]}: {problem}";
            if (!Warnings.Contains(warning)) Warnings.Add(warning);
        }
        _unchecked.Clear();
        _verifiedCache?.Append(_validator.TakeNewlyVerifiedForGood());
        if (_loaded) PinAccessList(atOpen: false); // at open, Load compares with the pin first
    }

    /// <summary>Takes one ref move if it validates; null when taken (or of no concern here), else why it was refused.</summary>
    private string? AcceptProblem(RefMove move)
    {
        ObjectId? accepted = _accepted.TryGetValue(move.Id, out ObjectId a) ? a : null;
        if (move.Conflict)
        {
            // The other side's tip is kept (and shown) only if it is a valid version of this history.
            if (accepted is null) return "a conflicting version of a history this keynode does not hold";
            string? problem = CheckMove(move.Id, null, move.Tip);
            if (problem is null) _conflicts[move.Id] = move.Tip;
            return problem;
        }
        // A ref that names the tip already accepted (a compacted copy names them all) moves nothing.
        if (accepted == move.Tip) return null;
        string? refused = CheckMove(move.Id, accepted, move.Tip);
        // A new history of a keynode this one takes nothing from is none of its business (it may be
        // trusted later). Asked only of what the check refused: an open reads no commit twice for it.
        if (refused is not null) return accepted is null && UntrustedOrigin(move.Tip) ? null : refused;
        _accepted[move.Id] = move.Tip;
        NoteOwnerEnds(move.Id, accepted, move.Tip, move.Change);
        if (IsAccessHistory(move.Id, move.Tip)) _accessHistory = move.Id;
        else if (_index is not null) IndexHistory(_index, move.Id);
        else if (_movedIndex is not null) IndexHistory(_movedIndex, move.Id);
        return null;
    }

    private bool UntrustedOrigin(ObjectId tip)
    {
        try
        {
            return !Legacy && OriginOf(ReadCommit(tip)) is { } origin && OriginOwner(origin) is null;
        }
        catch (PolykeyException)
        {
            return false; // damage is reported by the check proper
        }
    }

    private string? CheckMove(string id, ObjectId? accepted, ObjectId candidate)
    {
        _checkingTip = candidate;
        try
        {
            return _validator!.Check(accepted, candidate, WriterOf, (commitId, commit, verified) => MeaningProblem(id, commitId, commit, verified));
        }
        catch (PolykeyException e)
        {
            return e.Message;
        }
        finally
        {
            _checkingTip = null;
        }
    }

    // Reads changes others committed since we last looked; updates the index for moved refs.
    private void ReadNewChanges()
    {
        ScanResult scan = _file.ReadChanges(_state.End, _checkedUpTo);
        if (scan.Changes.Count > 0 && _state.End.Offset == 0 && scan.Changes[0].Members.FirstOrDefault().Name != KeynodeLayout.HeaderMember)
            throw KeynodeLayout.NotAKeynode(Path);
        if (scan.Changes.Count == 0 && _state.End.Offset == 0)
            throw LooksLikeKeynode()
                ? PolykeyException.Failed($"keynode {Path} is incomplete: its first change was never finished",
                    "the file was cut while 'pk init' wrote it; create it again or restore a backup")
                : KeynodeLayout.NotAKeynode(Path);
        foreach (string warning in scan.Warnings.Where(w => !Warnings.Contains(w))) Warnings.Add(warning);
        var refused = new List<string>();
        _unchecked.AddRange(_state.Apply(scan, Path, refused));
        foreach (string warning in refused.Where(w => !Warnings.Contains(w))) Warnings.Add(warning);
        if (refused.Count > 0) _refusedSomething = true;
        AcceptMovedHistories();
        PublishWhatWasRead();
    }

    // What this handle has read, for lock-free questions: how many changes, and the file's length
    // when it holds nothing else (-1 until known).
    private long _readCount = -1;
    private long _readLength = -1;

    private void PublishWhatWasRead()
    {
        Volatile.Write(ref _readCount, _state.End.Sequence);
        Volatile.Write(ref _readLength, _state.End.Offset + ChangeWriter.EndOfArchiveLength);
    }

    /// <summary>
    /// Whether someone who has taken in <paramref name="changesSeen"/> of the changes this handle
    /// read (see <see cref="ChangeCount"/>) may find news in a keynode file of
    /// <paramref name="length"/> bytes: false only when they have taken in all this handle read,
    /// and the length is what it read or what its own append makes. Takes no lock, so a watcher
    /// can ask while a change is being written (and hear of it). A file renamed over this one is
    /// <see cref="Refresh"/>'s to find.
    /// </summary>
    public bool MayHoldNewChanges(long length, long changesSeen)
    {
        KeynodeFile file = _file;
        return changesSeen != Volatile.Read(ref _readCount)
            || length != Volatile.Read(ref _readLength) && length != file.AppendingTo;
    }

    private bool LooksLikeKeynode()
    {
        byte[] first = new byte[TarHeader.BlockSize];
        return RandomAccess.Read(_file.Handle, first, 0) == first.Length && KeynodeLayout.StartsAsKeynode(first);
    }

    /// <summary>Picks up changes made by other processes since the last read.</summary>
    public void Refresh()
    {
        lock (_gate)
        {
            // Changes only ever append: a file that still ends where our last change ended
            // (plus the archive's closing blocks) holds nothing new, and asking costs no
            // lock (a mount hears of each of its own appends).
            // A compaction renamed a new file over ours: following it reads that file whole.
            if (_file.Replaced)
            {
                FollowReplacement();
                return;
            }
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
            Credential.KeyFile keyFile when FormerOwnerKey(keyFile.Identity.Public.Fingerprint) => throw FormerOwnerCredential(keyFile),
            Credential.KeyFile keyFile => throw PolykeyException.Denied(
                $"identity {keyFile.Identity.Public.Fingerprint} from {keyFile.Source} holds no key for {Path}",
                $"the keynode's owner is {Owner.Fingerprint}"),
            Credential.Passphrase passphrase => UnsealOwnerKey(passphrase) is var unsealed && unsealed.Public.Fingerprint == Owner.Fingerprint
                ? unsealed
                : throw PolykeyException.Failed($"the sealed key in {Path} is not the key of its owner {Owner.Fingerprint}", "run 'pk verify' for a full report"),
            _ => throw new InvalidOperationException(),
        };
        return _identity;
    }

    private SecretIdentity UnsealOwnerKey(Credential.Passphrase passphrase)
    {
        // An owner key unlocked earlier (pk unlock) spares the passphrase and its key derivation.
        if (passphrase.UnlockedKey(Id, Owner.Fingerprint) is { } unlocked && unlocked.Public.Fingerprint == Owner.Fingerprint) return unlocked;
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

    public void Dispose()
    {
        SaveCaches();
        _file.Dispose();
        _snapshot?.Dispose();
        // Unmaps it and clears the keys derived to open it.
        _memo?.Dispose();
    }
}
