using Polykey.Core;

namespace Polykey.Fs;

/// <summary>Write buffers, commits, and keeping the view and caches in step with the keynode.</summary>
public sealed partial class SecretTree
{
    /// <summary>The shared write buffer of a file, made from its current version when it has none.</summary>
    private WriteBuffer BufferFor(string path, bool truncate)
    {
        if (!_buffers.TryGetValue(path, out WriteBuffer? buffer))
        {
            FileEntry file = _view.Files[path];
            buffer = new WriteBuffer(path, scratch: false, truncate ? [] : CurrentContent(path).Span, file.Modified);
            // Opened emptied (O_TRUNC): the bytes it had are gone, which is a change to save.
            if (truncate && file.Size > 0)
            {
                buffer.Dirty = true;
                buffer.Modified = DateTimeOffset.UtcNow;
            }
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
    private void Save(WriteBuffer buffer, bool invalidateCache = true)
    {
        if (!buffer.Dirty || buffer.Scratch || buffer.Detached) return;
        byte[] bytes;
        lock (buffer)
        {
            bytes = buffer.Span.ToArray();
            buffer.Dirty = false;
            buffer.DeferredSince = null;
            buffer.AwaitsEndOfPass = false;
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
            if (invalidateCache) Changed?.Invoke(new TreeChange(node));
        }
    }

    private void MarkReadersStale(ulong node)
    {
        foreach (OpenHandle open in _handles.Values)
        {
            if (open.Node != node || open.Snapshot is null || open.Stale) continue;
            open.Stale = true;
            CountStaleReader(node, +1);
        }
    }

    private void CountStaleReader(ulong node, int delta)
    {
        int readers = _staleReaders.AddOrUpdate(node, delta, (_, count) => count + delta);
        if (readers <= 0) _staleReaders.TryRemove(node, out _);
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

    private void Reload()
    {
        _loadedChangeCount = _keynode.ChangeCount;
        _secretByPath = _keynode.List().ToDictionary(s => s.Path, StringComparer.Ordinal);
        _directoryRecords = _keynode.ListDirectories().ToHashSet(StringComparer.Ordinal);
        Rebuild();
    }

    private void Rebuild()
    {
        _view = TreeView.Build(_secretByPath.Values, _directoryRecords, _buffers, _masked, _mountedAt);
        ApplyEntryTimes();
    }

    private bool Committed(string path) => _secretByPath.ContainsKey(path);

    /// <summary>The decrypted current version of a committed secret, cached until it changes.</summary>
    private SecretContent CurrentContent(string path)
    {
        string? tip = _view.Files.TryGetValue(path, out FileEntry? file) ? file.Tip : _secretByPath.GetValueOrDefault(path)?.Tip;
        if (tip is null) return SecretContent.Copy([]);
        if (_cache.TryGetValue(path, out var cached) && cached.Tip == tip) return cached.Content;
        DropCached(path);
        SecretContent content = Decrypt(() => _keynode.Get(path));
        _cache[path] = (tip, content);
        return content;
    }

    /// <summary>A decrypted value moved into locked memory; keynode failures become file errors.</summary>
    private static SecretContent Decrypt(Func<SecretBytes> read) => Served(() =>
    {
        using SecretBytes value = read();
        return SecretContent.Copy(value.Span);
    });

    // The keynode's refusals as file errors: missing is ENOENT, refused (a stale origin) EACCES, the rest EIO.
    private static T Served<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (PolykeyException e)
        {
            throw new FsException(e.Kind switch
            {
                FailureKind.NotFound => FsError.NotFound,
                FailureKind.AccessDenied => FsError.AccessDenied,
                _ => FsError.IoError,
            }, e.Message);
        }
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
            return WithSetTimes(path, new NodeInfo(node, NodeKind.Directory, 0, directory.Modified, ModeOf(path, NodeKind.Directory), Links: 2 + (uint)directory.Subdirectories), null);
        if (_view.Files.TryGetValue(path, out FileEntry? file))
        {
            long size = file.Buffer is { } buffer ? buffer.Length : file.Size;
            return WithSetTimes(path, new NodeInfo(node, NodeKind.File, size, file.Modified, ModeOf(path, NodeKind.File)), file.Tip ?? "");
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
