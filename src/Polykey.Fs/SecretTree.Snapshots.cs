using Polykey.Core;

namespace Polykey.Fs;

// When another process changes a secret, its path gets a new node and the old node is
// "retired": it keeps the version it showed, in the kernel's page cache and here, for the
// programs that still have it open, until the kernel forgets it. So an old reader never
// meets pages of the new version, and new opens never meet the old one. In a read-only tree
// that is the only way bytes change, so a node's bytes never change at all and the adapter
// can leave opens to the kernel's page cache.
public sealed partial class SecretTree
{
    private sealed class RetiredVersion(string path, string tip, long size, DateTimeOffset modified)
    {
        public string Path { get; } = path;
        public string Tip { get; } = tip;
        public long Size { get; } = size;
        public DateTimeOffset Modified { get; } = modified;
        public SecretContent? Content { get; set; }
    }

    private readonly Dictionary<ulong, RetiredVersion> _retired = new();

    public bool NodesAreSnapshots => IsReadOnly;

    public int ReadNode(ulong node, long offset, Span<byte> buffer)
    {
        SecretContent content;
        lock (_gate)
        {
            if (TryReadPending(node, offset, buffer, out int pending)) return pending;
            content = NodeContent(node).Share();
        }
        try
        {
            return CopyOut(content.Span, offset, buffer);
        }
        finally
        {
            content.Release();
        }
    }

    private static int CopyOut(ReadOnlySpan<byte> content, long offset, Span<byte> buffer)
    {
        if (offset >= content.Length) return 0;
        int n = (int)Math.Min(buffer.Length, content.Length - offset);
        content.Slice((int)offset, n).CopyTo(buffer);
        return n;
    }

    private SecretContent NodeContent(ulong node)
    {
        if (_retired.TryGetValue(node, out RetiredVersion? retired))
            return retired.Content ??= Decrypt(() => _keynode.GetVersion(retired.Path, retired.Tip));
        string path = PathOf(node);
        if (!_view.IsFile(path)) throw new FsException(_view.IsDirectory(path) ? FsError.IsDirectory : FsError.NotFound);
        RequireServed(path);
        return CurrentContent(path);
    }

    /// <summary>
    /// The path a change through this node is meant for: its own, or the one a replaced
    /// version had (the kernel's cached name may lag another process's change by a moment).
    /// </summary>
    private string PathForWriting(ulong node) =>
        _nodes.PathOf(node) ?? (_retired.TryGetValue(node, out RetiredVersion? retired) ? retired.Path : throw new FsException(FsError.NotFound));

    private bool TryRetiredInfo(ulong node, out NodeInfo info)
    {
        info = default;
        if (!_retired.TryGetValue(node, out RetiredVersion? retired)) return false;
        // No name leads to it any more (removed, or replaced by another version): as an unlinked inode, no links.
        info = new NodeInfo(node, NodeKind.File, retired.Size, retired.Modified, _fileMode, Links: 0);
        return true;
    }

    /// <summary>
    /// Before the cache of changed paths is dropped: give each changed path a fresh node and
    /// let the kernel keep the old one, with its version, for open files.
    /// </summary>
    private void RetireChanged(IEnumerable<string> changed, IReadOnlyDictionary<string, SecretInfo> before, TreeView viewBefore)
    {
        foreach (string path in changed)
        {
            // A file open for writing here shows its write buffer, which the change did not
            // touch; a secret hidden behind a directory of the same name had no node of its own.
            if (_buffers.ContainsKey(path) || !viewBefore.IsFile(path)) continue;
            if (!before.TryGetValue(path, out SecretInfo? old) || !_nodes.TryGetNode(path, out ulong node)) continue;
            _nodes.Detach(path);
            if (Retire(node, old) is not { } retired) continue;
            if (_cache.Remove(path, out var cached))
            {
                if (cached.Tip == old.Tip) retired.Content = cached.Content;
                else cached.Content.Release();
            }
        }
    }

    /// <summary>
    /// The version a path showed before this tree removed or replaced it (unlink, rename
    /// over), captured so its node can be retired once the change is made.
    /// </summary>
    private (ulong Node, SecretInfo Secret)? VersionAt(string path) =>
        _nodes.TryGetNode(path, out ulong node) && !_buffers.ContainsKey(path) && !_masked.Contains(path)
            && _view.IsFile(path) && _secretByPath.TryGetValue(path, out SecretInfo? secret)
            ? (node, secret)
            : null;

    /// <summary>After an unlink or a rename over a file: its node keeps reading what it showed, for open files.</summary>
    private void RetireRemoved((ulong Node, SecretInfo Secret)? removed)
    {
        if (removed is var (node, secret) && _nodes.PathOf(node) is null) Retire(node, secret);
    }

    /// <summary>A node the path no longer has keeps showing <paramref name="version"/> until the kernel forgets it.</summary>
    private RetiredVersion? Retire(ulong node, SecretInfo version)
    {
        if (!_nodes.Knows(node) || _retired.ContainsKey(node)) return null;
        var retired = new RetiredVersion(version.Path, version.Tip, version.Size, version.Modified);
        _retired[node] = retired;
        return retired;
    }

    /// <summary>
    /// A new file whose first write-back failed: its old node shows what was saved of it, nothing,
    /// so the kernel's closing touch of its times and an fstat still answer.
    /// </summary>
    private void RetireUnsavedNewFile(ulong node, string path)
    {
        if (!_nodes.Knows(node) || _retired.ContainsKey(node)) return;
        _retired[node] = new RetiredVersion(path, tip: "", size: 0, DateTimeOffset.UtcNow) { Content = SecretContent.Copy([]) };
    }

    private void ForgetRetired(ulong node)
    {
        _discarded.Remove(node);
        if (_retired.Remove(node, out RetiredVersion? retired)) retired.Content?.Release();
    }

    private void ReleaseRetired()
    {
        foreach (RetiredVersion retired in _retired.Values) retired.Content?.Release();
        _retired.Clear();
    }
}
