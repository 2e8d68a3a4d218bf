using Polykey.Core.Git;
using Polykey.Core.Storage;
using Polykey.Core.Sync;

namespace Polykey.Core;

/// <summary>What <see cref="Keynode.Compact"/> did: the file's size before and after, and what it kept.</summary>
public sealed record CompactReport(long BytesBefore, long BytesAfter, int Histories, int Objects)
{
    /// <summary>Versions whose values this run dropped from the file (a pruned statement covers them); their commits and trees stay.</summary>
    public int PrunedVersions { get; init; }
}

/// <summary>
/// Compaction (`pk gc`): the keynode written again with only what this reader accepted, each
/// object once, a history's objects together, and one ref per history; superseded refs and
/// records, refused members, gaps and unfinished appends are left behind. Versions, signatures
/// and ids are copied byte for byte, so every history, signature and verify result is unchanged.
/// The new file is written beside the old one, made durable, and renamed over it: a crash leaves
/// one or the other whole. Handles open on the old file (a mount, a writer waiting for the lock)
/// notice the rename and go on with the new one.
/// </summary>
public sealed partial class Keynode
{
    // Objects are written in changes of about this much, so memory stays bounded whatever the keynode's size.
    private const long CompactChangeBytes = 64L << 20;

    public CompactReport Compact(IProgress<TransferProgress>? progress = null)
    {
        lock (_gate)
        {
            FileLock held = LockForWriting();
            string temporary = $"{Path}.gc-{Environment.ProcessId}";
            try
            {
                long before = RandomAccess.GetLength(_file.Handle);
                RemoveUnfinishedCompactions();
                ReadNewChanges();
                RequireNothingRefused();
                List<ObjectId> objects = ReachableObjects(progress, out int valuesDropped);
                int written = WriteCompacted(temporary, objects, progress);
                File.Move(temporary, Path, overwrite: true);
                Native.LibC.FsyncDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
                held.Dispose();
                FollowReplacement();
                return new CompactReport(before, RandomAccess.GetLength(_file.Handle), _accepted.Count, written) { PrunedVersions = valuesDropped };
            }
            catch
            {
                held.Dispose();
                try { File.Delete(temporary); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
                throw;
            }
        }
    }

    private void RequireNothingRefused()
    {
        if (_refusedSomething || Warnings.Count > _cacheWarnings)
            throw PolykeyException.Failed($"keynode {Path} holds damage or refused changes; compaction would drop them without a trace",
                "run 'pk verify' and deal with what it reports first; nothing was changed");
    }

    // A compaction killed before its rename left its file behind; with the writer lock held, none is running.
    private void RemoveUnfinishedCompactions()
    {
        string directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        foreach (string left in Directory.EnumerateFiles(directory, System.IO.Path.GetFileName(Path) + ".gc-*"))
        {
            try { File.Delete(left); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    /// <summary>The writer lock on the file the path names now, following a compaction that replaced it meanwhile.</summary>
    private FileLock LockForWriting()
    {
        while (true)
        {
            FileLock held = _file.LockExclusive();
            if (!_file.Replaced) return held;
            held.Dispose();
            FollowReplacement();
        }
    }

    /// <summary>
    /// Moves this handle to the file now at its path (a compacted copy): read from its start,
    /// every ref validated against the tips this handle accepted, as any change is. A file of
    /// another keynode is refused.
    /// </summary>
    private void FollowReplacement()
    {
        KeynodeFile next = KeynodeFile.Open(Path);
        if (next.PeekKeynodeId() != Id)
        {
            next.Dispose();
            throw PolykeyException.Failed($"keynode {Path} was replaced by a file that is not keynode {Id}",
                "another program replaced the file; open it again to see what it holds");
        }
        _file.Dispose();
        _file = next;
        _state = new KeynodeState();
        _checkedUpTo = null;
        _wholeFileCheck = null;
        // The snapshot stays mapped (the accepted tips are read through it) but describes the old file.
        _snapshotRewritten = true;
        _savedEnd = -1;
        using (_file.LockShared()) ReadNewChanges();
    }

    // Every object of every accepted history and open conflict, a history's together, newest version first;
    // without the values a pruned statement covers (a tip's value is always kept).
    private List<ObjectId> ReachableObjects(IProgress<TransferProgress>? progress, out int valuesDropped)
    {
        valuesDropped = 0;
        var tipSet = _accepted.Values.Concat(_conflicts.Values).ToHashSet();
        var seen = new HashSet<ObjectId>();
        var ordered = new List<ObjectId>();
        var tips = _accepted.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => t.Value)
            .Concat(_conflicts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Value)).ToList();
        int done = 0;
        foreach (ObjectId tip in tips)
        {
            progress?.Report(new TransferProgress("reading", done++, tips.Count));
            var pending = new Stack<ObjectId>();
            pending.Push(tip);
            while (pending.TryPop(out ObjectId id))
            {
                if (!seen.Add(id)) continue;
                Commit commit = ReadCommit(id);
                ordered.Add(id);
                if (seen.Add(commit.Tree)) ordered.Add(commit.Tree);
                IEnumerable<ObjectId> entries = Tree.Decode(ReadObject(commit.Tree, ObjectType.Tree)).Values;
                // A pruned value is not marked seen: a version that is kept may share its blob.
                if (!tipSet.Contains(id) && IsPruned(id, commit))
                {
                    if (entries.Any(HoldsObject)) valuesDropped++;
                }
                else
                {
                    foreach (ObjectId entry in entries)
                        if (seen.Add(entry)) ordered.Add(entry);
                }
                foreach (ObjectId parent in commit.Parents) pending.Push(parent);
            }
        }
        return ordered;
    }

    private int RefRank(string id, ObjectId tip) =>
        id == _accessHistory ? 0 : KindOfCommit(tip) is VersionKind.Rules or VersionKind.Pruned ? 1 : 2;

    // Refs last, in the change that closes the file: a reader meets every object before the tip that needs it.
    // The histories other checks lean on come first, loose: the access list and rules views (grantee
    // signatures) and pruned statements (versions whose values are gone); then the rest as one
    // packed-refs member; conflicts, loose, last.
    private List<PendingMember> CompactedRefs()
    {
        var first = new List<PendingMember>();
        var rest = new Dictionary<string, ObjectId>(StringComparer.Ordinal);
        foreach ((string id, ObjectId tip) in _accepted.OrderBy(t => RefRank(t.Key, t.Value)).ThenBy(t => t.Key, StringComparer.Ordinal))
        {
            if (RefRank(id, tip) < 2) first.Add(LooseRef(KeynodeLayout.SecretRefPrefix + id, tip));
            else rest[KeynodeLayout.SecretRefPrefix + id] = tip;
        }
        var refs = new List<PendingMember>(first);
        if (PackedChange.PackedRefsMember(new Dictionary<string, ObjectId>(), rest) is { } packed) refs.Add(packed);
        else refs.AddRange(rest.Select(r => LooseRef(r.Key, r.Value)));
        foreach ((string id, ObjectId tip) in _conflicts.OrderBy(c => c.Key, StringComparer.Ordinal))
            refs.Add(LooseRef(KeynodeLayout.ConflictRefPrefix + id, tip));
        return refs;
    }

    private static PendingMember LooseRef(string name, ObjectId tip) => new(name, System.Text.Encoding.ASCII.GetBytes(tip.Hex + "\n"));

    private int WriteCompacted(string temporary, List<ObjectId> objects, IProgress<TransferProgress>? progress)
    {
        var first = new List<PendingMember>
        {
            new(KeynodeLayout.HeaderMember, KeynodeLayout.Header(Id)),
            new(KeynodeLayout.OwnerPublicKeyMember, _file.ReadData(_state.OwnerPublicKey!.Value)),
        };
        if (_state.OwnerSealedKey is { } sealedKey) first.Add(new PendingMember(KeynodeLayout.OwnerSealedKeyMember, _file.ReadData(sealedKey)));
        first.AddRange(KeynodeLayout.GitSkeleton());
        DateTimeOffset now = DateTimeOffset.UtcNow;
        if (File.Exists(temporary)) File.Delete(temporary);
        using KeynodeFile output = KeynodeFile.Create(temporary, first, now);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temporary, File.GetUnixFileMode(Path));
        ScanPoint at;
        using (output.LockShared()) at = output.ReadChanges(ScanPoint.Origin).End;

        // Objects as packs, one per change, and refs as packed-refs (docs/keynode-format.md §4.3, §4.4).
        var batch = new List<WholeObject>();
        long batchBytes = 0;
        void Flush(IEnumerable<PendingMember> refs)
        {
            List<PendingMember> members = batch.Count == 0 ? [] : PackedChange.Packs(batch);
            members.AddRange(refs);
            if (members.Count == 0) return;
            Change change = output.WriteChange(at, at.Offset, members, now);
            at = new ScanPoint(change.End, change.Sequence, change.RecordHash);
            batch.Clear();
            batchBytes = 0;
        }
        for (int i = 0; i < objects.Count; i++)
        {
            if (i % 1024 == 0) progress?.Report(new TransferProgress("writing", i, objects.Count));
            WholeObject whole = _state.TryGetObject(objects[i], out TarMember member)
                ? StoredObjects.ReadWhole(_file, objects[i], member)
                : throw PolykeyException.Failed($"keynode {Path} lacks git object {objects[i]}", "run 'pk verify' for a full report; nothing was changed");
            batch.Add(whole);
            batchBytes += whole.Content.Length + 64;
            if (batchBytes >= CompactChangeBytes || batch.Count == Limits.MaxPackObjects) Flush([]);
        }
        Flush(CompactedRefs());
        progress?.Report(new TransferProgress("writing", objects.Count, objects.Count));
        return objects.Count;
    }
}
