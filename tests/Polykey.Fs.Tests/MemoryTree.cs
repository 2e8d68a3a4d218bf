using System.Text;

namespace Polykey.Fs.Tests;

/// <summary>
/// An in-memory <see cref="IFileTree"/> twin for mount tests: one lock, files with a
/// committed version, per-open handle buffers (readers keep the version they opened,
/// writers' bytes are committed by Flush/last Release), lookup counting. Test hooks change
/// content behind the mount's back, inject failures and count what the adapter asked for.
/// </summary>
public sealed class MemoryTree(bool readOnly = false) : IFileTree
{
    private sealed class Node(ulong id, NodeKind kind, uint mode)
    {
        public ulong Id { get; } = id;
        public NodeKind Kind { get; } = kind;
        public uint Mode { get; set; } = mode;
        public DateTimeOffset Modified { get; set; } = DateTimeOffset.UtcNow;
        public byte[] Data { get; set; } = [];
        public SortedDictionary<string, Node> Children { get; } = new(StringComparer.Ordinal);
        public ulong Lookups { get; set; }
        public Handle? PendingWriter { get; set; }
        public int Versions { get; set; }
    }

    private sealed class Handle(Node node, OpenMode mode, byte[] buffer)
    {
        public Node Node { get; } = node;
        public OpenMode Mode { get; } = mode;
        public byte[] Buffer { get; set; } = buffer;
        public bool Dirty { get; set; }
    }

    private readonly Lock _gate = new();
    private readonly Dictionary<ulong, Node> _nodes = new();
    private readonly Dictionary<ulong, Handle> _handles = new();
    private ulong _nextNode = IFileTree.RootNode + 1;
    private ulong _nextHandle = 1;

    public bool IsReadOnly { get; } = readOnly;

    /// <summary>When set, every mutating call fails with this error although IsReadOnly is false.</summary>
    public FsError? RefuseChangesWith { get; set; }

    /// <summary>Looking up this name throws a plain (non-Fs) exception: the adapter must answer EIO and live on.</summary>
    public string? ExplodingName { get; set; }

    public int FlushCalls;
    public int ReleaseCalls;
    public int OpenCalls;
    public int LookupCalls;
    public int GetAttributesCalls;

    public event Action<TreeChange>? Changed;

    private Node Root
    {
        get
        {
            if (!_nodes.TryGetValue(IFileTree.RootNode, out var root))
            {
                root = new Node(IFileTree.RootNode, NodeKind.Directory, 0x1ED /* 0755 */);
                _nodes[root.Id] = root;
            }
            return root;
        }
    }

    // ---- test hooks (they act "behind the mount": no kernel involved) ----

    /// <summary>Creates or replaces a file at a slash-separated path, making directories on the way.</summary>
    public ulong Put(string path, string content, uint mode = 0x180 /* 0600 */, DateTimeOffset? modified = null)
        => Put(path, Encoding.UTF8.GetBytes(content), mode, modified);

    public ulong Put(string path, byte[] content, uint mode = 0x180, DateTimeOffset? modified = null)
    {
        lock (_gate)
        {
            var (dir, name) = WalkToParent(path, create: true);
            if (!dir.Children.TryGetValue(name, out var file))
            {
                file = NewNode(NodeKind.File, mode);
                dir.Children[name] = file;
            }
            file.Data = content;
            file.Mode = mode;
            file.Modified = modified ?? DateTimeOffset.UtcNow;
            file.Versions++;
            return file.Id;
        }
    }

    /// <summary>The committed bytes of a file, or null when there is none.</summary>
    public string? Committed(string path)
    {
        lock (_gate)
        {
            var node = Find(path);
            return node is { Kind: NodeKind.File } ? Encoding.UTF8.GetString(node.Data) : null;
        }
    }

    public int VersionsOf(string path)
    {
        lock (_gate)
            return Find(path)?.Versions ?? 0;
    }

    public NodeInfo? InfoOf(string path)
    {
        lock (_gate)
            return Find(path) is { } node ? Info(node) : null;
    }

    public ulong? NodeOf(string path)
    {
        lock (_gate)
            return Find(path)?.Id;
    }

    public bool Exists(string path)
    {
        lock (_gate)
            return Find(path) is not null;
    }

    public int OpenHandles
    {
        get
        {
            lock (_gate)
                return _handles.Count;
        }
    }

    /// <summary>Renames behind the mount (no Changed event; call <see cref="RaiseChanged"/> as the real tree would).</summary>
    public void MoveBehind(string from, string to)
    {
        lock (_gate)
        {
            var (sourceDir, sourceName) = WalkToParent(from, create: false);
            var (targetDir, targetName) = WalkToParent(to, create: true);
            var node = sourceDir.Children[sourceName];
            sourceDir.Children.Remove(sourceName);
            targetDir.Children[targetName] = node;
        }
    }

    public void RaiseChanged(TreeChange change) => Changed?.Invoke(change);

    // ---- IFileTree ----

