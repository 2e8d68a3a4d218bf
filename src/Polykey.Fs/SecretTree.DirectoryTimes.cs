namespace Polykey.Fs;

// A directory's mtime (and ctime) moves when an entry comes or goes in it, through this
// mount or from another process, as a local filesystem keeps it. The keynode holds no
// directory times (directories have no versions), so the mount remembers them; a rebuilt
// view starts from its children's times and takes these where they are later.
public sealed partial class SecretTree
{
    private readonly Dictionary<string, DateTimeOffset> _entriesChanged = new(StringComparer.Ordinal);

    private void EntriesChanged(string directory)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        _entriesChanged[directory] = now;
        _setTimes.Remove(directory); // an entry change moves mtime past any time set by hand
        if (_view.Directories.TryGetValue(directory, out DirectoryEntryList? list) && list.Modified < now) list.Modified = now;
    }

    private void EntryCameOrWent(string path) => EntriesChanged(TreeView.Parent(path));

    private void ApplyEntryTimes()
    {
        foreach ((string directory, DateTimeOffset time) in _entriesChanged)
            if (_view.Directories.TryGetValue(directory, out DirectoryEntryList? list) && list.Modified < time) list.Modified = time;
    }
}
