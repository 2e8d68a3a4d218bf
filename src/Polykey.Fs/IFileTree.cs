namespace Polykey.Fs;

public enum NodeKind
{
    File,
    Directory,
}

/// <summary>What stat shows of a node. Mode holds permission bits only (e.g. 0600, 0700).</summary>
/// <param name="Links">The link count; null for the usual (1 for a file, 2 for a directory that holds no directory).</param>
/// <param name="Accessed">atime; null for the same as <paramref name="Modified"/>.</param>
/// <param name="StatusChanged">ctime; null for the same as <paramref name="Modified"/>.</param>
public readonly record struct NodeInfo(
    ulong Node, NodeKind Kind, long Size, DateTimeOffset Modified, uint Mode, uint? Links = null,
    DateTimeOffset? Accessed = null, DateTimeOffset? StatusChanged = null);

/// <summary>One directory entry of a readdir snapshot.</summary>
public readonly record struct DirectoryEntry(string Name, NodeInfo Info);

[Flags]
public enum OpenMode
{
    Read = 1,
    Write = 2,
    Truncate = 4,
    Append = 8,
}

/// <summary>What a read-only open does with the pages the kernel cached for its file.</summary>
public enum PageCacheUse
{
    /// <summary>They hold the bytes this open reads: keep them.</summary>
    Keep,

    /// <summary>A reader of an older version may have filled them: drop them, then cache anew.</summary>
    Drop,

    /// <summary>Readers of an older version still read them: leave them to those and read past the cache.</summary>
    Bypass,
}

/// <summary>Changes a setattr call asks for; null means "leave as is".</summary>
public readonly record struct AttributeChange(long? Size = null, DateTimeOffset? Modified = null, uint? Mode = null, DateTimeOffset? Accessed = null);

/// <summary>
/// The platform-neutral file tree a mount adapter serves: node numbers, open handles and
/// plain bytes. Adapters (libfuse3, WinFsp) translate their callbacks into these calls and
/// map <see cref="FsException"/> to their error codes; they never see keys, git or tar.
/// All members are thread-safe. The root directory is node 1.
/// </summary>
public interface IFileTree
{
    const ulong RootNode = 1;

    /// <summary>True when every mutating call fails with <see cref="FsError.ReadOnly"/>.</summary>
    bool IsReadOnly { get; }

    /// <summary>Looks up a name in a directory; adds one lookup reference to the node (FUSE's nlookup).</summary>
    NodeInfo Lookup(ulong parent, string name);

    /// <summary>Drops lookup references; the tree may then forget the node number.</summary>
    void Forget(ulong node, ulong count);

    NodeInfo GetAttributes(ulong node);

    /// <summary>
    /// Changes attributes. A size change with no handle (truncate(2)) is saved at once; with
    /// a handle, at that handle's flush or last close; with handle 0 (a file open without a
    /// handle), at the node's next write-back, sync or quiet time.
    /// </summary>
    NodeInfo SetAttributes(ulong node, ulong? handle, AttributeChange change);

    /// <summary>
    /// fallocate: makes room for <paramref name="end"/> bytes; without <paramref name="keepSize"/>
    /// a shorter file grows to that size (zeros). Trees that cannot answer NotSupported.
    /// </summary>
    void Allocate(ulong node, ulong? handle, long end, bool keepSize) => throw new FsException(FsError.NotSupported);

    /// <summary>A stable snapshot of a directory's entries (without "." and "..").</summary>
    IReadOnlyList<DirectoryEntry> ReadDirectory(ulong node);

    /// <summary>Opens a file; returns a handle. Readers see the version current at open.</summary>
    ulong Open(ulong node, OpenMode mode);

    /// <summary>How a read-only open should use the kernel's page cache of its file.</summary>
    PageCacheUse CacheUseFor(ulong handle) => PageCacheUse.Keep;

    /// <summary>
    /// True when a file node always shows the same bytes: a change gives the path a new node,
    /// and the old node keeps its version for whoever still has it open. An adapter may then
    /// skip open, flush and release (no round trip per open) and read by node.
    /// </summary>
    bool NodesAreSnapshots => false;

