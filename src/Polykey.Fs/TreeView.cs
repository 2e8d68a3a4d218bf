using Polykey.Core;

namespace Polykey.Fs;

/// <summary>A file as the mount shows it: a committed secret, or an in-memory write buffer.</summary>
internal sealed record FileEntry(long Size, DateTimeOffset Modified, string? Tip, WriteBuffer? Buffer);

/// <summary>A directory and its children (name → is a directory); Modified is its newest child's time.</summary>
internal sealed class DirectoryEntryList(DateTimeOffset modified, SortedDictionary<string, bool> children)
{
    public DateTimeOffset Modified { get; set; } = modified;
    public SortedDictionary<string, bool> Children { get; } = children;
}

/// <summary>
/// One immutable picture of the tree: directories come from secret paths, directory records
/// and in-memory files; masked secrets (renamed to a scratch name) are hidden.
/// </summary>
internal sealed class TreeView
{
    private TreeView(Dictionary<string, FileEntry> files, Dictionary<string, DirectoryEntryList> directories)
    {
        Files = files;
        Directories = directories;
    }

    public IReadOnlyDictionary<string, FileEntry> Files { get; }
    public IReadOnlyDictionary<string, DirectoryEntryList> Directories { get; }

    public static TreeView Build(IEnumerable<SecretInfo> secrets, IEnumerable<string> directoryRecords,
        IReadOnlyDictionary<string, WriteBuffer> buffers, IReadOnlySet<string> masked, DateTimeOffset rootTime)
    {
        var files = new Dictionary<string, FileEntry>(StringComparer.Ordinal);
        foreach (SecretInfo secret in secrets)
            if (!masked.Contains(secret.Path)) files[secret.Path] = new FileEntry(secret.Size, secret.Modified, secret.Tip, null);
        foreach (var (path, buffer) in buffers)
            files[path] = new FileEntry(buffer.Length, buffer.Modified, files.GetValueOrDefault(path)?.Tip, buffer);

        var directories = new Dictionary<string, DirectoryEntryList>(StringComparer.Ordinal)
        {
            [""] = new DirectoryEntryList(rootTime, new SortedDictionary<string, bool>(StringComparer.Ordinal)),
        };
        foreach (string record in directoryRecords) AddDirectory(directories, record, rootTime);
        foreach (var (path, file) in files) AddDirectory(directories, Parent(path), file.Modified);
        // A name that is both a secret and a directory shows as the directory.
        foreach (string path in files.Keys.Where(directories.ContainsKey).ToList()) files.Remove(path);
        foreach (var (path, file) in files) directories[Parent(path)].Children[Name(path)] = false;
        return new TreeView(files, directories);
    }

    private static void AddDirectory(Dictionary<string, DirectoryEntryList> directories, string path, DateTimeOffset time)
    {
        for (string p = path; p.Length > 0; p = Parent(p))
        {
            Touch(directories, p, time);
            Touch(directories, Parent(p), time).Children[Name(p)] = true;
        }
        Touch(directories, "", time);
    }

    private static DirectoryEntryList Touch(Dictionary<string, DirectoryEntryList> directories, string path, DateTimeOffset time)
    {
        if (!directories.TryGetValue(path, out DirectoryEntryList? entry))
            return directories[path] = new DirectoryEntryList(time, new SortedDictionary<string, bool>(StringComparer.Ordinal));
        if (time > entry.Modified) entry.Modified = time;
        return entry;
    }

    public static string Parent(string path) => path.LastIndexOf('/') is var i and >= 0 ? path[..i] : "";

    public static string Name(string path) => path[(path.LastIndexOf('/') + 1)..];

    public static string Join(string directory, string name) => directory.Length == 0 ? name : directory + "/" + name;

    public bool IsFile(string path) => Files.ContainsKey(path);

    public bool IsDirectory(string path) => Directories.ContainsKey(path);

    public bool Exists(string path) => IsFile(path) || IsDirectory(path);
}
