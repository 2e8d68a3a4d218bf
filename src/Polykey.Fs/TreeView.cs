using Polykey.Core;

namespace Polykey.Fs;

/// <summary>A file as the mount shows it: a committed secret, or an in-memory write buffer.</summary>
internal sealed record FileEntry(long Size, DateTimeOffset Modified, string? Tip, WriteBuffer? Buffer);

/// <summary>A directory and its children (name → is a directory); Modified is the newest time seen below it.</summary>
internal sealed class DirectoryEntryList(DateTimeOffset modified)
{
    private readonly SortedDictionary<string, bool> _children = new(StringComparer.Ordinal);

    public DateTimeOffset Modified { get; set; } = modified;

    /// <summary>The names in it, each true for a directory.</summary>
    public IReadOnlyDictionary<string, bool> Children => _children;

    /// <summary>The directories in it, counted as they come and go: a directory's link count is 2 plus these (each one's "..").</summary>
    public int Subdirectories { get; private set; }

    public void SetChild(string name, bool directory)
    {
        if (_children.TryGetValue(name, out bool was) && was) Subdirectories--;
        _children[name] = directory;
        if (directory) Subdirectories++;
    }

    public void RemoveChild(string name)
    {
        if (_children.Remove(name, out bool was) && was) Subdirectories--;
    }
}

/// <summary>
/// The tree the mount shows: directories come from file paths and directory records, and
/// disappear when their last child goes (unless recorded). Updated one path at a time, so a
/// save costs O(depth), not O(secrets). A name that is both a file and a directory shows as
/// the directory. Not thread-safe: the tree's lock guards it.
/// </summary>
internal sealed class TreeView
{
    private readonly Dictionary<string, FileEntry> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DirectoryEntryList> _directories = new(StringComparer.Ordinal);
    private readonly HashSet<string> _records = new(StringComparer.Ordinal);
    private readonly DateTimeOffset _rootTime;

    private TreeView(DateTimeOffset rootTime)
    {
        _rootTime = rootTime;
        _directories[""] = new DirectoryEntryList(rootTime);
    }

    public IReadOnlyDictionary<string, FileEntry> Files => _files;
    public IReadOnlyDictionary<string, DirectoryEntryList> Directories => _directories;

    public static TreeView Build(IEnumerable<SecretInfo> secrets, IEnumerable<string> directoryRecords,
        IReadOnlyDictionary<string, WriteBuffer> buffers, IReadOnlySet<string> masked, DateTimeOffset rootTime)
    {
        var view = new TreeView(rootTime);
        foreach (string record in directoryRecords) view.SetRecord(record, true);
        var tips = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (SecretInfo secret in secrets)
        {
            tips[secret.Path] = secret.Tip;
            if (!masked.Contains(secret.Path)) view.SetFile(secret.Path, new FileEntry(secret.Size, secret.Modified, secret.Tip, null));
        }
        foreach (var (path, buffer) in buffers)
            view.SetFile(path, new FileEntry(buffer.Length, buffer.Modified, tips.GetValueOrDefault(path), buffer));
        return view;
    }

    /// <summary>Shows a file at path, or removes it (null).</summary>
    public void SetFile(string path, FileEntry? entry)
    {
        if (entry is null)
        {
            if (!_files.Remove(path)) return;
            if (_directories.ContainsKey(path)) return; // it was hidden behind the directory
            string parent = Parent(path);
            if (_directories.TryGetValue(parent, out DirectoryEntryList? directory)) directory.RemoveChild(Name(path));
            Prune(parent);
            return;
        }
        _files[path] = entry;
        if (_directories.ContainsKey(path)) return;
        EnsureDirectory(Parent(path), entry.Modified).SetChild(Name(path), directory: false);
    }

    /// <summary>Records (or forgets) a directory that exists even when empty.</summary>
    public void SetRecord(string path, bool exists)
    {
        if (exists)
        {
            _records.Add(path);
            EnsureDirectory(path, _directories.TryGetValue(path, out DirectoryEntryList? known) ? known.Modified : _rootTime);
        }
        else if (_records.Remove(path))
        {
            Prune(path);
        }
    }

    private DirectoryEntryList EnsureDirectory(string path, DateTimeOffset time)
    {
        var chain = new List<string>();
        for (string p = path; ; p = Parent(p))
        {
            chain.Add(p);
            if (p.Length == 0) break;
        }
        DirectoryEntryList? parent = null;
        for (int i = chain.Count - 1; i >= 0; i--)
        {
            string p = chain[i];
            if (!_directories.TryGetValue(p, out DirectoryEntryList? directory))
                _directories[p] = directory = new DirectoryEntryList(time);
            else if (time > directory.Modified)
                directory.Modified = time;
            parent?.SetChild(Name(p), directory: true);
            parent = directory;
        }
        return parent!;
    }

    // Drops directories left empty and unrecorded, walking up; a file they hid shows again.
    private void Prune(string path)
    {
        for (string p = path; p.Length > 0; p = Parent(p))
        {
            if (!_directories.TryGetValue(p, out DirectoryEntryList? directory)) return;
            if (directory.Children.Count > 0 || _records.Contains(p)) return;
            _directories.Remove(p);
            DirectoryEntryList parent = _directories[Parent(p)];
            if (_files.ContainsKey(p)) parent.SetChild(Name(p), directory: false);
            else parent.RemoveChild(Name(p));
        }
    }

    public static string Parent(string path) => path.LastIndexOf('/') is var i and >= 0 ? path[..i] : "";

    public static string Name(string path) => path[(path.LastIndexOf('/') + 1)..];

    public static string Join(string directory, string name) => directory.Length == 0 ? name : directory + "/" + name;

    public bool IsFile(string path) => _files.ContainsKey(path) && !_directories.ContainsKey(path);

    public bool IsDirectory(string path) => _directories.ContainsKey(path);

    public bool Exists(string path) => IsFile(path) || IsDirectory(path);
}