    public NodeInfo Lookup(ulong parent, string name)
    {
        Interlocked.Increment(ref LookupCalls);
        if (name == ExplodingName)
            throw new InvalidOperationException("injected failure");
        lock (_gate)
        {
            var dir = Directory(parent);
            if (!dir.Children.TryGetValue(name, out var child))
                throw new FsException(FsError.NotFound);
            child.Lookups++;
            _nodes[child.Id] = child;
            return Info(child);
        }
    }

    public void Forget(ulong node, ulong count)
    {
        lock (_gate)
        {
            if (node == IFileTree.RootNode || !_nodes.TryGetValue(node, out var n))
                return;
            n.Lookups = count >= n.Lookups ? 0 : n.Lookups - count;
            if (n.Lookups == 0 && !IsReachable(n) && !_handles.Values.Any(h => h.Node == n))
                _nodes.Remove(node);
        }
    }

    public NodeInfo GetAttributes(ulong node)
    {
        Interlocked.Increment(ref GetAttributesCalls);
        lock (_gate)
            return Info(Get(node));
    }

    public NodeInfo SetAttributes(ulong node, ulong? handle, AttributeChange change)
    {
        lock (_gate)
        {
            ThrowIfReadOnly();
            var n = Get(node);
            if (change.Size is { } size)
            {
                if (n.Kind == NodeKind.Directory)
                    throw new FsException(FsError.IsDirectory);
                if (handle is { } h && _handles.TryGetValue(h, out var open))
                {
                    open.Buffer = Resize(open.Buffer, size);
                    open.Dirty = true;
                    n.PendingWriter = open;
                }
                else
                {
                    n.Data = Resize(n.Data, size);
                    n.Versions++;
                }
                n.Modified = DateTimeOffset.UtcNow;
            }
            if (change.Mode is { } mode)
                n.Mode = mode;
            if (change.Modified is { } modified)
                n.Modified = modified;
            return Info(n);
        }
    }

    public IReadOnlyList<DirectoryEntry> ReadDirectory(ulong node)
    {
        lock (_gate)
            return Directory(node).Children.Select(c => new DirectoryEntry(c.Key, Info(c.Value))).ToList();
    }

    public ulong Open(ulong node, OpenMode mode)
    {
        lock (_gate)
        {
            OpenCalls++;
            var n = Get(node);
            if (n.Kind == NodeKind.Directory)
                throw new FsException(FsError.IsDirectory);
            if ((mode & (OpenMode.Write | OpenMode.Truncate | OpenMode.Append)) != 0)
                ThrowIfReadOnly();
            return NewHandle(n, mode);
        }
    }

    public (NodeInfo Info, ulong Handle) Create(ulong parent, string name, OpenMode mode, uint permissions)
    {
        lock (_gate)
        {
            ThrowIfReadOnly();
            var dir = Directory(parent);
            if (!dir.Children.TryGetValue(name, out var file))
            {
                file = NewNode(NodeKind.File, permissions);
                dir.Children[name] = file;
                file.Versions++;
            }
            else if (file.Kind == NodeKind.Directory)
            {
                throw new FsException(FsError.IsDirectory);
            }
            file.Lookups++;
            _nodes[file.Id] = file;
            return (Info(file), NewHandle(file, mode));
        }
    }

    public int Read(ulong handle, long offset, Span<byte> buffer)
    {
        lock (_gate)
        {
            var h = GetHandle(handle);
            if (offset >= h.Buffer.Length)
                return 0;
            var count = (int)Math.Min(buffer.Length, h.Buffer.Length - offset);
            h.Buffer.AsSpan((int)offset, count).CopyTo(buffer);
            return count;
        }
    }

