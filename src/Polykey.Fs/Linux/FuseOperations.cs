using System.Runtime.InteropServices;
using Polykey.Fs.Linux.Native;

namespace Polykey.Fs.Linux;

/// <summary>
/// The libfuse low-level callbacks, serving one <see cref="IFileTree"/>. The callbacks are
/// static <c>[UnmanagedCallersOnly]</c> methods (function pointers need no pinned delegate)
/// and find their instance through the session's userdata, a GCHandle.
///
/// Every callback follows one shape: decode, call the tree inside try/catch (FsException
/// becomes its errno, anything else EIO), then reply outside the try, so no request is
/// answered twice and no exception ever reaches native code (that would kill the process
/// and leave a dead mount).
/// </summary>
internal sealed unsafe partial class FuseOperations : IDisposable
{
    private readonly IFileTree _tree;
    private readonly NodeOwnership _ownership;
    private readonly uint _mountingUid = LibC.geteuid();
    private readonly double _entryTimeout;
    private readonly double _attrTimeout;
    private readonly Action<Exception>? _unexpectedError;
    // Files are opened without OPEN, FLUSH and RELEASE round trips; reads and writes go by node.
    private volatile bool _openless;
    // Writes collect in the kernel's page cache and reach the tree when a file is written back.
    private volatile bool _writeBack;
    // The largest WRITE the kernel sends; one that size may be followed by more of the same write-back.
    private uint _maxWrite = MaxWrite;
    private const uint MaxWrite = 1 << 20;
    private readonly DirectorySnapshots _directories = new();
    private readonly ManualResetEventSlim _initialized = new();
    private GCHandle<FuseOperations> _self;

    public FuseOperations(IFileTree tree, FuseMountOptions options)
    {
        _tree = tree;
        _ownership = new NodeOwnership(options.OwnerId ?? LibC.geteuid(), options.GroupId ?? LibC.getegid());
        _entryTimeout = options.EntryTimeout.TotalSeconds;
        _attrTimeout = options.AttributeTimeout.TotalSeconds;
        _unexpectedError = options.UnexpectedError;
        _writeBack = !tree.IsReadOnly && tree.AcceptsWriteBack && !options.PinVersionAtOpen;
        _openless = tree.NodesAreSnapshots || _writeBack;
        _self = new GCHandle<FuseOperations>(this);
    }

    /// <summary>The userdata pointer handed to fuse_session_new.</summary>
    public nint UserData => GCHandle<FuseOperations>.ToIntPtr(_self);

    /// <summary>Signalled when the kernel's INIT has been handled.</summary>
    public WaitHandle Initialized => _initialized.WaitHandle;

    /// <summary>Only after the session is destroyed: no callback may run any more.</summary>
    public void Dispose()
    {
        if (_self.IsAllocated)
            _self.Dispose();
        _directories.Clear();
        _initialized.Dispose();
    }

    public static FuseLowLevelOps Table()
    {
        // Left null on purpose (libfuse answers ENOSYS and the kernel stops asking):
        // readlink (no symlinks exist), access (default_permissions does the checks),
        // getxattr/listxattr (no extended attributes: callers see EOPNOTSUPP, and the kernel
        // no longer asks for security.capability before every write), locks (the kernel
        // handles them locally), fsyncdir, copy_file_range, lseek, readdirplus.
        return new FuseLowLevelOps
        {
            Init = &OnInit,
            Fallocate = &OnFallocate,
            Lookup = &OnLookup,
            Forget = &OnForget,
            ForgetMulti = &OnForgetMulti,
            GetAttr = &OnGetAttr,
            SetAttr = &OnSetAttr,
            MkNod = &OnMkNod,
            MkDir = &OnMkDir,
            Unlink = &OnUnlink,
            RmDir = &OnRmDir,
            Symlink = &OnSymlink,
            Rename = &OnRename,
            Link = &OnLink,
            Open = &OnOpen,
            Create = &OnCreate,
            Read = &OnRead,
            Write = &OnWrite,
            Flush = &OnFlush,
            Fsync = &OnFsync,
            Release = &OnRelease,
            OpenDir = &OnOpenDir,
            ReadDir = &OnReadDir,
            ReleaseDir = &OnReleaseDir,
            StatFs = &OnStatFs,
            SetXattr = &OnSetXattr,
            RemoveXattr = &OnRemoveXattr,
        };
    }

    private static FuseOperations From(nint req) => GCHandle<FuseOperations>.FromIntPtr(LibFuse.fuse_req_userdata(req)).Target;

    /// <summary>The errno for a failed tree call; reports anything unexpected to the owner's hook.</summary>
    private int Fail(Exception exception)
    {
        if (exception is not FsException && _unexpectedError is { } report)
        {
            try
            {
                report(exception);
            }
            catch
            {
                // The hook must not take the mount down with it.
            }
        }
        return Errno.From(exception);
    }

