using System.Text;
using Polykey.Core.Git;

namespace Polykey.Core.Storage;

/// <summary>
/// Writes a change's objects as packs and its refs as packed-refs (docs/keynode-format.md §4.3,
/// §4.4) when that saves room: a loose object or ref costs a 512-byte header and data padded to
/// 512 bytes (about 4 KiB per version of a small secret), a packed one its own bytes. Small
/// changes (one `pk set`) stay loose: they are what a loose member suits.
/// </summary>
internal static class PackedChange
{
    /// <summary>A change with at least this many objects (an import, a grant re-encrypting many secrets) is written packed.</summary>
    public const int MinObjects = 64;

    // Each packed-refs member repeats every entry of the one before it: one is written only when
    // the change adds at least an eighth of its entries, so repeats cost a few times the refs, at most.
    private const int MaxEntriesPerNewRef = 8;

    /// <summary>The pack members for <paramref name="objects"/>: a pack and its index per <see cref="Limits.MaxPackObjects"/> objects.</summary>
    public static List<PendingMember> Packs(IReadOnlyList<WholeObject> objects)
    {
        var members = new List<PendingMember>();
        for (int from = 0; from < objects.Count; from += Limits.MaxPackObjects)
        {
            (string name, byte[] pack, byte[] index) = PackWriter.Write(objects.Skip(from).Take(Limits.MaxPackObjects));
            members.Add(new PendingMember(PackLayout.PackMember(name), pack));
            members.Add(new PendingMember(PackLayout.IndexMember(name), index));
        }
        return members;
    }

    /// <summary>
    /// A packed-refs member holding <paramref name="previous"/>'s entries and <paramref name="refs"/>
    /// (which win), or null when it may not or should not be written: too many entries, or too
    /// few new ones for what it repeats.
    /// </summary>
    public static PendingMember? PackedRefsMember(IReadOnlyDictionary<string, ObjectId> previous, IReadOnlyDictionary<string, ObjectId> refs)
    {
        var merged = new Dictionary<string, ObjectId>(previous, StringComparer.Ordinal);
        foreach ((string name, ObjectId tip) in refs) merged[name] = tip;
        if (refs.Count == 0 || merged.Count > Limits.MaxPackedRefs || merged.Count > MaxEntriesPerNewRef * (long)refs.Count) return null;
        return new PendingMember(PackLayout.PackedRefsMember, PackedRefs.Write(merged));
    }

    /// <summary>
    /// The members of a change as written: unchanged when small; else its loose objects as packs,
    /// first, and the refs no loose ref of the file names as one packed-refs member where the
    /// first of them stood (the others keep their places).
    /// </summary>
    public static IReadOnlyList<PendingMember> Of(IReadOnlyList<PendingMember> members, KeynodeState state)
    {
        List<PendingMember> loose = members.Where(IsLooseObject).ToList();
        if (loose.Count < MinObjects) return members;
        var written = Packs(loose.Select(m => Whole(m)).ToList());
        PendingMember? packedRefs = null;
        var packable = new Dictionary<string, ObjectId>(StringComparer.Ordinal);
        List<PendingMember> refs = members.Where(m => m.Name.StartsWith(KeynodeLayout.SecretRefPrefix, StringComparison.Ordinal)).ToList();
        if (refs.Select(r => r.Name).Distinct().Count() == refs.Count && state.RefSources() is { } sources)
        {
            foreach (PendingMember r in refs.Where(r => !sources.HasLoose(r.Name)))
                packable[r.Name] = new ObjectId(Encoding.ASCII.GetString(r.Data!, 0, 40));
            packedRefs = PackedRefsMember(sources.Packed, packable);
        }
        bool placed = false;
        foreach (PendingMember member in members)
        {
            if (IsLooseObject(member)) continue;
            if (packedRefs is not null && packable.ContainsKey(member.Name))
            {
                if (!placed) written.Add(packedRefs);
                placed = true;
                continue;
            }
            written.Add(member);
        }
        return written;
    }

    private static bool IsLooseObject(PendingMember member) =>
        member.Data is not null && member.Name.Length == 49 && member.Name.StartsWith("objects/", StringComparison.Ordinal) && member.Name[10] == '/';

    private static WholeObject Whole(PendingMember member)
    {
        var id = new ObjectId(member.Name[8..10] + member.Name[11..]);
        (ObjectType type, byte[] content) = LooseObject.Decode(id, member.Data!);
        return new WholeObject(id, type, content);
    }
}