    public int Write(ulong handle, long offset, ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            var h = GetHandle(handle);
            if ((h.Mode & OpenMode.Write) == 0)
                throw new FsException(FsError.BadHandle);
            if ((h.Mode & OpenMode.Append) != 0)
                offset = h.Buffer.Length;
            var end = offset + data.Length;
            if (end > h.Buffer.Length)
                h.Buffer = Resize(h.Buffer, end);
            data.CopyTo(h.Buffer.AsSpan((int)offset));
            h.Dirty = true;
            h.Node.PendingWriter = h;
            return data.Length;
        }
    }

    public void Flush(ulong handle)
    {
        Interlocked.Increment(ref FlushCalls);
        lock (_gate)
            Commit(GetHandle(handle));
    }

    public void Release(ulong handle)
    {
        Interlocked.Increment(ref ReleaseCalls);
        lock (_gate)
        {
            var h = GetHandle(handle);
            Commit(h);
            _handles.Remove(handle);
        }
    }

    public NodeInfo MakeDirectory(ulong parent, string name)
    {
        lock (_gate)
        {
            ThrowIfReadOnly();
            var dir = Directory(parent);
            if (dir.Children.ContainsKey(name))
                throw new FsException(FsError.Exists);
            var child = NewNode(NodeKind.Directory, 0x1C0 /* 0700 */);
            dir.Children[name] = child;
            return Info(child);
        }
    }

    public void Unlink(ulong parent, string name)
    {
        lock (_gate)
        {
            ThrowIfReadOnly();
            var dir = Directory(parent);
            if (!dir.Children.TryGetValue(name, out var child))
                throw new FsException(FsError.NotFound);
            if (child.Kind == NodeKind.Directory)
                throw new FsException(FsError.IsDirectory);
            dir.Children.Remove(name);
        }
    }

    public void RemoveDirectory(ulong parent, string name)
    {
        lock (_gate)
        {
            ThrowIfReadOnly();
            var dir = Directory(parent);
            if (!dir.Children.TryGetValue(name, out var child))
                throw new FsException(FsError.NotFound);
            if (child.Kind != NodeKind.Directory)
                throw new FsException(FsError.NotDirectory);
            if (child.Children.Count > 0)
                throw new FsException(FsError.NotEmpty);
            dir.Children.Remove(name);
        }
    }

    public void Rename(ulong parent, string name, ulong newParent, string newName, bool noReplace)
    {
        lock (_gate)
        {
            ThrowIfReadOnly();
            var source = Directory(parent);
            var target = Directory(newParent);
            if (!source.Children.TryGetValue(name, out var node))
                throw new FsException(FsError.NotFound);
            if (node.Kind == NodeKind.Directory && (node == target || Contains(node, target)))
                throw new FsException(FsError.InvalidName);
            if (target.Children.TryGetValue(newName, out var existing))
            {
                if (existing == node)
                    return;
                if (noReplace)
                    throw new FsException(FsError.Exists);
                if (existing.Kind == NodeKind.Directory && node.Kind != NodeKind.Directory)
                    throw new FsException(FsError.IsDirectory);
                if (existing.Kind != NodeKind.Directory && node.Kind == NodeKind.Directory)
                    throw new FsException(FsError.NotDirectory);
                if (existing.Children.Count > 0)
                    throw new FsException(FsError.NotEmpty);
            }
            source.Children.Remove(name);
            target.Children[newName] = node;
        }
    }

    // ---- helpers (callers hold _gate) ----

    private void ThrowIfReadOnly()
    {
        if (IsReadOnly)
            throw new FsException(FsError.ReadOnly);
        if (RefuseChangesWith is { } error)
            throw new FsException(error);
    }

    private void Commit(Handle h)
    {
        if (!h.Dirty)
            return;
        h.Node.Data = (byte[])h.Buffer.Clone();
        h.Node.Modified = DateTimeOffset.UtcNow;
        h.Node.Versions++;
        h.Dirty = false;
        if (h.Node.PendingWriter == h)
            h.Node.PendingWriter = null;
    }

    private ulong NewHandle(Node node, OpenMode mode)
    {
        var truncate = (mode & OpenMode.Truncate) != 0;
        var handle = new Handle(node, mode, truncate ? [] : (byte[])node.Data.Clone()) { Dirty = truncate };
        if (truncate)
            node.PendingWriter = handle;
        var id = _nextHandle++;
        _handles[id] = handle;
        return id;
    }

    private Node NewNode(NodeKind kind, uint mode)
    {
        var node = new Node(_nextNode++, kind, mode);
        _nodes[node.Id] = node;
        return node;
    }

    private static NodeInfo Info(Node n)
    {
        // A file being written shows the writer's size, as a local filesystem would.
        var size = n.Kind == NodeKind.Directory ? 4096 : (n.PendingWriter?.Buffer.Length ?? n.Data.Length);
        return new NodeInfo(n.Id, n.Kind, size, n.Modified, n.Mode);
    }

    private Node Get(ulong node)
    {
        if (node == IFileTree.RootNode)
            return Root;
        return _nodes.TryGetValue(node, out var n) ? n : throw new FsException(FsError.NotFound);
    }

    private Node Directory(ulong node)
    {
        var n = Get(node);
        return n.Kind == NodeKind.Directory ? n : throw new FsException(FsError.NotDirectory);
    }

    private Handle GetHandle(ulong handle)
        => _handles.TryGetValue(handle, out var h) ? h : throw new FsException(FsError.BadHandle);

    private Node? Find(string path)
    {
        var node = Root;
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (node.Kind != NodeKind.Directory || !node.Children.TryGetValue(part, out var next))
                return null;
            node = next;
        }
        return node;
    }

    private (Node Dir, string Name) WalkToParent(string path, bool create)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var node = Root;
        foreach (var part in parts[..^1])
        {
            if (!node.Children.TryGetValue(part, out var next))
            {
                if (!create)
                    throw new FsException(FsError.NotFound);
                next = NewNode(NodeKind.Directory, 0x1C0);
                node.Children[part] = next;
            }
            node = next;
        }
        return (node, parts[^1]);
    }

    private bool IsReachable(Node target) => target == Root || Contains(Root, target);

    private static bool Contains(Node dir, Node target)
    {
        foreach (var child in dir.Children.Values)
        {
            if (child == target || (child.Kind == NodeKind.Directory && Contains(child, target)))
                return true;
        }
        return false;
    }

    private static byte[] Resize(byte[] data, long size)
    {
        var resized = new byte[size];
        data.AsSpan(0, (int)Math.Min(data.Length, size)).CopyTo(resized);
        return resized;
    }
}
