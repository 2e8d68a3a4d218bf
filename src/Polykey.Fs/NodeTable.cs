namespace Polykey.Fs;

/// <summary>
/// Node numbers for paths, as the kernel knows them: a number stays with its file across
/// renames, is never reused, and is dropped once the kernel forgets it and no handle holds it.
/// Not thread-safe: the tree's lock guards it.
/// </summary>
internal sealed class NodeTable
{
    private sealed class Record(string? path)
    {
        public string? Path = path;
        public ulong Lookups;
        public int Handles;
    }

    private readonly Dictionary<ulong, Record> _byNode = new() { [IFileTree.RootNode] = new Record("") { Lookups = 1 } };
    private readonly Dictionary<string, ulong> _byPath = new(StringComparer.Ordinal) { [""] = IFileTree.RootNode };
    private ulong _next = IFileTree.RootNode + 1;

    /// <summary>The node's current path; null when it was removed or renamed over.</summary>
    public string? PathOf(ulong node) => _byNode.TryGetValue(node, out Record? r) ? r.Path : null;

    public bool TryGetNode(string path, out ulong node) => _byPath.TryGetValue(path, out node);

    /// <summary>The node for a path, numbering it on first sight; counts one kernel lookup when asked.</summary>
    public ulong Ensure(string path, bool countLookup)
    {
        if (!_byPath.TryGetValue(path, out ulong node))
        {
            node = _next++;
            _byPath[path] = node;
            _byNode[node] = new Record(path);
        }
        if (countLookup) _byNode[node].Lookups++;
        return node;
    }

    /// <summary>Drops kernel lookups; true when the node number is gone as a result.</summary>
    public bool Forget(ulong node, ulong count)
    {
        if (node == IFileTree.RootNode || !_byNode.TryGetValue(node, out Record? record)) return false;
        record.Lookups = record.Lookups > count ? record.Lookups - count : 0;
        DropIfUnused(node, record);
        return !_byNode.ContainsKey(node);
    }

    /// <summary>Whether the kernel (or a handle) may still use the node number.</summary>
    public bool Knows(ulong node) => _byNode.ContainsKey(node);

    public void AddHandle(ulong node)
    {
        if (_byNode.TryGetValue(node, out Record? record)) record.Handles++;
    }

    public void RemoveHandle(ulong node)
    {
        if (!_byNode.TryGetValue(node, out Record? record)) return;
        record.Handles--;
        DropIfUnused(node, record);
    }

    /// <summary>The path is gone: its node (if any) lives on, detached, until forgotten.</summary>
    public void Detach(string path)
    {
        if (!_byPath.Remove(path, out ulong node)) return;
        Record record = _byNode[node];
        record.Path = null;
        DropIfUnused(node, record);
    }

    /// <summary>Renames a path and everything below it, keeping node numbers.</summary>
    public void Move(string from, string to)
    {
        Detach(to);
        var moves = _byPath.Where(kv => kv.Key == from || kv.Key.StartsWith(from + "/", StringComparison.Ordinal)).ToList();
        foreach (var (path, node) in moves)
        {
            string renamed = to + path[from.Length..];
            Detach(renamed);
            _byPath.Remove(path);
            _byPath[renamed] = node;
            _byNode[node].Path = renamed;
        }
    }

    /// <summary>Paths the kernel may hold in its caches, for invalidation after outside changes.</summary>
    public IEnumerable<(string Path, ulong Node)> Known() => _byPath.Select(kv => (kv.Key, kv.Value));

    private void DropIfUnused(ulong node, Record record)
    {
        if (record.Lookups > 0 || record.Handles > 0 || node == IFileTree.RootNode) return;
        _byNode.Remove(node);
        if (record.Path is not null && _byPath.TryGetValue(record.Path, out ulong current) && current == node)
            _byPath.Remove(record.Path);
    }
}
