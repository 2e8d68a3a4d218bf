using Polykey.Core;

namespace Polykey.Fs;

// Files written without handles: the adapter lets the kernel's page cache collect writes and
// hands them over when it writes the file back, which it does when the file is closed or
// synced, one request per dirty stretch, and then says the pass is over (WrittenBack): the
// pass becomes one version then. The few changes that reach the tree with no such end
// (a truncation and nothing more, a new empty file, a large file written back in several
// parts) are saved after a quiet second, at fsync, at a rename, or at unmount.
public sealed partial class SecretTree
{
    private static readonly TimeSpan QuietSaveDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan NewFileQuietDelay = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan LongestDeferral = TimeSpan.FromSeconds(5);

    private Timer? _quietSaveTimer;

    // Nodes whose write-back failed: they take no more writes until the kernel forgets them.
    private readonly HashSet<ulong> _discarded = new();

    public bool AcceptsWriteBack => true;

    public int WriteNode(ulong node, long offset, ReadOnlySpan<byte> data, bool mayContinue)
    {
        RequireWritable();
        lock (_gate)
        {
            RefuseDiscarded(node);
            string path = PathForWriting(node);
            // Written back after its name was removed (unlinked while open): dropped, as a local
            // filesystem drops an unlinked file's bytes when its last descriptor closes.
            if (UnlinkedWhileOpen(node, path)) return data.Length;
            if (!_view.IsFile(path)) throw new FsException(_view.IsDirectory(path) ? FsError.IsDirectory : FsError.NotFound);
            WriteBuffer buffer = BufferFor(path, truncate: false);
            try
            {
                lock (buffer)
                {
                    buffer.Write(offset, data);
                    buffer.Dirty = true;
                    buffer.Modified = DateTimeOffset.UtcNow;
                }
            }
            catch (FsException e)
            {
                DiscardUnsaved(buffer, node, e);
                throw;
            }
            long end = offset + data.Length;
            bool fitsOneRequest = !mayContinue && buffer.Length <= IFileTree.WriteBackSaveLimit;
            if (fitsOneRequest && end < buffer.Length)
            {
                // A stretch short of the end: more of the pass may follow (pages written at two
                // places), which ends with WrittenBack, or else a quiet second.
                buffer.AwaitsEndOfPass = true;
                SaveWhenQuiet();
            }
            else if (fitsOneRequest || OverdueAtItsEnd(buffer, end))
            {
                // The kernel writes a pass's stretches in order: the one that reaches the end is
                // its last, and the end of a pass cannot be counted on (the kernel flushes the
                // file's times only when a write moved them, which two writes within one clock
                // tick do not). A large file's parts wait, unless the wait has gone on too long.
                SaveOrDiscard(buffer, node);
            }
            else
            {
                buffer.DeferredSince ??= DateTimeOffset.UtcNow;
                SaveWhenQuiet();
            }
            return data.Length;
        }
    }

    /// <summary>
    /// A file written back in parts is saved after a quiet time, which a program that keeps
    /// rewriting it (a 1 MiB state file every second) would put off forever. Past
    /// <see cref="LongestDeferral"/> the save happens at the next write-back part that reaches
    /// the file's end, so such a file gets a version every few seconds; a slow writer of one
    /// large file may leave an intermediate version.
    /// </summary>
    private static bool OverdueAtItsEnd(WriteBuffer buffer, long end) =>
        buffer.DeferredSince is { } since && DateTimeOffset.UtcNow - since >= LongestDeferral && end >= buffer.Length;

    private bool UnlinkedWhileOpen(ulong node, string path) => _retired.ContainsKey(node) && !_view.Exists(path);

    public void WrittenBack(ulong node)
    {
        lock (_gate)
        {
            // A node whose write-back failed has reported it already; a forgotten or unlinked one saves nothing.
            if (_discarded.Contains(node) || _nodes.PathOf(node) is not { } path || UnlinkedWhileOpen(node, path)) return;
            // Only a pass that brought a stretch short of the end: the kernel also flushes times
            // in the background while a program is still filling a file, possibly before that
            // pass's WRITEs are handled, and a large file's parts are saved after the quiet time.
            if (_buffers.TryGetValue(path, out WriteBuffer? buffer) && buffer.AwaitsEndOfPass && buffer.Handles == 0 && buffer.Dirty
                && !buffer.Scratch && buffer.DeferredSince is null && buffer.Length <= IFileTree.WriteBackSaveLimit)
                SaveOrDiscard(buffer, node);
        }
    }

    public void SyncNode(ulong node)
    {
        lock (_gate)
        {
            RefuseDiscarded(node);
            string path = PathForWriting(node);
            if (UnlinkedWhileOpen(node, path)) return;
            if (_buffers.TryGetValue(path, out WriteBuffer? buffer) && buffer.Handles == 0) SaveOrDiscard(buffer, node);
        }
    }

    /// <summary>A save someone waits for (close, fsync): on failure its bytes go, and the error reaches them.</summary>
    private void SaveOrDiscard(WriteBuffer buffer, ulong node)
    {
        try
        {
            SaveWrittenBack(buffer);
        }
        catch (FsException e)
        {
            DiscardUnsaved(buffer, node, e);
            throw;
        }
    }

