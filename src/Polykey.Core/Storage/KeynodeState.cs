using System.Text;
using Polykey.Core.Git;

namespace Polykey.Core.Storage;

/// <summary>
/// What the committed changes of a keynode add up to: its header, owner key material (both
/// fixed by the first change), git objects (as places in the file) and secret refs. Built by
/// replaying changes in order; a member that breaks the format is refused on its own, with a
/// warning, and the rest of its change still counts.
/// </summary>
/// <summary>A ref member: a history's new tip, or the tip of another keynode's version that conflicts with it.</summary>
/// <param name="Change">The sequence number of the change that holds it (0 for a move not read from the file).</param>
internal readonly record struct RefMove(string Id, ObjectId Tip, bool Conflict, long Change = 0);

internal sealed class KeynodeState
{
    private readonly Dictionary<ObjectId, TarMember> _objects = new();
    private TipMap _secretRefs = new();
    // Objects up to where an open snapshot was taken, searched in place; _objects holds those read since.
    private ObjectTable? _snapshotObjects;
    // Where refs came from (loose or packed); null after resuming from a snapshot until a packed-refs
    // member needs it: then rebuilt from the file before _sourcesFrom, and _sourcesSince added.
    private RefSources? _refSources = new();
    private RefSources _sourcesSince = new();
    private ScanPoint _sourcesFrom = ScanPoint.Origin;
    private Func<ScanPoint, ScanResult>? _readEarlier;
    // Packs of the change being applied that still wait for their index.
    private readonly Dictionary<string, TarMember> _unpairedPacks = new(StringComparer.Ordinal);

    public string? KeynodeId { get; private set; }
    public int FormatVersion { get; private set; }
    public TarMember? OwnerPublicKey { get; private set; }
    public TarMember? OwnerSealedKey { get; private set; }
    public ScanPoint End { get; private set; } = ScanPoint.Origin;

    /// <summary>Where the next change starts (past any bytes that belong to no change).</summary>
    public long WriteAt { get; private set; }

    public IReadOnlyDictionary<string, ObjectId> SecretRefs => _secretRefs;

    /// <summary>How many refs moved since the snapshot this state resumed from (all of them, without one).</summary>
    public int RefsMovedSinceSnapshot => _secretRefs.MovedSinceRecorded;

    private readonly List<string> _gaps = new();
    private string? _tail;

    /// <summary>Bytes that belong to no change: every gap between changes, and what follows the last one now.</summary>
    public IReadOnlyList<string> Unaccounted => _tail is null ? _gaps : [.. _gaps, _tail];

    public bool TryGetObject(ObjectId id, out TarMember member) =>
        _objects.TryGetValue(id, out member) || _snapshotObjects?.TryGet(id, out member) == true;

    public IEnumerable<ObjectId> ObjectIds => Objects.Select(o => o.Key);

    /// <summary>Every object once (a delta's own copy of a snapshot object is left out: both places hold the same bytes).</summary>
    public IEnumerable<KeyValuePair<ObjectId, TarMember>> Objects =>
        _snapshotObjects is not { } table ? _objects : table.All().Concat(_objects.Where(o => !table.Contains(o.Key)));

    /// <summary>
    /// The state an open snapshot recorded at <paramref name="end"/>: what the file held then, as
    /// this reader took it. Changes after it are applied as usual. A keynode's snapshot keeps the
    /// tips it accepted instead of the raw refs (it reads only those); an archive's, the raw refs.
    /// </summary>
    public static KeynodeState Resume(string keynodeId, int formatVersion, TarMember ownerPublicKey, TarMember? ownerSealedKey,
        ScanPoint end, ObjectTable objects, TipRun? refs = null) => new()
    {
        _secretRefs = new TipMap(refs),
        KeynodeId = keynodeId,
        FormatVersion = formatVersion,
        OwnerPublicKey = ownerPublicKey,
        OwnerSealedKey = ownerSealedKey,
        End = end,
        WriteAt = end.Offset,
        _snapshotObjects = objects,
        _refSources = null,
        _sourcesFrom = end,
    };

    /// <summary>Takes what a snapshot's delta recorded: the objects added up to its end, and that end.</summary>
    public void ResumeDelta(ScanPoint end, IEnumerable<KeyValuePair<ObjectId, TarMember>> objects)
    {
        // Not looked up in the snapshot's table first: a delta holds only objects added after it,
        // and a binary search over cold pages per object cost 8 ms of a 45 ms get after 130 sets.
        if (objects.TryGetNonEnumeratedCount(out int count)) _objects.EnsureCapacity(_objects.Count + count);
        foreach ((ObjectId id, TarMember member) in objects) _objects.TryAdd(id, member);
        End = end;
        WriteAt = end.Offset;
        _sourcesFrom = end;
    }