    private static void ReplyError(nint req, int errno) => LibFuse.fuse_reply_err(req, errno);

    private void FillEntry(ref FuseEntryParam entry, in NodeInfo info)
    {
        entry.Ino = info.Node;
        entry.Generation = 0;
        NodeAttributes.Fill(ref entry.Attr, info, _ownership);
        entry.AttrTimeout = _attrTimeout;
        entry.EntryTimeout = _entryTimeout;
    }

    /// <summary>Replies with a new entry; if the kernel did not take it (interrupted), drops the lookup reference it would have held.</summary>
    private void ReplyEntry(nint req, in NodeInfo info)
    {
        FuseEntryParam entry = default;
        FillEntry(ref entry, info);
        if (LibFuse.fuse_reply_entry(req, &entry) != 0)
            ForgetQuietly(info.Node, 1);
    }

    private void ReplyAttr(nint req, in NodeInfo info)
    {
        Stat st = default;
        NodeAttributes.Fill(ref st, info, _ownership);
        LibFuse.fuse_reply_attr(req, &st, _attrTimeout);
    }

    private void ForgetQuietly(ulong node, ulong count)
    {
        try
        {
            _tree.Forget(node, count);
        }
        catch (Exception e)
        {
            Fail(e);
        }
    }

    private void ReleaseQuietly(ulong handle)
    {
        try
        {
            _tree.Release(handle);
        }
        catch (Exception e)
        {
            Fail(e);
        }
    }

    [UnmanagedCallersOnly]
    private static void OnInit(nint userdata, FuseConnInfo* conn)
    {
        try
        {
            var self = GCHandle<FuseOperations>.FromIntPtr(userdata).Target;
            // With the write-back cache the kernel keeps a file's writes (and honours O_APPEND)
            // and writes them back, synchronously, when the file is closed: the close-time
            // save needs no FLUSH, so a reader's close costs nothing. Without it every write
            // reaches the tree at once and O_APPEND is the tree's to honour (OpenMode.Append).
            if (self._writeBack && (conn->Capable & FuseConnInfo.CapWritebackCache) != 0)
            {
                conn->Want |= FuseConnInfo.CapWritebackCache;
                conn->MaxWrite = Math.Min(conn->MaxWrite, MaxWrite);
                self._maxWrite = conn->MaxWrite;
                // With atomic_o_trunc the kernel leaves O_TRUNC to OPEN, which is never sent
                // here: without it, open(O_TRUNC) sends a SETATTR of size 0 first.
                conn->Want &= ~FuseConnInfo.CapAtomicOTrunc;
            }
            else
            {
                // A kernel without it would send every write(2) on its own: keep OPEN and
                // FLUSH then, so a save still happens once per close.
                conn->Want &= ~FuseConnInfo.CapWritebackCache;
                self._writeBack = false;
                self._openless = self._tree.NodesAreSnapshots;
            }
            self._initialized.Set();
        }
        catch
        {
            // Nothing to reply to; WaitUntilReady times out instead of the process dying.
        }
    }

    [UnmanagedCallersOnly]
    private static void OnStatFs(nint req, ulong ino)
    {
        // The tree has no capacity; report a roomy 4 KiB-block filesystem so df and
        // installers that check free space are content.
        const ulong blocks = 1UL << 28; // 1 TiB
        const ulong files = 1UL << 24;
        var st = new StatVfs
        {
            BlockSize = 4096,
            FragmentSize = 4096,
            Blocks = blocks,
            BlocksFree = blocks,
            BlocksAvailable = blocks,
            Files = files,
            FilesFree = files,
            FilesAvailable = files,
            NameMax = 255,
        };
        LibFuse.fuse_reply_statfs(req, &st);
    }

    [UnmanagedCallersOnly]
    private static void OnSetXattr(nint req, ulong ino, byte* name, byte* value, nuint size, int flags)
        => From(req).ReplyUnsupported(req, Errno.EOPNOTSUPP);

    [UnmanagedCallersOnly]
    private static void OnRemoveXattr(nint req, ulong ino, byte* name)
        => From(req).ReplyUnsupported(req, Errno.EOPNOTSUPP);

    /// <summary>For a change the tree has no call for: EROFS on a read-only tree, else <paramref name="otherwise"/>.</summary>
    private void ReplyUnsupported(nint req, int otherwise)
    {
        int errno;
        try
        {
            errno = Errno.Unsupported(_tree, otherwise);
        }
        catch (Exception e)
        {
            errno = Fail(e);
        }
        ReplyError(req, errno);
    }
}
