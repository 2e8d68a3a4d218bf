using Polykey.Core.Git;

namespace Polykey.Core;

/// <summary>One history as the index knows it: its id, tip, and what the tip says.</summary>
internal sealed record IndexEntry(string Id, ObjectId Tip, string Path, long Size, DateTimeOffset Modified, VersionKind Kind)
{
    public bool Removed => Kind is VersionKind.Removed or VersionKind.DirectoryRemoved;
    public bool IsDirectory => Kind is VersionKind.Directory or VersionKind.DirectoryRemoved;
    public bool Listed => Kind is not (VersionKind.AccessList or VersionKind.Rules or VersionKind.AsOf or VersionKind.Pruned or VersionKind.OwnerTransition or VersionKind.OwnerRevocation);
}

/// <summary>
/// Maps decrypted names to histories. Names live only inside encrypted messages, so the
/// index is built by decrypting each history's tip (or from the reader's name memo), and
/// updated per moved ref at a cost that does not grow with the keynode. Secrets and directory
/// records are kept apart: they never compete for a name.
/// </summary>
internal sealed class SecretIndex
{
    private readonly Dictionary<string, IndexEntry> _byId = new(StringComparer.Ordinal);
    // Every history carrying a name, by name: usually one; a removed and a live one may share it.
    private readonly Dictionary<string, List<IndexEntry>> _secrets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<IndexEntry>> _directories = new(StringComparer.Ordinal);
    // Histories known but never listed: access lists, rules views, as-of statements (entry kept),
    // and tips this reader cannot decrypt (no entry), so neither is decrypted again.
    private readonly Dictionary<string, (ObjectId Tip, IndexEntry? Entry)> _unlisted = new(StringComparer.Ordinal);

    public IEnumerable<IndexEntry> Live => _secrets.Values.Select(Shown).Where(e => !e.Removed);

    public IEnumerable<IndexEntry> Directories => _directories.Values.Select(Shown).Where(e => !e.Removed);

    public void Set(IndexEntry entry)
    {
        Forget(entry.Id);
        if (!entry.Listed)
        {
            _unlisted[entry.Id] = (entry.Tip, entry);
            return;
        }
        _byId[entry.Id] = entry;
        Dictionary<string, List<IndexEntry>> names = entry.IsDirectory ? _directories : _secrets;
        if (names.TryGetValue(entry.Path, out List<IndexEntry>? sharing)) sharing.Add(entry);
        else names[entry.Path] = [entry];
    }

    /// <summary>A history whose tip this reader cannot decrypt: not listed, and not tried again while the tip stands.</summary>
    public void SetUnreadable(string id, ObjectId tip)
    {
        Forget(id);
        _unlisted[id] = (tip, null);
    }

    /// <summary>What a cache noted of a history at <paramref name="tip"/>: its entry, or (none) that this reader cannot decrypt it.</summary>
    public void Set(string id, ObjectId tip, IndexEntry? entry)
    {
        if (entry is null) SetUnreadable(id, tip);
        else Set(entry);
    }

    public void Forget(string id)
    {
        _unlisted.Remove(id);
        if (!_byId.Remove(id, out IndexEntry? old)) return;
        Dictionary<string, List<IndexEntry>> names = old.IsDirectory ? _directories : _secrets;
        if (!names.TryGetValue(old.Path, out List<IndexEntry>? sharing)) return;
        sharing.RemoveAll(e => e.Id == id);
        if (sharing.Count == 0) names.Remove(old.Path);
    }

    /// <summary>Whether the index already holds what <paramref name="tip"/> says for history <paramref name="id"/>.</summary>
    public bool Holds(string id, ObjectId tip) =>
        _byId.TryGetValue(id, out IndexEntry? entry) ? entry.Tip == tip : _unlisted.TryGetValue(id, out var unlisted) && unlisted.Tip == tip;

    /// <summary>Everything the index learned by decrypting, for the name memo: entries, and unreadable tips (no entry).</summary>
    public IEnumerable<(string Id, ObjectId Tip, IndexEntry? Entry)> Known =>
        _byId.Values.Select(e => (e.Id, e.Tip, (IndexEntry?)e)).Concat(_unlisted.Select(u => (u.Key, u.Value.Tip, u.Value.Entry)));

    public IndexEntry? ById(string id) => _byId.GetValueOrDefault(id);

    /// <summary>What the index holds for a history, listed or not (no entry: its tip is unreadable here); false when nothing.</summary>
    public bool TryKnown(string id, out ObjectId tip, out IndexEntry? entry)
    {
        if (_byId.TryGetValue(id, out entry))
        {
            tip = entry.Tip;
            return true;
        }
        if (_unlisted.TryGetValue(id, out var unlisted))
        {
            (tip, entry) = unlisted;
            return true;
        }
        tip = default;
        return false;
    }

    /// <summary>The secret history that owns a name: a live one over a removed one, then the newest.</summary>
    public IndexEntry? Find(string path) => _secrets.TryGetValue(path, out List<IndexEntry>? sharing) ? Shown(sharing) : null;

    /// <summary>Every secret history carrying <paramref name="path"/>, live or removed.</summary>
    public IReadOnlyList<IndexEntry> Named(string path) => _secrets.TryGetValue(path, out List<IndexEntry>? sharing) ? sharing : [];

    public IndexEntry? FindLive(string path) => Find(path) is { Removed: false } e ? e : null;

    public IndexEntry? FindDirectory(string path) =>
        _directories.TryGetValue(path, out List<IndexEntry>? sharing) && Shown(sharing) is { Removed: false } e ? e : null;

    private static IndexEntry Shown(List<IndexEntry> sharing)
    {
        IndexEntry best = sharing[0];
        for (int i = 1; i < sharing.Count; i++)
            if (Rank(sharing[i]).CompareTo(Rank(best)) >= 0) best = sharing[i];
        return best;
    }

    private static (bool, DateTimeOffset) Rank(IndexEntry e) => (!e.Removed, e.Modified);
}
