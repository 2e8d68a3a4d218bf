using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core.Sync;

/// <summary>
/// A keynode file read without any key, as a transport sees it: the refs and objects its changes
/// hold (the last ref of each history in file order, unvalidated) and an append that adds one
/// change under the file's lock. What it serves is ciphertext and public metadata; whoever
/// receives it validates everything.
/// </summary>
public sealed class KeynodeArchive : IHistoryTarget, IDisposable
{
    // Rewritten once this many refs moved, or bytes were appended, since the snapshot it resumed from.
    private const int MovesPerSnapshot = 32;
    private const long BytesPerSnapshot = 4L << 20;

    private readonly KeynodeFile _file;
    private KeynodeState _state = new();
    private OpenSnapshot? _snapshot;

    private KeynodeArchive(KeynodeFile file)
    {
        _file = file;
    }

    public string Location => _file.Path;
    public string KeynodeId => _state.KeynodeId!;
    public Identity Owner { get; private set; } = null!;
    public IReadOnlyDictionary<string, ObjectId> Tips => _state.SecretRefs;

    /// <summary>
    /// Opens a keynode file; a file that is not a keynode is a clear error. With
    /// <paramref name="cacheDirectory"/>, the file is read from where this user's last snapshot of
    /// it ends (docs/keynode-format.md §8.2, raw refs instead of accepted tips), so serving or
    /// pulling from a large keynode costs what changed since.
    /// </summary>
    public static KeynodeArchive Open(string path, string? cacheDirectory = null)
    {
        KeynodeFile file = KeynodeFile.Open(path);
        var archive = new KeynodeArchive(file);
        try
        {
            string? id = cacheDirectory is null ? null : file.PeekKeynodeId();
            if (id is not null) archive.TryResume(OpenSnapshot.ArchivePathFor(cacheDirectory!, id), id);
            using (file.LockShared()) archive.Read();
            if (archive._state.KeynodeId is null || archive._state.OwnerPublicKey is null) throw KeynodeLayout.NotAKeynode(path);
            if (archive._state.FormatVersion != KeynodeLayout.FormatVersion)
                throw PolykeyException.Failed($"keynode {path} uses format {archive._state.FormatVersion}; histories move only between format-{KeynodeLayout.FormatVersion} keynodes",
                    $"its owner upgrades it once with 'pk upgrade -k {path}'");
            archive.Owner = Identity.Load(file.ReadData(archive._state.OwnerPublicKey.Value), $"the owner key of {path}");
            if (id is not null) archive.SaveSnapshotIfDue(OpenSnapshot.ArchivePathFor(cacheDirectory!, id));
            return archive;
        }
        catch
        {
            archive.Dispose();
            throw;
        }
    }

    private bool _readCleanly = true;

    private void Read()
    {
        var warnings = new List<string>();
        ScanResult scan = _file.ReadChanges(_state.End);
        if (_state.End.Offset == 0 && (scan.Changes.Count == 0 || scan.Changes[0].Members.FirstOrDefault().Name != KeynodeLayout.HeaderMember))
            throw KeynodeLayout.NotAKeynode(_file.Path);
        _state.Apply(scan, _file.Path, warnings);
        _readCleanly &= warnings.Count == 0 && scan.Warnings.Count == 0 && _state.Unaccounted.Count == 0;
    }

    private void TryResume(string snapshotPath, string id)
    {
        if (OpenSnapshot.Load(snapshotPath, id, out _) is not { } snapshot) return;
        if (!_file.EndsWithRecord(snapshot.End))
        {
            snapshot.Dispose();
            return;
        }
        _snapshot = snapshot;
        _state = KeynodeState.Resume(id, snapshot.FormatVersion, snapshot.OwnerPublicKey, snapshot.OwnerSealedKey, snapshot.End, snapshot.Objects, snapshot.Accepted);
    }

    // Only a cleanly read file is worth a snapshot: damage is reported on every read, never remembered away.
    private void SaveSnapshotIfDue(string snapshotPath)
    {
        bool due = _snapshot is null || _state.RefsMovedSinceSnapshot >= MovesPerSnapshot || _state.End.Offset - _snapshot.End.Offset >= BytesPerSnapshot;
        if (!due || !_readCleanly || _state.End.Offset == _snapshot?.End.Offset || !_file.EndsWithRecord(_state.End)) return;
        OpenSnapshot.TrySave(snapshotPath, _state.KeynodeId!, _state.FormatVersion, _state.End, _state.OwnerPublicKey!.Value, _state.OwnerSealedKey,
            null, _state.SecretRefs, new Dictionary<string, ObjectId>(), _state.Objects, 0);
    }

    public bool Has(ObjectId id) => _state.TryGetObject(id, out _);

    public byte[]? ReadStored(ObjectId id) => _state.TryGetObject(id, out TarMember member) ? StoredObjects.ReadLoose(_file, id, member) : null;

    /// <summary>
    /// Appends one change under the file's exclusive lock, after reading what other writers added
    /// since: if a ref no longer stands where the sender saw it, nothing is written.
    /// </summary>
    public void Write(OutgoingChange change)
    {
        if (change.Refs.Count == 0) return;
        using (_file.LockExclusive())
        {
            Read();
            foreach (RefUpdate update in change.Refs)
            {
                ObjectId? now = _state.SecretRefs.TryGetValue(update.HistoryId, out ObjectId tip) ? tip : null;
                if (now != update.Expected)
                    throw PolykeyException.Conflict($"{Location} changed while pushing (history {update.HistoryId[..8]} moved); nothing was written",
                        "push again");
            }
            var members = new List<PendingMember>(change.Objects.Count + change.Refs.Count);
            foreach ((ObjectId id, byte[] stored) in change.Objects)
                if (!_state.TryGetObject(id, out _)) members.Add(new PendingMember(id.LoosePath, stored));
            foreach (RefUpdate update in change.Refs)
                members.Add(new PendingMember(KeynodeLayout.SecretRefPrefix + update.HistoryId, System.Text.Encoding.ASCII.GetBytes(update.Tip.Hex + "\n")));
            _file.WriteChange(_state.End, _state.WriteAt, members, DateTimeOffset.UtcNow);
        }
    }

    public void Dispose()
    {
        _file.Dispose();
        _snapshot?.Dispose();
    }
}