    /// <summary>
    /// Where this file's refs came from, for a writer choosing between loose refs and packed-refs;
    /// null when that cannot be known (a resumed state that cannot read the file before its snapshot).
    /// </summary>
    public RefSources? RefSources()
    {
        if (_refSources is not null || _readEarlier is null) return _refSources;
        try
        {
            ScanResult earlier = _readEarlier(_sourcesFrom);
            if (earlier.End.Offset != _sourcesFrom.Offset) return null;
            _refSources = Storage.RefSources.Replay(earlier.Changes);
            _refSources.AddLoose(_sourcesSince);
        }
        catch (PolykeyException)
        {
            return null;
        }
        return _refSources;
    }

    /// <summary>Objects read since the snapshot this state resumed from (all of them, without one).</summary>
    public IReadOnlyCollection<KeyValuePair<ObjectId, TarMember>> ObjectsSinceSnapshot => _objects;

    /// <summary>
    /// Applies changes; returns every ref update, in file order (readers validate each in turn),
    /// and adds a warning for each refused member. A bad member in the first change is not
    /// refused but fails the whole keynode: that change says what the keynode is.
    /// </summary>
    public List<RefMove> Apply(ScanResult scan, string fileLabel, List<string> warnings)
    {
        var moved = new List<RefMove>();
        _readEarlier = scan.Earlier ?? _readEarlier;
        foreach (Change change in scan.Changes)
        {
            _unpairedPacks.Clear();
            for (int i = 0; i < change.Members.Count; i++)
            {
                TarMember member = change.Members[i];
                Refuse(member, ApplyMember(member, change.Sequence, i == 0, fileLabel, moved), change.Sequence, fileLabel, warnings);
            }
            foreach (TarMember pack in _unpairedPacks.Values)
                Refuse(pack, "no index of this pack follows it in its change", change.Sequence, fileLabel, warnings);
            End = new ScanPoint(change.End, change.Sequence, change.RecordHash, change.Layout);
        }
        WriteAt = scan.WriteAt;
        _gaps.AddRange(scan.Gaps);
        _tail = scan.Tail;
        return moved;
    }

    private static void Refuse(TarMember member, string? refused, long changeSequence, string fileLabel, List<string> warnings)
    {
        if (refused is null) return;
        string what = $"member \"{Printable(member.Name)}\" of change {changeSequence} (byte {member.DataOffset - TarHeader.BlockSize}) in {fileLabel}: {refused}";
        // The first change fixes what the keynode is: its header and owner are not up for refusal.
        if (changeSequence == 1) throw PolykeyException.Failed($"keynode {fileLabel} has a malformed first change: {what}", "restore the file from a backup");
        warnings.Add("refused " + what);
    }

    /// <summary>Null when the member was taken or is none of a keynode's business; else why it was refused.</summary>
    private string? ApplyMember(TarMember member, long changeSequence, bool firstMember, string fileLabel, List<RefMove> moved)
    {
        bool firstChange = changeSequence == 1;
        string name = member.Name;
        bool known = name is KeynodeLayout.HeaderMember or KeynodeLayout.OwnerPublicKeyMember or KeynodeLayout.OwnerSealedKeyMember
            || name.StartsWith("objects/", StringComparison.Ordinal) && !name.EndsWith('/')
            || name.StartsWith(KeynodeLayout.SecretRefPrefix, StringComparison.Ordinal) && !name.EndsWith('/')
            || name.StartsWith(KeynodeLayout.ConflictRefPrefix, StringComparison.Ordinal) && !name.EndsWith('/')
            || name == PackLayout.PackedRefsMember;
        if (!known) return null; // HEAD, config, directories and names pk does not know carry no keynode state
        if (member.Type != TarHeader.RegularFile) return $"it is a tar member of type '{Printable(member.Type.ToString())}', not a regular file";

        switch (name)
        {
            case KeynodeLayout.HeaderMember:
                if (!firstChange || !firstMember) return "the format header belongs only at the start of the first change";
                (KeynodeId, FormatVersion) = KeynodeLayout.ParseHeader(member.Inline ?? [], fileLabel);
                return null;
            case KeynodeLayout.OwnerPublicKeyMember:
                if (!firstChange) return "the owner key is fixed by the first change";
                if (member.Inline is null) return "it is larger than an owner key can be";
                OwnerPublicKey = member;
                return null;
            case KeynodeLayout.OwnerSealedKeyMember:
                // A later one seals the key an owner rotation moved to. It is only a candidate: a
                // reader uses what it unseals only if that is the current owner's key (the owner
                // history decides who that is, never this member).
                if (member.Inline is null) return "it is larger than a sealed key can be";
                OwnerSealedKey = member;
                return null;
        }

        if (name.StartsWith(PackLayout.PackDirectory, StringComparison.Ordinal)) return ApplyPackMember(member);
        if (name == PackLayout.PackedRefsMember) return ApplyPackedRefs(member, changeSequence, moved);
        if (name.StartsWith("objects/", StringComparison.Ordinal))
        {
            if (name.Length != 49 || name[10] != '/' || !IsLowerHex(name.AsSpan(8, 2)) || !IsLowerHex(name.AsSpan(11))
                || !ObjectId.TryParse(name[8..10] + name[11..], out ObjectId id))
                return "not a git object name";
            // Objects are named by their content: the first copy stands, a later one of the same name adds nothing.
            if (_snapshotObjects?.Contains(id) != true) _objects.TryAdd(id, member);
            return null;
        }

        bool conflict = name.StartsWith(KeynodeLayout.ConflictRefPrefix, StringComparison.Ordinal);
        string secretId = name[(conflict ? KeynodeLayout.ConflictRefPrefix : KeynodeLayout.SecretRefPrefix).Length..];
        if (!KeynodeLayout.IsHistoryId(secretId)) return "a history id is 32 lower-case hex digits";
        // Named like a ref, it is one to git once extracted, whatever its data: packed-refs may not move it after this.
        (_refSources ?? _sourcesSince).AddLoose(name);
        if (member.Inline is not { Length: 41 } data || data[40] != (byte)'\n' || !IsLowerHex(Encoding.ASCII.GetString(data, 0, 40))
            || !ObjectId.TryParse(Encoding.ASCII.GetString(data, 0, 40), out ObjectId tip))
            return "a ref holds one commit id (40 lower-case hex digits and a newline)";
        if (!conflict) _secretRefs[secretId] = tip;
        moved.Add(new RefMove(secretId, tip, conflict, changeSequence));
        return null;
    }

