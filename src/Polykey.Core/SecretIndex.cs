using Polykey.Core.Git;

namespace Polykey.Core;

/// <summary>One secret history as the index knows it: its id, tip, and what the tip says.</summary>
internal sealed record IndexEntry(string Id, ObjectId Tip, string Path, long Size, DateTimeOffset Modified, bool Removed);

/// <summary>
/// Maps decrypted secret names to their histories. Names live only inside encrypted
/// messages, so the index is built by decrypting each history's tip, and updated per moved ref.
/// </summary>
internal sealed class SecretIndex
{
    private readonly Dictionary<string, IndexEntry> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IndexEntry> _byPath = new(StringComparer.Ordinal);

    public IEnumerable<IndexEntry> Live => _byPath.Values.Where(e => !e.Removed);

    public void Set(IndexEntry entry)
    {
        if (_byId.Remove(entry.Id, out IndexEntry? old) && _byPath.TryGetValue(old.Path, out IndexEntry? atOld) && atOld.Id == old.Id)
        {
            _byPath.Remove(old.Path);
            // Another history may carry the old name too (a removed one); let it show again.
            IndexEntry? other = _byId.Values.Where(e => e.Path == old.Path).OrderBy(Rank).LastOrDefault();
            if (other is not null) _byPath[other.Path] = other;
        }
        _byId[entry.Id] = entry;
        if (!_byPath.TryGetValue(entry.Path, out IndexEntry? current) || Rank(entry).CompareTo(Rank(current)) >= 0)
            _byPath[entry.Path] = entry;
    }

    public void Forget(string id)
    {
        if (!_byId.Remove(id, out IndexEntry? old)) return;
        if (_byPath.TryGetValue(old.Path, out IndexEntry? atOld) && atOld.Id == id) _byPath.Remove(old.Path);
    }

    /// <summary>The history that owns a name: a live one over a removed one, then the newest.</summary>
    public IndexEntry? Find(string path) => _byPath.GetValueOrDefault(path);

    public IndexEntry? FindLive(string path) => Find(path) is { Removed: false } e ? e : null;

    private static (bool, DateTimeOffset) Rank(IndexEntry e) => (!e.Removed, e.Modified);
}
