using Polykey.Core;

namespace Polykey.Fs;

// Read-only trees serve each file node as one fixed version. When another process changes
// a secret, its path gets a new node and the old node is "retired": it keeps the version it
// showed for the programs that still have it open, until the kernel forgets it. Because a
// node's bytes never change, the adapter can leave opens to the kernel's page cache.
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
        lock (_gate) content = NodeContent(node).Share();
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
        if (!_view.IsFile(path)) throw new FsException(FsError.IsDirectory);
        return CurrentContent(path);
    }

    private bool TryRetiredInfo(ulong node, out NodeInfo info)
    {
        info = default;
        if (!_retired.TryGetValue(node, out RetiredVersion? retired)) return false;
        info = new NodeInfo(node, NodeKind.File, retired.Size, retired.Modified, FileMode);
        return true;
    }

    /// <summary>
    /// Before the cache of changed paths is dropped: give each changed path a fresh node and
    /// let the kernel keep the old one, with its version, for open files.
    /// </summary>
    private void RetireChanged(IEnumerable<string> changed, IReadOnlyDictionary<string, SecretInfo> before)
    {
        if (!NodesAreSnapshots) return;
        foreach (string path in changed)
        {
            if (!before.TryGetValue(path, out SecretInfo? old) || !_nodes.TryGetNode(path, out ulong node)) continue;
            _nodes.Detach(path);
            if (!_nodes.Knows(node)) continue;
            var retired = new RetiredVersion(path, old.Tip, old.Size, old.Modified);
            if (_cache.Remove(path, out var cached))
            {
                if (cached.Tip == old.Tip) retired.Content = cached.Content;
                else cached.Content.Release();
            }
            _retired[node] = retired;
        }
    }

    private void ForgetRetired(ulong node)
    {
        if (_retired.Remove(node, out RetiredVersion? retired)) retired.Content?.Release();
    }

    private void ReleaseRetired()
    {
        foreach (RetiredVersion retired in _retired.Values) retired.Content?.Release();
        _retired.Clear();
    }
}