    /// <summary>
    /// After a write-back that could not be taken or saved (its close or fsync reports the
    /// error): the file's unsaved bytes are dropped (a new file stays, empty), and the path gets a new node, because
    /// the kernel keeps its own idea of a written file's size. The old node shows the last
    /// saved version to whoever has it open, and refuses further writes: the rest of a
    /// failed write-back must not land on top of the saved version.
    /// </summary>
    private void DiscardUnsaved(WriteBuffer buffer, ulong node, FsException failure)
    {
        string path = buffer.Path;
        if (buffer.Handles > 0) return; // its last close tries again and reports
        SecretInfo? saved = _secretByPath.GetValueOrDefault(path);
        bool isNew = saved is null && !_masked.Contains(path);
        if (isNew)
        {
            // A new file whose first write-back failed: it was created all the same, so it stays,
            // empty, as a local filesystem keeps a file whose write failed (saved as `touch` would).
            lock (buffer) buffer.Truncate(0);
            buffer.Dirty = true;
            RefreshPath(path);
            SaveWhenQuiet(NewFileQuietDelay);
        }
        else
        {
            DropBuffer(buffer);
        }
        _nodes.Detach(path);
        if (saved is not null) Retire(node, saved);
        else if (isNew) RetireUnsavedNewFile(node, path);
        if (_nodes.Knows(node)) _discarded.Add(node);
        Changed?.Invoke(new TreeChange(node));
        RaiseInvalidations([path]);
        // The kernel turns most errors of a write-back into EIO at close: the line says which.
        ReportSaveFailure($"{path}: written bytes not saved: {failure.Message}; {(isNew ? "the new file stays, empty" : "it keeps its last saved version")}");
    }

    private void ReportSaveFailure(string line)
    {
        try
        {
            SaveFailed?.Invoke(line);
        }
        catch (Exception)
        {
            // A reporter that fails (a closed stderr) must not take saving down with it.
        }
    }

    private void RefuseDiscarded(ulong node)
    {
        if (_discarded.Contains(node)) throw new FsException(FsError.IoError, "an earlier save of this file failed; open it again");
    }

    public NodeInfo CreateNode(ulong parent, string name, bool truncate, uint permissions)
    {
        RequireWritable();
        lock (_gate)
        {
            string path = NewFilePath(parent, name, out WriteBuffer? created);
            if (created is not null)
            {
                // Unless its write-back comes first. Longer than the usual quiet time: a program may
                // still be filling the page cache of a large new file, whose write-back starts only
                // at its close; an empty version saved meanwhile would be a version too many.
                if (!created.Scratch) SaveWhenQuiet(NewFileQuietDelay);
            }
            else if (truncate)
            {
                WriteBuffer buffer = BufferFor(path, truncate: true);
                if (buffer.Handles == 0) SaveWhenQuiet();
            }
            return Info(_nodes.Ensure(path, countLookup: true), path);
        }
    }

    /// <summary>
    /// Saves a buffer whose bytes the kernel's page cache already shows, so the cache stays;
    /// drops the buffer unless a handle still has it open.
    /// </summary>
    private void SaveWrittenBack(WriteBuffer buffer)
    {
        Save(buffer, invalidateCache: false);
        if (buffer.Handles == 0 && !buffer.Scratch) DropBuffer(buffer);
    }

    private void SaveWhenQuiet(TimeSpan? delay = null)
    {
        _quietSaveTimer ??= new Timer(_ => SavePending(), null, Timeout.Infinite, Timeout.Infinite);
        _quietSaveTimer.Change(delay ?? QuietSaveDelay, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Saves every buffer that changed with no handle to save it at close.</summary>
    private void SavePending()
    {
        lock (_gate)
        {
            if (_quietSaveTimer is null) return; // disposed meanwhile
            // A failed one stays in memory, still shown by the mount, and is tried again later.
            if (!SaveAllPending(stopping: false)) SaveWhenQuiet();
        }
    }

    /// <summary>False when some pending buffer could not be saved (it is kept, unless the mount is stopping).</summary>
    private bool SaveAllPending(bool stopping)
    {
        bool saved = true;
        foreach (WriteBuffer buffer in _buffers.Values.Where(b => b.Handles == 0 && b.Dirty && !b.Scratch && !b.Detached).ToList())
        {
            try
            {
                SaveWrittenBack(buffer);
                buffer.SaveFailureReported = false;
            }
            catch (FsException e)
            {
                saved = false;
                if (stopping)
                    ReportSaveFailure($"{buffer.Path}: written bytes not saved: {e.Message}; the mount is stopping, so they are lost");
                else if (!buffer.SaveFailureReported)
                    ReportSaveFailure($"{buffer.Path}: written bytes not saved yet: {e.Message}; kept in memory and tried again every second");
                buffer.SaveFailureReported = true;
            }
        }
        return saved;
    }

    /// <summary>The bytes a handle-less buffer holds for a node, while one waits to be saved.</summary>
    private bool TryReadPending(ulong node, long offset, Span<byte> destination, out int count)
    {
        count = 0;
        if (_retired.ContainsKey(node) || _nodes.PathOf(node) is not { } path || !_buffers.TryGetValue(path, out WriteBuffer? buffer)) return false;
        lock (buffer) count = buffer.Read(offset, destination);
        return true;
    }

    /// <summary>At unmount: what waits for the quiet time is saved now (with the keynode unwritable, it is lost).</summary>
    private void StopQuietSaves()
    {
        _quietSaveTimer?.Dispose();
        _quietSaveTimer = null;
        SaveAllPending(stopping: true);
    }
}
