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
public sealed partial class SecretTree : IFileTree, IDisposable
{
    /// <summary>The mode of a file no one has chmod'ed, unless the mount says otherwise.</summary>
    public const uint DefaultFileMode = 0x180; // 0600

    private readonly uint _fileMode;
    private readonly uint _directoryMode;

    private readonly Keynode _keynode;
    private readonly object _gate = new();
    private readonly NodeTable _nodes = new();
    private readonly Dictionary<string, WriteBuffer> _buffers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _masked = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Tip, SecretContent Content)> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ulong, OpenHandle> _handles = new();
    // Nodes whose kernel page cache an old-version reader may have filled.
    private readonly ConcurrentDictionary<ulong, bool> _staleCache = new();
    // How many open readers of each node read a version older than the node's current one.
    private readonly ConcurrentDictionary<ulong, int> _staleReaders = new();
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
        /// <summary>Something was written through this handle (a close of one that wrote nothing to an emptied file may not be the last).</summary>
        public volatile bool Wrote;
        public ulong Node { get; } = node;
        public OpenMode Mode { get; } = mode;
        public WriteBuffer? Buffer { get; } = buffer;
        public SecretContent? Snapshot { get; } = snapshot;
        public bool Writable => (Mode & OpenMode.Write) != 0;
    }

    /// <param name="fileMode">Permission bits every file shows until chmod'ed; directories get x wherever r is set.</param>
    public SecretTree(Keynode keynode, bool readOnly, uint fileMode = DefaultFileMode)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(fileMode, 0x1FFu);
        _keynode = keynode;
        IsReadOnly = readOnly;
        _fileMode = fileMode;
        _directoryMode = DirectoryModeFor(fileMode);
        lock (_gate)
        {
            Reload();
            ArmStaleTimer();
        }
    }

    public bool IsReadOnly { get; }

    /// <summary>NAME_MAX: the longest name (one path component) in bytes.</summary>
    public const int MaxNameBytes = 255;

    public event Action<TreeChange>? Changed;

    /// <summary>Secret paths that changed because of another process (not through this tree).</summary>
    public event Action<IReadOnlyList<string>>? SecretsChanged;

    /// <summary>
    /// One line for each save of written bytes that failed where no caller waits to hear it (a
    /// write-back the kernel reports only as EIO at close, a quiet-time save): what and why,
    /// never a value. The mount process prints it, so under systemd it reaches the journal.
    /// </summary>
    public event Action<string>? SaveFailed;

    public NodeInfo Lookup(ulong parent, string name)
    {
        lock (_gate)
        {
            // As a local filesystem answers a name no directory can hold, before looking.
            if (System.Text.Encoding.UTF8.GetByteCount(name) > MaxNameBytes) throw new FsException(FsError.NameTooLong);
            string path = TreeView.Join(DirectoryPath(parent), name);
            if (!_view.Exists(path)) throw new FsException(FsError.NotFound);
            return Info(_nodes.Ensure(path, countLookup: true), path);
        }
    }

    public void Forget(ulong node, ulong count)
    {
        lock (_gate)
        {
            if (_nodes.Forget(node, count)) ForgetRetired(node);
        }
    }

    public NodeInfo GetAttributes(ulong node)
    {
        lock (_gate) return TryRetiredInfo(node, out NodeInfo retired) ? retired : Info(node, PathOf(node));
    }

    public NodeInfo SetAttributes(ulong node, ulong? handle, AttributeChange change)
    {
        RequireWritable();
        lock (_gate)
        {
            // An unlinked file still open: the kernel's closing touch of its times is accepted (as for any file here).
            if (change.Size is null && TryRetiredInfo(node, out NodeInfo retired)) return retired;
            string path = PathForWriting(node);
            if (change.Size is { } size)
            {
                if (!_view.IsFile(path)) throw new FsException(_view.IsDirectory(path) ? FsError.IsDirectory : FsError.NotFound);
                if (handle == 0)
                {
                    // Open without a handle (O_TRUNC, ftruncate): the write-back that follows saves it.
                    WriteBuffer buffer = BufferFor(path, truncate: false);
                    lock (buffer) Truncate(buffer, size);
                    SaveWhenQuiet();
                }
                else if (OpenBuffer(path, handle) is { } openBuffer)
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
            NodeKind kind = Info(node, path).Kind;
            if (change.Mode is { } mode) SetMode(path, kind, mode & 0x1FF);
            // A chmod moves ctime too, so it goes through the set times even with no time given.
            if (change.Modified is not null || change.Accessed is not null || change.Mode is not null)
                SetTimesOf(path, kind, change.Accessed, change.Modified);
            return Info(node, path);
        }
    }

    public void Allocate(ulong node, ulong? handle, long end, bool keepSize)
    {
        RequireWritable();
        if (end > WriteBuffer.MaxSize) throw new FsException(FsError.TooBig, "a secret may hold at most 64 MiB");
        NodeInfo info = GetAttributes(node);
        if (info.Kind != NodeKind.File) throw new FsException(FsError.IsDirectory);
        // Room is not reserved (a value is held in memory until saved): only growing is a change.
        if (keepSize || end <= info.Size) return;
        SetAttributes(node, handle, new AttributeChange(Size: end));
    }

    /// <summary>The write buffer a handle (or, failing that, any open handle) has for a path.</summary>
    private WriteBuffer? OpenBuffer(string path, ulong? handle)
    {
        if (handle is { } h && _handles.TryGetValue(h, out OpenHandle? open) && open.Buffer is { } own) return own;
        return _buffers.TryGetValue(path, out WriteBuffer? shared) && shared.Handles > 0 ? shared : null;
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
            if (!writing && _retired.ContainsKey(node)) return AddHandle(node, mode, null, NodeContent(node).Share());
            string path = writing ? PathForWriting(node) : PathOf(node);
            if (!_view.IsFile(path)) throw new FsException(_view.IsDirectory(path) ? FsError.IsDirectory : FsError.NotFound);
            if (writing) return AddHandle(node, mode, BufferFor(path, (mode & OpenMode.Truncate) != 0), null);
            if (_buffers.TryGetValue(path, out WriteBuffer? live)) return AddHandle(node, mode, live, null);
            // Checked at every open, not only when the content is first read: a value kept in memory goes stale too.
            RequireServed(path);
            return AddHandle(node, mode, null, CurrentContent(path).Share());
        }
    }

    public (NodeInfo Info, ulong Handle) Create(ulong parent, string name, OpenMode mode, uint permissions)
    {
        RequireWritable();
        lock (_gate)
        {
            string path = NewFilePath(parent, name, out _);
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
        int n = CopyOut(open.Snapshot!.Span, offset, buffer);
        if (open.Stale)
        {
            // These old bytes now sit in the shared page cache: have it dropped again.
            _staleCache[open.Node] = true;
            Changed?.Invoke(new TreeChange(open.Node));
        }
        return n;
    }

    public PageCacheUse CacheUseFor(ulong handle)
    {
        if (!_handles.TryGetValue(handle, out OpenHandle? open)) return PageCacheUse.Keep;
        if (_staleReaders.TryGetValue(open.Node, out int readers) && readers > 0) return PageCacheUse.Bypass;
        return _staleCache.TryRemove(open.Node, out _) ? PageCacheUse.Drop : PageCacheUse.Keep;
    }

    public int Write(ulong handle, long offset, ReadOnlySpan<byte> data)
    {
        OpenHandle open = Handle(handle);
        if (!open.Writable || open.Buffer is null) throw new FsException(FsError.BadHandle);
        WriteBuffer buffer = open.Buffer;
        open.Wrote = true;
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
        // `echo x > f` opens f emptied, dup2()s it to stdout and closes the first descriptor
        // before writing: that close wrote nothing to an empty file, and saving it would make an
        // empty version before x. Such a close saves nothing; the last one (release) saves what
        // is left, so `: > f` still ends as one empty version.
        if (!open.Wrote && open.Buffer.Length == 0) return;
        lock (_gate) Save(open.Buffer);
    }

    public void Sync(ulong handle)
    {
        // fsync asks for what is written so far, an emptied file included.
        if (Handle(handle).Buffer is { } buffer) lock (_gate) Save(buffer);
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
                if (open.Stale) CountStaleReader(open.Node, -1);
                open.Snapshot?.Release();
                _nodes.RemoveHandle(open.Node);
            }
        }
    }

    /// <summary>
    /// The path a create names, with an empty unsaved buffer when no file is there yet
    /// (<paramref name="created"/>); scratch names get a buffer that is never saved.
    /// </summary>
    private string NewFilePath(ulong parent, string name, out WriteBuffer? created)
    {
        created = null;
        string path = TreeView.Join(DirectoryPath(parent), name);
        if (_view.IsDirectory(path)) throw new FsException(FsError.IsDirectory);
        if (_view.IsFile(path)) return path;
        CheckName(path);
        bool scratch = ScratchNames.IsScratch(name);
        _masked.Remove(path);
        created = new WriteBuffer(path, scratch, [], DateTimeOffset.UtcNow) { Dirty = !scratch };
        _buffers[path] = created;
        RefreshPath(path);
        EntryCameOrWent(path);
        return path;
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
            EntriesChanged(path); // made now: never older than the directory it is in
            EntryCameOrWent(path);
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
            var removed = VersionAt(path);
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
            RetireRemoved(removed);
            ForgetModes(path);
            EntryCameOrWent(path);
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
            var edits = new List<SecretEdit>();
            if (_directoryRecords.Contains(path)) edits.Add(new SecretEdit.RemoveDirectory(path));
            // The last subdirectory leaving a directory must not take the directory with it.
            KeepParent(edits, path);
            Commit(edits, touched: []);
            ForgetModes(path);
            EntryCameOrWent(path);
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
                _nodes.Move(from, to);
            }
            else
            {
                var replaced = VersionAt(to);
                RenameFile(from, to, newName);
                _nodes.Move(from, to);
                RetireRemoved(replaced);
            }
            MoveModes(from, to);
            EntryCameOrWent(from);
            EntryCameOrWent(to);
        }
    }

    /// <summary>
    /// Lock-free first question of a watcher: could a keynode file of this length hold news for
    /// this tree? (Also when the keynode read changes this tree has not loaded, as a commit that
    /// failed after reading others' changes leaves it.)
    /// </summary>
    public bool MayHaveNews(long keynodeLength) => _keynode.MayHoldNewChanges(keynodeLength, Volatile.Read(ref _loadedChangeCount));

    /// <summary>Reads changes other processes made to the keynode; raises the change events.</summary>
    public void Refresh()
    {
        lock (_gate)
        {
            // The mount's own saves are read back as they are made: nothing new means nothing to redo.
            _keynode.Refresh();
            if (_keynode.ChangeCount == _loadedChangeCount) return;
            ReloadAndAnnounce(new HashSet<string>(StringComparer.Ordinal));
            ArmStaleTimer();
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
        TreeView viewBefore = _view;
        Reload();
        List<string> changed = _secretByPath.Values.Where(s => !before.TryGetValue(s.Path, out SecretInfo? old) || old.Tip != s.Tip).Select(s => s.Path)
            .Concat(before.Keys.Where(p => !_secretByPath.ContainsKey(p)))
            .Where(p => !own.Contains(p))
            .ToList();
        var directoriesChanged = new HashSet<string>(directoriesBefore, StringComparer.Ordinal);
        directoriesChanged.SymmetricExceptWith(_directoryRecords);
        directoriesChanged.ExceptWith(own);
        if (changed.Count == 0 && directoriesChanged.Count == 0) return;
        // Another process's secrets and directories that came or went: their directories' times move.
        foreach (string path in changed.Where(p => before.ContainsKey(p) != _secretByPath.ContainsKey(p)).Concat(directoriesChanged))
            EntryCameOrWent(path);
        RetireChanged(changed, before, viewBefore);
        foreach (string path in changed) DropCached(path);
        RaiseInvalidations(changed.Concat(directoriesChanged));
        // Handlers only queue work (the hook runs on its own thread), so raising under the lock is safe.
        if (changed.Count > 0) SecretsChanged?.Invoke(changed);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            StopQuietSaves();
            StopStaleTimer();
            foreach (OpenHandle open in _handles.Values) open.Snapshot?.Release();
            _handles.Clear();
            foreach (WriteBuffer buffer in _buffers.Values) buffer.Wipe();
            _buffers.Clear();
            foreach (var (_, (_, content)) in _cache) content.Release();
            ReleaseRetired();
            _cache.Clear();
        }
    }
}