    /// <summary>A pack waits for its index; an index registers every object of the pack before it, once both add up.</summary>
    private string? ApplyPackMember(TarMember member)
    {
        if (PackLayout.ChecksumOf(member.Name) is not { } checksum) return "not a pack or pack index name (objects/pack/pack- and 40 lower-case hex digits, .pack or .idx)";
        if (PackLayout.IsPack(member.Name))
        {
            if (member.PackEnds is not { } ends) return "it is shorter than a pack's header and checksum";
            if (!ends.AsSpan(0, 8).SequenceEqual("PACK\0\0\0\x02"u8)) return "not a version 2 git pack";
            if (!Convert.ToHexStringLower(ends.AsSpan(Git.PackIndex.PackHeaderBytes)).Equals(checksum, StringComparison.Ordinal)) return "its name is not its checksum";
            _unpairedPacks[checksum] = member;
            return null;
        }
        if (!_unpairedPacks.Remove(checksum, out TarMember pack)) return "no pack of this name comes before it in its change";
        if (member.Inline is not { } index) return "it is larger than a pack index may be";
        if (Git.PackIndex.TryRead(index, pack.Size, out byte[] packChecksum, out string refused) is not { } places) return refused;
        if (!Convert.ToHexStringLower(packChecksum).Equals(checksum, StringComparison.Ordinal)) return "it indexes another pack than its name says";
        uint count = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(pack.PackEnds.AsSpan(8));
        if (count != places.Count) return $"its pack holds {count} objects, it names {places.Count}";
        foreach (Git.PackedPlace place in places)
        {
            // Named by content, as loose objects: the first place of a name stands.
            if (_snapshotObjects?.Contains(place.Id) == true) continue;
            _objects.TryAdd(place.Id, new TarMember(place.Id.LoosePath, pack.DataOffset + place.Offset, place.Length, TarMember.PackedObject));
        }
        return null;
    }

    /// <summary>A packed-refs member's entries, taken as ref moves in its order when it keeps the rule of <see cref="Storage.RefSources"/>.</summary>
    private string? ApplyPackedRefs(TarMember member, long changeSequence, List<RefMove> moved)
    {
        if (member.Inline is not { } data) return "it is larger than packed-refs may be";
        if (Git.PackedRefs.TryRead(data, out string refused) is not { } entries) return refused;
        if (RefSources() is not { } sources) return "the refs before it cannot be read, so it cannot be checked against them";
        if (sources.Take(entries, out refused) is not { } moves) return refused;
        foreach ((string name, ObjectId tip) in moves)
        {
            bool conflict = name.StartsWith(KeynodeLayout.ConflictRefPrefix, StringComparison.Ordinal);
            string id = name[(conflict ? KeynodeLayout.ConflictRefPrefix : KeynodeLayout.SecretRefPrefix).Length..];
            if (!conflict) _secretRefs[id] = tip;
            moved.Add(new RefMove(id, tip, conflict, changeSequence));
        }
        return null;
    }

    private static bool IsLowerHex(ReadOnlySpan<char> text) => !text.IsEmpty && !text.ContainsAnyExcept("0123456789abcdef");

    /// <summary>Member names come from the file: shown with control characters escaped.</summary>
    public static string Printable(string text)
    {
        var sb = new StringBuilder();
        foreach (char c in text.Length > 120 ? text[..120] + "…" : text)
            sb.Append(char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString());
        return sb.ToString();
    }
}
