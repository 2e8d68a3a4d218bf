using System.Collections.Concurrent;

namespace Polykey.Fs.Linux;

/// <summary>One open directory: the entries as they were at opendir, so a readdir that
/// takes several calls never skips or repeats an entry while the directory changes.</summary>
internal sealed record DirectorySnapshot(ulong Node, IReadOnlyList<DirectoryEntry> Entries);

/// <summary>Open directory handles, numbered by the adapter (the tree has no directory handles).</summary>
internal sealed class DirectorySnapshots
{
    private readonly ConcurrentDictionary<ulong, DirectorySnapshot> _open = new();
    private long _next;

    public ulong Add(DirectorySnapshot snapshot)
    {
        var handle = (ulong)Interlocked.Increment(ref _next);
        _open[handle] = snapshot;
        return handle;
    }

    public DirectorySnapshot? Get(ulong handle) => _open.TryGetValue(handle, out var snapshot) ? snapshot : null;

    public void Remove(ulong handle) => _open.TryRemove(handle, out _);

    public void Clear() => _open.Clear();
}
