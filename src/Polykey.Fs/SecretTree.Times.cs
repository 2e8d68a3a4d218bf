namespace Polykey.Fs;

// Times set with utimensat (touch -d, cp -p, tar, rsync -t). The keynode keeps one time per
// version, so a file's set times are remembered by the mount, for as long as the version
// they were set on is current (a new version brings its own time), and a directory's until
// an entry comes or goes in it. Reads never move atime (the mount is noatime); ctime is the
// moment of the last change, as utimensat itself changes ctime on any filesystem.
public sealed partial class SecretTree
{
    private readonly record struct SetTimes(string? Version, DateTimeOffset? Accessed, DateTimeOffset? Modified, DateTimeOffset Changed);

    private readonly Dictionary<string, SetTimes> _setTimes = new(StringComparer.Ordinal);

    private void SetTimesOf(string path, NodeKind kind, DateTimeOffset? accessed, DateTimeOffset? modified)
    {
        // A version is its commit: two versions may share a second, never a commit id.
        string? version = kind == NodeKind.File && _view.Files.TryGetValue(path, out FileEntry? file) ? file.Tip ?? "" : null;
        if (_setTimes.TryGetValue(path, out SetTimes earlier) && earlier.Version == version)
        {
            accessed ??= earlier.Accessed;
            modified ??= earlier.Modified;
        }
        _setTimes[path] = new SetTimes(version, accessed, modified, DateTimeOffset.UtcNow);
    }

    private NodeInfo WithSetTimes(string path, NodeInfo info, string? version)
    {
        if (!_setTimes.TryGetValue(path, out SetTimes set)) return info;
        if (set.Version != version)
        {
            _setTimes.Remove(path); // set on an older version, or on a directory since replaced
            return info;
        }
        return info with
        {
            Accessed = set.Accessed,
            Modified = set.Modified ?? info.Modified,
            StatusChanged = set.Changed > (set.Modified ?? info.Modified) ? set.Changed : null,
        };
    }
}
