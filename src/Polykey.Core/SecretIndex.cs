using Polykey.Core.Git;

namespace Polykey.Core;

/// <summary>One history as the index knows it: its id, tip, and what the tip says.</summary>
internal sealed record IndexEntry(string Id, ObjectId Tip, string Path, long Size, DateTimeOffset Modified, VersionKind Kind)
{
    public bool Removed => Kind is VersionKind.Removed or VersionKind.DirectoryRemoved;
    public bool IsDirectory => Kind is VersionKind.Directory or VersionKind.DirectoryRemoved;
}

/// <summary>
/// Maps decrypted names to histories. Names live only inside encrypted messages, so the
/// index is built by decrypting each history's tip, and updated per moved ref. Secrets and
/// directory records are kept apart: they never compete for a name.
/// </summary>
internal sealed class SecretIndex
{
    private readonly Dictionary<string, IndexEntry> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IndexEntry> _secrets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IndexEntry> _directories = new(StringComparer.Ordinal);

    public IEnumerable<IndexEntry> Live => _secrets.Values.Where(e => !e.Removed);

    public IEnumerable<IndexEntry> Directories => _directories.Values;

    public void Set(IndexEntry entry)
    {
        Forget(entry.Id);
        if (entry.Kind is VersionKind.AccessList or VersionKind.Rules or VersionKind.AsOf) return; // kept by the keynode itself, never listed
        _byId[entry.Id] = entry;
        if (entry.IsDirectory)
        {
            if (!entry.Removed) _directories[entry.Path] = entry;
            return;
        }
        if (!_secrets.TryGetValue(entry.Path, out IndexEntry? current) || Rank(entry).CompareTo(Rank(current)) >= 0)
            _secrets[entry.Path] = entry;
    }

    public void Forget(string id)
    {
        if (!_byId.Remove(id, out IndexEntry? old)) return;
        Dictionary<string, IndexEntry> names = old.IsDirectory ? _directories : _secrets;
        if (!names.TryGetValue(old.Path, out IndexEntry? atOld) || atOld.Id != id) return;
        names.Remove(old.Path);
        // Another history may carry the same name (a removed one, say); let it show again.
        IndexEntry? other = _byId.Values.Where(e => e.Path == old.Path && e.IsDirectory == old.IsDirectory && !(e.IsDirectory && e.Removed))
            .OrderBy(Rank).LastOrDefault();
        if (other is not null) names[other.Path] = other;
    }

    public IndexEntry? ById(string id) => _byId.GetValueOrDefault(id);

    /// <summary>The secret history that owns a name: a live one over a removed one, then the newest.</summary>
    public IndexEntry? Find(string path) => _secrets.GetValueOrDefault(path);

    public IndexEntry? FindLive(string path) => Find(path) is { Removed: false } e ? e : null;

    public IndexEntry? FindDirectory(string path) => _directories.GetValueOrDefault(path);

    private static (bool, DateTimeOffset) Rank(IndexEntry e) => (!e.Removed, e.Modified);
}
