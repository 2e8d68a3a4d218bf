using Polykey.Core.Git;

namespace Polykey.Core.Storage;

/// <summary>
/// Where a file's refs came from: the names met as loose ref members, and the entries of the
/// last packed-refs member taken. Extracted, the last packed-refs member is the one git reads,
/// and git prefers a loose ref to a packed one; so a packed-refs member is taken only when it
/// lists every entry of the one before it and moves no ref that a loose member named before it
/// (docs/keynode-format.md §4.4). Then the reader, which takes refs in file order, and git
/// agree on every tip.
/// </summary>
internal sealed class RefSources
{
    private readonly HashSet<string> _loose = new(StringComparer.Ordinal);
    private Dictionary<string, ObjectId> _packed = new(StringComparer.Ordinal);

    /// <summary>The entries of the last packed-refs member taken, by ref name.</summary>
    public IReadOnlyDictionary<string, ObjectId> Packed => _packed;

    public bool HasLoose(string refName) => _loose.Contains(refName);

    public void AddLoose(string refName) => _loose.Add(refName);

    public void AddLoose(RefSources later) => _loose.UnionWith(later._loose);

    /// <summary>
    /// Takes a packed-refs member's entries: returns those that move a ref (a name the last
    /// member lacked, or another tip), in its order; null with <paramref name="refused"/> saying
    /// why when it breaks the rule (nothing is taken then).
    /// </summary>
    public List<KeyValuePair<string, ObjectId>>? Take(List<KeyValuePair<string, ObjectId>> entries, out string refused)
    {
        refused = "";
        var next = new Dictionary<string, ObjectId>(entries, StringComparer.Ordinal);
        foreach (string name in _packed.Keys)
        {
            if (next.ContainsKey(name)) continue;
            refused = $"it drops {name}, which the packed-refs before it lists (extracted, that ref would be lost)";
            return null;
        }
        var moves = new List<KeyValuePair<string, ObjectId>>();
        foreach ((string name, ObjectId tip) in entries)
        {
            if (_packed.TryGetValue(name, out ObjectId before) && before == tip) continue;
            if (_loose.Contains(name))
            {
                refused = $"it moves {name}, which a loose ref before it names (git would read the loose one)";
                return null;
            }
            moves.Add(new(name, tip));
        }
        _packed = next;
        return moves;
    }

    /// <summary>What <paramref name="changes"/> say of their refs, replayed by the same rule (refusals are skipped, as when they were read).</summary>
    public static RefSources Replay(IEnumerable<Change> changes)
    {
        var sources = new RefSources();
        foreach (Change change in changes)
            foreach (TarMember member in change.Members)
            {
                if (member.Type != TarHeader.RegularFile) continue;
                if (IsRefName(member.Name)) sources.AddLoose(member.Name);
                else if (member.Name == PackLayout.PackedRefsMember && member.Inline is { } data && PackedRefs.TryRead(data, out _) is { } entries)
                    sources.Take(entries, out _);
            }
        return sources;
    }

    /// <summary>refs/secrets/ or refs/conflicts/ and a history id: a name git reads as a ref.</summary>
    public static bool IsRefName(string name) =>
        name.StartsWith(KeynodeLayout.SecretRefPrefix, StringComparison.Ordinal) && KeynodeLayout.IsHistoryId(name[KeynodeLayout.SecretRefPrefix.Length..])
        || name.StartsWith(KeynodeLayout.ConflictRefPrefix, StringComparison.Ordinal) && KeynodeLayout.IsHistoryId(name[KeynodeLayout.ConflictRefPrefix.Length..]);
}