    /// <summary>Reads a file node without a handle; see <see cref="NodesAreSnapshots"/>.</summary>
    int ReadNode(ulong node, long offset, Span<byte> buffer)
    {
        ulong handle = Open(node, OpenMode.Read);
        try
        {
            return Read(handle, offset, buffer);
        }
        finally
        {
            Release(handle);
        }
    }

    /// <summary>
    /// True when the tree takes handle-less writes (<see cref="WriteNode"/>,
    /// <see cref="CreateNode"/>, <see cref="SyncNode"/>): an adapter whose kernel caches
    /// writes can then skip opens on a writable tree too.
    /// </summary>
    bool AcceptsWriteBack => false;

    /// <summary>
    /// Writes bytes that an adapter's own write-back cache collected for a node, without a
    /// handle. The kernel writes a file back when it is closed or synced, in one request per
    /// dirty stretch, in order: a stretch that reaches the file's end is saved at once as one
    /// version; one short of it waits for <see cref="WrittenBack"/>, which ends the pass, or
    /// for a short quiet time. When more of the same stretch may follow
    /// (<paramref name="mayContinue"/>: a request as large as the adapter allows), or the
    /// file is over <see cref="WriteBackSaveLimit"/> bytes, only the quiet time saves it.
    /// Returns the bytes written.
    /// </summary>
    int WriteNode(ulong node, long offset, ReadOnlySpan<byte> data, bool mayContinue) => throw new FsException(FsError.BadHandle);

    /// <summary>
    /// The kernel has finished writing a node back (Linux flushes a file's times after its
    /// data): what the pass brought becomes one version now, and a failed save is thrown, for
    /// the adapter to report to the close or fsync that waits.
    /// </summary>
    void WrittenBack(ulong node)
    {
    }

    /// <summary>Saves now whatever a node has pending (fsync without a handle).</summary>
    void SyncNode(ulong node)
    {
    }

    /// <summary>
    /// Creates (or, when it exists, finds) a file to be written without a handle, through
    /// <see cref="WriteNode"/>; adds one lookup reference. A new file that no write-back
    /// follows is saved, empty, after a short quiet time.
    /// </summary>
    NodeInfo CreateNode(ulong parent, string name, bool truncate, uint permissions) => throw new FsException(FsError.BadHandle);

    /// <summary>The largest file a write-back saves at once; larger ones may be written back in parts.</summary>
    const int WriteBackSaveLimit = 1 << 20;

    /// <summary>Creates (or, when it exists, opens) a file and opens it; adds one lookup reference.</summary>
    (NodeInfo Info, ulong Handle) Create(ulong parent, string name, OpenMode mode, uint permissions);

    int Read(ulong handle, long offset, Span<byte> buffer);

    /// <summary>Writes at offset (or at the end for an Append handle); returns the bytes written.</summary>
    int Write(ulong handle, long offset, ReadOnlySpan<byte> data);

    /// <summary>A close of a handle: makes its changes durable now (one new version when the bytes changed).</summary>
    void Flush(ulong handle);

    /// <summary>fsync of a handle: like <see cref="Flush"/>, but every change is saved, with no exception for a close.</summary>
    void Sync(ulong handle) => Flush(handle);

    /// <summary>Closes a handle; the last close of a changed file saves it.</summary>
    void Release(ulong handle);

    NodeInfo MakeDirectory(ulong parent, string name);

    void Unlink(ulong parent, string name);

    void RemoveDirectory(ulong parent, string name);

    /// <summary>Renames; replaces an existing target file (or empty directory) as POSIX rename does.</summary>
    void Rename(ulong parent, string name, ulong newParent, string newName, bool noReplace);

    /// <summary>
    /// Raised (on any thread) when content or names changed behind the adapter's back, so it
    /// can invalidate kernel caches. Node is the changed node, or the directory whose entry
    /// Name changed.
    /// </summary>
    event Action<TreeChange>? Changed;
}

/// <summary>A change to invalidate: a node's data/attributes, or one entry of a directory.</summary>
public readonly record struct TreeChange(ulong Node, string? Name = null);
