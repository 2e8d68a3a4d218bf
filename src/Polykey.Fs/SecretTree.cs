using System.Collections.Concurrent;
using Polykey.Core;

namespace Polykey.Fs;

/// <summary>
/// A keynode as a file tree: secrets are files, path segments are directories. Files opened
/// for writing collect bytes in memory; a flush, fsync or last close of a changed file makes
/// one new version. Editor scratch files stay in memory. Changes made to the keynode by other
/// processes appear after <see cref="Refresh"/>, with <see cref="Changed"/> raised for the
/// adapter's caches and <see cref="SecretsChanged"/> for an on-change hook.
/// </summary>
public sealed class SecretTree : IFileTree, IDisposable
{
    private const uint FileMode = 0x180;      // 0600
    private const uint DirectoryMode = 0x1C0; // 0700

    private readonly Keynode _keynode;
    private readonly object _gate = new();
    private readonly NodeTable _nodes = new();
    private readonly Dictionary<string, WriteBuffer> _buffers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _masked = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Tip, SecretContent Content)> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ulong, OpenHandle> _handles = new();
    // Nodes whose kernel page cache an old-version reader may have filled.
    private readonly ConcurrentDictionary<ulong, bool> _staleCache = new();
    private readonly DateTimeOffset _mountedAt = DateTimeOffset.UtcNow;
    private Dictionary<string, SecretInfo> _secretByPath = new(StringComparer.Ordinal);
    private HashSet<string> _directoryRecords = new(StringComparer.Ordinal);
    private TreeView _view = null!;
    private long _nextHandle;
    private long _loadedChangeCount = -1;

    private sealed class OpenHandle(ulong node, OpenMode mode, WriteBuffer? buffer, SecretContent? snapshot)
    {
        /// <summary>The file changed since this reader opened it: its reads are of an old version.</summary>
        public volatile bool Stale;
        public ulong Node { get; } = node;
        public OpenMode Mode { get; } = mode;
        public WriteBuffer? Buffer { get; } = buffer;
        public SecretContent? Snapshot { get; } = snapshot;
        public bool Writable => (Mode & OpenMode.Write) != 0;
    }

    public SecretTree(Keynode keynode, bool readOnly)
    {
        _keynode = keynode;
        IsReadOnly = readOnly;
        lock (_gate) Reload();
    }

    public bool IsReadOnly { get; }

    public event Action<TreeChange>? Changed;

    /// <summary>Secret paths that changed because of another process (not through this tree).</summary>
    public event Action<IReadOnlyList<string>>? SecretsChanged;

    public NodeInfo Lookup(ulong parent, string name)
    {
        lock (_gate)
        {
            string path = TreeView.Join(DirectoryPath(parent), name);
            if (!_view.Exists(path)) throw new FsException(FsError.NotFound);
            return Info(_nodes.Ensure(path, countLookup: true), path);
        }
    }

    public void Forget(ulong node, ulong count)
    {
        lock (_gate) _nodes.Forget(node, count);
    }

    public NodeInfo GetAttributes(ulong node)
    {
        lock (_gate) return Info(node, PathOf(node));
    }

    public NodeInfo SetAttributes(ulong node, ulong? handle, AttributeChange change)
    {
        RequireWritable();
        lock (_gate)
        {
            string path = PathOf(node);
            if (change.Size is { } size)
            {
                if (!_view.IsFile(path)) throw new FsException(FsError.IsDirectory);
                WriteBuffer? openBuffer = handle is { } h && _handles.TryGetValue(h, out OpenHandle? open) ? open.Buffer : null;
                if (openBuffer is null && _buffers.TryGetValue(path, out WriteBuffer? shared) && shared.Handles > 0) openBuffer = shared;
                if (openBuffer is not null)
                {
                    // The file is open: the change is saved with its next flush or last close.
                    lock (openBuffer) Truncate(openBuffer, size);
                }
                else
                {
                    // truncate(2) without an open file: one version, right away.
                    WriteBuffer buffer = BufferFor(path, truncate: false);
                    try
                    {
                        lock (buffer) Truncate(buffer, size);
                        Save(buffer);
                    }
                    finally
                    {
                        if (buffer.Handles == 0 && !buffer.Scratch) DropBuffer(buffer);
                    }
                }
            }
            // Mode and times are those of the keynode (0600/0700, the version's time): accepted, not stored.
            return Info(node, path);
        }
    }

    public IReadOnlyList<DirectoryEntry> ReadDirectory(ulong node)
    {
        lock (_gate)
        {
            string path = DirectoryPath(node);
            var entries = new List<DirectoryEntry>();
            foreach (var (name, _) in _view.Directories[path].Children)
            {
                string child = TreeView.Join(path, name);
                entries.Add(new DirectoryEntry(name, Info(_nodes.Ensure(child, countLookup: false), child)));
            }
            return entries;
        }
    }

    public ulong Open(ulong node, OpenMode mode)
    {
        bool writing = (mode & (OpenMode.Write | OpenMode.Truncate | OpenMode.Append)) != 0;
        if (writing) RequireWritable();
        lock (_gate)
        {
            string path = PathOf(node);
            if (!_view.IsFile(path)) throw new FsException(FsError.IsDirectory);
            if (writing) return AddHandle(node, mode, BufferFor(path, (mode & OpenMode.Truncate) != 0), null);
            if (_buffers.TryGetValue(path, out WriteBuffer? live)) return AddHandle(node, mode, live, null);
            return AddHandle(node, mode, null, CurrentContent(path).Share());
        }
    }

    public (NodeInfo Info, ulong Handle) Create(ulong parent, string name, OpenMode mode, uint permissions)
    {
        RequireWritable();
        lock (_gate)
        {
            string path = TreeView.Join(DirectoryPath(parent), name);
            if (_view.IsDirectory(path)) throw new FsException(FsError.IsDirectory);
            if (!_view.IsFile(path))
            {
                CheckName(path);
                bool scratch = ScratchNames.IsScratch(name);
                _masked.Remove(path);
                _buffers[path] = new WriteBuffer(path, scratch, [], DateTimeOffset.UtcNow) { Dirty = !scratch };
                RefreshPath(path);
            }
            ulong node = _nodes.Ensure(path, countLookup: true);
            ulong handle = AddHandle(node, mode | OpenMode.Write, BufferFor(path, (mode & OpenMode.Truncate) != 0), null);
            return (Info(node, path), handle);
        }
    }

    public int Read(ulong handle, long offset, Span<byte> buffer)
    {
        OpenHandle open = Handle(handle);
        if (open.Buffer is { } writeBuffer)
        {
            lock (writeBuffer) return writeBuffer.Read(offset, buffer);
        }
        ReadOnlySpan<byte> content = open.Snapshot!.Span;
        int n = offset >= content.Length ? 0 : (int)Math.Min(buffer.Length, content.Length - offset);
        content.Slice((int)Math.Min(offset, content.Length), n).CopyTo(buffer);
        if (open.Stale)
        {
            // These old bytes now sit in the shared page cache: have it dropped again.
            _staleCache[open.Node] = true;
            Changed?.Invoke(new TreeChange(open.Node));
        }
        return n;
    }

    public bool CacheIsCurrent(ulong handle) =>
        !_handles.TryGetValue(handle, out OpenHandle? open) || !_staleCache.TryRemove(open.Node, out _);

    public int Write(ulong handle, long offset, ReadOnlySpan<byte> data)
    {
        OpenHandle open = Handle(handle);
        if (!open.Writable || open.Buffer is null) throw new FsException(FsError.BadHandle);
        WriteBuffer buffer = open.Buffer;
        lock (buffer)
        {
            buffer.Write((open.Mode & OpenMode.Append) != 0 ? buffer.Length : offset, data);
            buffer.Dirty = true;
            buffer.Modified = DateTimeOffset.UtcNow;
        }
        return data.Length;
    }

    public void Flush(ulong handle)
    {
        OpenHandle open = Handle(handle);
        if (open.Buffer is null) return;
        lock (_gate) Save(open.Buffer);
    }

    public void Release(ulong handle)
    {
        if (!_handles.TryRemove(handle, out OpenHandle? open)) return;
        lock (_gate)
        {
            try
            {
                if (open.Buffer is { } buffer)
                {
                    buffer.Handles--;
                    Save(buffer);
                    if (buffer.Handles == 0 && !buffer.Scratch) DropBuffer(buffer);
                }
            }
            finally
            {
                open.Snapshot?.Release();
                _nodes.RemoveHandle(open.Node);
            }
        }
    }

    public NodeInfo MakeDirectory(ulong parent, string name)
    {
        RequireWritable();
        lock (_gate)
        {
            string path = TreeView.Join(DirectoryPath(parent), name);
            if (_view.Exists(path)) throw new FsException(FsError.Exists);
            CheckName(path);
            Commit([new SecretEdit.MakeDirectory(path)], touched: []);
            return Info(_nodes.Ensure(path, countLookup: true), path);
        }
    }

    public void Unlink(ulong parent, string name)
    {
        RequireWritable();
        lock (_gate)
        {
            string path = TreeView.Join(DirectoryPath(parent), name);
            if (_view.IsDirectory(path)) throw new FsException(FsError.IsDirectory);
            if (!_view.IsFile(path)) throw new FsException(FsError.NotFound);
            var edits = new List<SecretEdit>();
            if (_buffers.Remove(path, out WriteBuffer? buffer))
            {
                buffer.Detached = true;
                // Removing the last name of a secret renamed to a scratch name removes the secret.
                if (buffer.Origin is { } origin && _masked.Remove(origin) && Committed(origin)) edits.Add(new SecretEdit.Remove(origin));
                if (buffer.Handles == 0) buffer.Wipe();
            }
            if (Committed(path) && !_masked.Contains(path)) edits.Add(new SecretEdit.Remove(path));
            KeepParent(edits, path);
            _nodes.Detach(path);
            Commit(edits, touched: [path, .. buffer?.Origin is { } o ? [o] : Array.Empty<string>()]);
        }
    }

    public void RemoveDirectory(ulong parent, string name)
    {
        RequireWritable();
        lock (_gate)
        {
            string path = TreeView.Join(DirectoryPath(parent), name);
            if (_view.IsFile(path)) throw new FsException(FsError.NotDirectory);
            if (!_view.Directories.TryGetValue(path, out DirectoryEntryList? directory)) throw new FsException(FsError.NotFound);
            if (directory.Children.Count > 0) throw new FsException(FsError.NotEmpty);
            _nodes.Detach(path);
            Commit(_directoryRecords.Contains(path) ? [new SecretEdit.RemoveDirectory(path)] : [], touched: []);
        }
    }

    public void Rename(ulong parent, string name, ulong newParent, string newName, bool noReplace)
    {
        RequireWritable();
        lock (_gate)
        {
            string from = TreeView.Join(DirectoryPath(parent), name);
            string to = TreeView.Join(DirectoryPath(newParent), newName);
            if (!_view.Exists(from)) throw new FsException(FsError.NotFound);
            if (from == to) return;
            if (_view.Exists(to) && noReplace) throw new FsException(FsError.Exists);
            CheckName(to);
            if (_view.IsDirectory(from))
            {
                RenameDirectory(from, to);
                Rebuild();
            }
            else
            {
                RenameFile(from, to, newName);
            }
            _nodes.Move(from, to);
        }
    }

    /// <summary>Reads changes other processes made to the keynode; raises the change events.</summary>
    public void Refresh()
    {
        lock (_gate)
        {
            // The mount's own saves are read back as they are made: nothing new means nothing to redo.
            _keynode.Refresh();
            if (_keynode.ChangeCount == _loadedChangeCount) return;
            ReloadAndAnnounce(new HashSet<string>(StringComparer.Ordinal));
        }
    }

    /// <summary>
    /// Reloads from the keynode. Whatever changed apart from <paramref name="own"/> edits came
    /// from another process (it may arrive with our own commit): drop its cached bytes,
    /// invalidate the kernel's caches, and tell the hook.
    /// </summary>
    private void ReloadAndAnnounce(HashSet<string> own)
    {
        Dictionary<string, SecretInfo> before = _secretByPath;
        HashSet<string> directoriesBefore = _directoryRecords;
        Reload();
        List<string> changed = _secretByPath.Values.Where(s => !before.TryGetValue(s.Path, out SecretInfo? old) || old.Tip != s.Tip).Select(s => s.Path)
            .Concat(before.Keys.Where(p => !_secretByPath.ContainsKey(p)))
            .Where(p => !own.Contains(p))
            .ToList();
        var directoriesChanged = new HashSet<string>(directoriesBefore, StringComparer.Ordinal);
        directoriesChanged.SymmetricExceptWith(_directoryRecords);
        directoriesChanged.ExceptWith(own);
        if (changed.Count == 0 && directoriesChanged.Count == 0) return;
        foreach (string path in changed) DropCached(path);
        RaiseInvalidations(changed.Concat(directoriesChanged));
        // Handlers only queue work (the hook runs on its own thread), so raising under the lock is safe.
        if (changed.Count > 0) SecretsChanged?.Invoke(changed);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (OpenHandle open in _handles.Values) open.Snapshot?.Release();
            _handles.Clear();
            foreach (WriteBuffer buffer in _buffers.Values) buffer.Wipe();
            _buffers.Clear();
            foreach (var (_, (_, content)) in _cache) content.Release();
            _cache.Clear();
        }
    }

    // ---- renames -------------------------------------------------------------------------

    private void RenameFile(string from, string to, string newName)
    {
        if (_view.IsDirectory(to)) throw new FsException(FsError.IsDirectory);
        bool toScratch = ScratchNames.IsScratch(newName);
        _buffers.TryGetValue(from, out WriteBuffer? buffer);
        bool fromCommitted = Committed(from) && !_masked.Contains(from);

        if (toScratch)
        {
            // Editors move the original aside (vim's x~): keep it in memory; the keynode is untouched.
            buffer ??= new WriteBuffer(to, scratch: true, CurrentContent(from).Span, _view.Files[from].Modified);
            if (fromCommitted)
            {
                _masked.Add(from);
                buffer.Origin ??= from;
            }
            MoveBuffer(buffer, from, to, scratch: true);
            RefreshPath(from);
            RefreshPath(to);
            return;
        }

        bool toExists = _view.IsFile(to);
        var edits = new List<SecretEdit>();
        if (fromCommitted && (buffer is null || !buffer.Dirty))
        {
            if (toExists && Committed(to)) edits.AddRange([new SecretEdit.Set(to, CurrentContent(from).Span.ToArray()), new SecretEdit.Remove(from)]);
            else edits.Add(new SecretEdit.Move(from, to));
        }
        else
        {
            // An in-memory file (scratch, new, or changed) lands as the target's next version.
            byte[] bytes;
            lock (buffer!) bytes = buffer.Span.ToArray();
            if (buffer.Origin is { } original && original == to && _masked.Contains(to) && CurrentContent(to).Span.SequenceEqual(bytes))
            {
                // Moved aside and back unchanged: nothing to record.
            }
            else if (buffer.Origin is { } moved && moved != to && _masked.Contains(moved) && !toExists && Committed(moved))
            {
                edits.Add(new SecretEdit.Move(moved, to));
                _masked.Remove(moved);
            }
            else
            {
                edits.Add(new SecretEdit.Set(to, bytes));
            }
            if (fromCommitted) edits.Add(new SecretEdit.Remove(from));
        }
        if (TreeView.Parent(from) != TreeView.Parent(to)) KeepParent(edits, from);
        _masked.Remove(to);
        if (_buffers.Remove(to, out WriteBuffer? replaced))
        {
            replaced.Detached = true;
            if (replaced.Handles == 0) replaced.Wipe();
        }
        string? origin = buffer?.Origin;
        try
        {
            Commit(edits, touched: []);
        }
        finally
        {
            foreach (SecretEdit.Set set in edits.OfType<SecretEdit.Set>()) Array.Clear(set.Value);
        }
        if (buffer is not null)
        {
            buffer.Dirty = false;
            buffer.Origin = null;
            MoveBuffer(buffer, from, to, scratch: false);
            if (buffer.Handles == 0) DropBuffer(buffer);
        }
        foreach (string path in new[] { from, to, origin }.OfType<string>()) RefreshPath(path);
    }

    private void RenameDirectory(string from, string to)
    {
        if (_view.IsFile(to)) throw new FsException(FsError.NotDirectory);
        if (to.StartsWith(from + "/", StringComparison.Ordinal)) throw new FsException(FsError.InvalidName, "a directory cannot move into itself");
        if (_view.Directories.TryGetValue(to, out DirectoryEntryList? target) && target.Children.Count > 0) throw new FsException(FsError.NotEmpty);
        string Renamed(string path) => to + path[from.Length..];
        bool Under(string path) => path == from || path.StartsWith(from + "/", StringComparison.Ordinal);

        var edits = new List<SecretEdit>();
        foreach (SecretInfo secret in _secretByPath.Values.Where(s => Under(s.Path) && !_masked.Contains(s.Path)))
            edits.Add(new SecretEdit.Move(secret.Path, Renamed(secret.Path)));
        foreach (string record in _directoryRecords.Where(Under))
            edits.AddRange([new SecretEdit.RemoveDirectory(record), new SecretEdit.MakeDirectory(Renamed(record))]);
        if (_directoryRecords.Contains(to)) edits.Add(new SecretEdit.RemoveDirectory(to));
        Commit(edits, touched: []);
        foreach (WriteBuffer buffer in _buffers.Values.Where(b => Under(b.Path)).ToList()) MoveBuffer(buffer, buffer.Path, Renamed(buffer.Path), buffer.Scratch);
        foreach (string masked in _masked.Where(Under).ToList())
        {
            _masked.Remove(masked);
            _masked.Add(Renamed(masked));
        }
    }

    // A directory stays until rmdir, as on any filesystem: when its last file leaves, record it.
    private void KeepParent(List<SecretEdit> edits, string path)
    {
        string parent = TreeView.Parent(path);
        if (parent.Length == 0 || _directoryRecords.Contains(parent)) return;
        if (_view.Directories.TryGetValue(parent, out DirectoryEntryList? directory) && directory.Children.Count == 1)
            edits.Add(new SecretEdit.MakeDirectory(parent));
    }

    private void MoveBuffer(WriteBuffer buffer, string from, string to, bool scratch)
    {
        if (_buffers.TryGetValue(from, out WriteBuffer? atFrom) && atFrom == buffer) _buffers.Remove(from);
        buffer.Path = to;
        buffer.Scratch = scratch;
        _buffers[to] = buffer;
    }

    // ---- saving --------------------------------------------------------------------------

    /// <summary>The shared write buffer of a file, made from its current version when it has none.</summary>
    private WriteBuffer BufferFor(string path, bool truncate)
    {
        if (!_buffers.TryGetValue(path, out WriteBuffer? buffer))
        {
            FileEntry file = _view.Files[path];
            buffer = new WriteBuffer(path, scratch: false, truncate ? [] : CurrentContent(path).Span, file.Modified);
            _buffers[path] = buffer;
            RefreshPath(path);
        }
        if (truncate)
        {
            lock (buffer) Truncate(buffer, 0);
        }
        return buffer;
    }

    private static void Truncate(WriteBuffer buffer, long size)
    {
        if (size == buffer.Length) return;
        buffer.Truncate(size);
        buffer.Dirty = true;
        buffer.Modified = DateTimeOffset.UtcNow;
    }

    /// <summary>Commits a changed buffer as the next version of its path (one version per save).</summary>
    private void Save(WriteBuffer buffer)
    {
        if (!buffer.Dirty || buffer.Scratch || buffer.Detached) return;
        byte[] bytes;
        lock (buffer)
        {
            bytes = buffer.Span.ToArray();
            buffer.Dirty = false;
        }
        try
        {
            bool unchanged = Committed(buffer.Path) && CurrentContent(buffer.Path).Span.SequenceEqual(bytes);
            if (!unchanged) Commit([new SecretEdit.Set(buffer.Path, bytes)], touched: []);
        }
        catch
        {
            buffer.Dirty = true;
            throw;
        }
        finally
        {
            Array.Clear(bytes);
        }
        if (_nodes.TryGetNode(buffer.Path, out ulong node))
        {
            MarkReadersStale(node);
            Changed?.Invoke(new TreeChange(node));
        }
    }

    private void MarkReadersStale(ulong node)
    {
        foreach (OpenHandle open in _handles.Values)
            if (open.Node == node && open.Snapshot is not null) open.Stale = true;
    }

    private void DropBuffer(WriteBuffer buffer)
    {
        if (_buffers.TryGetValue(buffer.Path, out WriteBuffer? current) && current == buffer) _buffers.Remove(buffer.Path);
        buffer.Wipe();
        RefreshPath(buffer.Path);
    }

    /// <summary>
    /// Commits edits (if any) and brings the view up to date for them and for the
    /// <paramref name="touched"/> paths whose in-memory state changed. When only our change
    /// landed, that is O(paths); when others' changes came with it, a full reload announces them.
    /// </summary>
    private void Commit(IReadOnlyList<SecretEdit> edits, IReadOnlyList<string> touched)
    {
        long before = _keynode.ChangeCount;
        if (edits.Count > 0)
        {
            try
            {
                _keynode.Commit(edits);
            }
            catch (PolykeyException e)
            {
                throw new FsException(e.Kind switch
                {
                    FailureKind.AccessDenied => FsError.ReadOnly,
                    FailureKind.Usage => FsError.InvalidName,
                    FailureKind.NotFound => FsError.NotFound,
                    FailureKind.Conflict => FsError.Exists,
                    _ => e.Message.Contains("no space", StringComparison.Ordinal) ? FsError.NoSpace : FsError.IoError,
                }, e.Message);
            }
        }
        var own = edits.SelectMany(EditedPaths).ToHashSet(StringComparer.Ordinal);
        foreach (string path in own) DropCached(path);
        long after = _keynode.ChangeCount;
        if (after != before + (edits.Count > 0 ? 1 : 0) || _loadedChangeCount != before)
        {
            ReloadAndAnnounce(own);
            return;
        }
        _loadedChangeCount = after;
        foreach (SecretEdit edit in edits)
        {
            if (edit is SecretEdit.MakeDirectory mkdir) SetRecord(mkdir.Path, true);
            else if (edit is SecretEdit.RemoveDirectory rmdir) SetRecord(rmdir.Path, false);
        }
        foreach (string path in own.Concat(touched).Distinct())
        {
            if (_keynode.Find(path) is { } secret) _secretByPath[path] = secret;
            else _secretByPath.Remove(path);
            RefreshPath(path);
        }
    }

    private void SetRecord(string path, bool exists)
    {
        if (exists) _directoryRecords.Add(path);
        else _directoryRecords.Remove(path);
        _view.SetRecord(path, exists);
    }

    /// <summary>Shows what a path holds now: its write buffer, else its secret unless masked, else nothing.</summary>
    private void RefreshPath(string path)
    {
        SecretInfo? secret = _secretByPath.GetValueOrDefault(path);
        FileEntry? entry = _buffers.TryGetValue(path, out WriteBuffer? buffer)
            ? new FileEntry(buffer.Length, buffer.Modified, secret?.Tip, buffer)
            : secret is not null && !_masked.Contains(path) ? new FileEntry(secret.Size, secret.Modified, secret.Tip, null) : null;
        _view.SetFile(path, entry);
    }

    private static IEnumerable<string> EditedPaths(SecretEdit edit) => edit switch
    {
        SecretEdit.Set s => [s.Path],
        SecretEdit.Remove r => [r.Path],
        SecretEdit.Move m => [m.Source, m.Destination],
        SecretEdit.MakeDirectory d => [d.Path],
        SecretEdit.RemoveDirectory d => [d.Path],
        _ => [],
    };

    // ---- state ---------------------------------------------------------------------------

    private void Reload()
    {
        _loadedChangeCount = _keynode.ChangeCount;
        _secretByPath = _keynode.List().ToDictionary(s => s.Path, StringComparer.Ordinal);
        _directoryRecords = _keynode.ListDirectories().ToHashSet(StringComparer.Ordinal);
        Rebuild();
    }

    private void Rebuild() => _view = TreeView.Build(_secretByPath.Values, _directoryRecords, _buffers, _masked, _mountedAt);

    private bool Committed(string path) => _secretByPath.ContainsKey(path);

    /// <summary>The decrypted current version of a committed secret, cached until it changes.</summary>
    private SecretContent CurrentContent(string path)
    {
        string? tip = _view.Files.TryGetValue(path, out FileEntry? file) ? file.Tip : _secretByPath.GetValueOrDefault(path)?.Tip;
        if (tip is null) return SecretContent.Copy([]);
        if (_cache.TryGetValue(path, out var cached) && cached.Tip == tip) return cached.Content;
        DropCached(path);
        SecretContent content;
        try
        {
            using SecretBytes value = _keynode.Get(path);
            content = SecretContent.Copy(value.Span);
        }
        catch (PolykeyException e)
        {
            throw new FsException(e.Kind == FailureKind.NotFound ? FsError.NotFound : FsError.IoError, e.Message);
        }
        _cache[path] = (tip, content);
        return content;
    }

    private void DropCached(string path)
    {
        if (_cache.Remove(path, out var cached)) cached.Content.Release();
    }

    private void RaiseInvalidations(IEnumerable<string> paths)
    {
        var known = _nodes.Known().ToDictionary(k => k.Path, k => k.Node, StringComparer.Ordinal);
        foreach (string path in paths.Distinct())
        {
            if (known.TryGetValue(path, out ulong node))
            {
                MarkReadersStale(node);
                Changed?.Invoke(new TreeChange(node));
            }
            for (string p = path; p.Length > 0; p = TreeView.Parent(p))
            {
                if (known.TryGetValue(TreeView.Parent(p), out ulong parent)) Changed?.Invoke(new TreeChange(parent, TreeView.Name(p)));
            }
        }
    }

    private ulong AddHandle(ulong node, OpenMode mode, WriteBuffer? buffer, SecretContent? snapshot)
    {
        if (buffer is not null) buffer.Handles++;
        ulong handle = (ulong)Interlocked.Increment(ref _nextHandle);
        _handles[handle] = new OpenHandle(node, mode, buffer, snapshot);
        _nodes.AddHandle(node);
        return handle;
    }

    private OpenHandle Handle(ulong handle) =>
        _handles.TryGetValue(handle, out OpenHandle? open) ? open : throw new FsException(FsError.BadHandle);

    private NodeInfo Info(ulong node, string path)
    {
        if (_view.Directories.TryGetValue(path, out DirectoryEntryList? directory))
            return new NodeInfo(node, NodeKind.Directory, 0, directory.Modified, DirectoryMode);
        if (_view.Files.TryGetValue(path, out FileEntry? file))
        {
            long size = file.Buffer is { } buffer ? buffer.Length : file.Size;
            return new NodeInfo(node, NodeKind.File, size, file.Modified, FileMode);
        }
        throw new FsException(FsError.NotFound);
    }

    private string PathOf(ulong node) => _nodes.PathOf(node) ?? throw new FsException(FsError.NotFound);

    private string DirectoryPath(ulong node)
    {
        string path = PathOf(node);
        if (_view.IsDirectory(path)) return path;
        throw new FsException(_view.IsFile(path) ? FsError.NotDirectory : FsError.NotFound);
    }

    private void RequireWritable()
    {
        if (IsReadOnly) throw new FsException(FsError.ReadOnly);
    }

    private static void CheckName(string path)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(path) > SecretPath.MaxBytes) throw new FsException(FsError.NameTooLong);
        if (!SecretPath.IsValid(path)) throw new FsException(FsError.InvalidName);
    }
}
