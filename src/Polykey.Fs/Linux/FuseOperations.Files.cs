using System.Buffers;
using System.Runtime.InteropServices;
using Polykey.Fs.Linux.Native;

namespace Polykey.Fs.Linux;

// Open files: handles come from the tree and travel in fuse_file_info.fh.
internal sealed unsafe partial class FuseOperations
{
    private const int O_ACCMODE = 0x3;
    private const int O_WRONLY = 0x1;
    private const int O_RDWR = 0x2;
    private const int O_EXCL = 0x80;
    private const int O_TRUNC = 0x200;
    private const int O_APPEND = 0x400;

    private static OpenMode ToOpenMode(int flags)
    {
        var mode = (flags & O_ACCMODE) switch
        {
            O_WRONLY => OpenMode.Write,
            O_RDWR => OpenMode.Read | OpenMode.Write,
            _ => OpenMode.Read,
        };
        // O_TRUNC arrives here because libfuse asks for atomic_o_trunc; O_APPEND must be
        // honoured by the tree because there is no writeback cache to do it for us.
        if ((flags & O_TRUNC) != 0)
            mode |= OpenMode.Truncate;
        if ((flags & O_APPEND) != 0)
            mode |= OpenMode.Append;
        return mode;
    }

    private static bool IsReadOnlyOpen(int flags) => (flags & O_ACCMODE) == 0 && (flags & O_TRUNC) == 0;

    private const int FallocKeepSize = 0x01;

    /// <summary>
    /// fallocate(2): mode 0 grows the file to offset + length (zeros, as truncate would);
    /// FALLOC_FL_KEEP_SIZE reserves nothing (a value lives in memory until it is saved) and
    /// answers 0 within the size limit. Punching or collapsing holes is EOPNOTSUPP.
    /// </summary>
    [UnmanagedCallersOnly]
    private static void OnFallocate(nint req, ulong ino, int mode, long offset, long length, FuseFileInfo* fi)
    {
        var self = From(req);
        if ((mode & ~FallocKeepSize) != 0 || offset < 0 || length <= 0)
        {
            ReplyError(req, (mode & ~FallocKeepSize) != 0 ? Errno.EOPNOTSUPP : Errno.EINVAL);
            return;
        }
        ulong? handle = fi != null && fi->Fh != 0 ? fi->Fh : self._writeBack ? 0UL : null;
        try
        {
            self._tree.Allocate(ino, handle, offset + length, keepSize: (mode & FallocKeepSize) != 0);
            ReplyError(req, 0);
        }
        catch (Exception e)
        {
            ReplyError(req, self.Fail(e));
        }
    }

    [UnmanagedCallersOnly]
    private static void OnOpen(nint req, ulong ino, FuseFileInfo* fi)
    {
        var self = From(req);
        if (self._openless)
        {
            // ENOSYS tells the kernel to stop sending OPEN (and RELEASE) for good: a cached
            // open/read/close then costs no round trip. Reads arrive with fh 0 and are served
            // by node: a secret changed by another process gets a new node, so a node's pages
            // only ever change through writes to this mount, which the page cache holds itself.
            ReplyError(req, Errno.ENOSYS);
            return;
        }
        ulong handle;
        try
        {
            handle = self._tree.Open(ino, ToOpenMode(fi->Flags));
        }
        catch (Exception e)
        {
            ReplyError(req, self.Fail(e));
            return;
        }
        fi->Fh = handle;
        if (IsReadOnlyOpen(fi->Flags))
        {
            // noflush: a reader's close has nothing to save, so it costs no FLUSH round trip.
            // keep_cache: a reopen reads from the page cache, which the tree's Changed event
            // invalidates; unless a reader of an older version may have filled it since, or
            // still reads it (then this reader goes past the cache, so it cannot put new
            // pages under that older reader).
            fi->Bits |= FuseFileInfo.NoFlush;
            fi->Bits |= self._tree.CacheUseFor(handle) switch
            {
                PageCacheUse.Keep => FuseFileInfo.KeepCache,
                PageCacheUse.Bypass => FuseFileInfo.DirectIo,
                _ => 0,
            };
        }
        else
        {
            // direct_io: a writer's bytes bypass the shared page cache, so readers that opened
            // earlier keep reading their own version until the save invalidates the cache.
            fi->Bits |= FuseFileInfo.DirectIo;
        }
        if (LibFuse.fuse_reply_open(req, fi) != 0)
            self.ReleaseQuietly(handle); // interrupted: the kernel will never release it
    }

    [UnmanagedCallersOnly]
    private static void OnCreate(nint req, ulong parent, byte* name, uint mode, FuseFileInfo* fi)
    {
        var self = From(req);
        NodeInfo info;
        ulong handle;
        try
        {
            var decoded = FuseNames.Decode(name);
            if ((fi->Flags & O_EXCL) != 0 && self.Exists(parent, decoded))
            {
                // The kernel checked before asking, but the tree may have changed behind it.
                ReplyError(req, Errno.EEXIST);
                return;
            }
            if (self._writeBack)
            {
                // No handle: like every other file here, its writes come back by node.
                info = self._tree.CreateNode(parent, decoded, (fi->Flags & O_TRUNC) != 0, mode & NodeAttributes.PermissionMask);
                handle = 0;
            }
            else
            {
                (info, handle) = self._tree.Create(parent, decoded, ToOpenMode(fi->Flags), mode & NodeAttributes.PermissionMask);
            }
        }
        catch (Exception e)
        {
            ReplyError(req, self.Fail(e));
            return;
        }
        fi->Fh = handle;
        // Without the write-back cache a new file's writes skip the page cache, as other writers' do.
        if (!self._writeBack)
            fi->Bits |= FuseFileInfo.DirectIo;
        FuseEntryParam entry = default;
        self.FillEntry(ref entry, info);
        if (LibFuse.fuse_reply_create(req, &entry, fi) != 0)
        {
            if (handle != 0)
                self.ReleaseQuietly(handle);
            self.ForgetQuietly(info.Node, 1);
        }
    }

    private bool Exists(ulong parent, string name)
    {
        NodeInfo info;
        try
        {
            info = _tree.Lookup(parent, name);
        }
        catch (FsException e) when (e.Error == FsError.NotFound)
        {
            return false;
        }
        _tree.Forget(info.Node, 1);
        return true;
    }

    [UnmanagedCallersOnly]
    private static void OnRead(nint req, ulong ino, nuint size, long offset, FuseFileInfo* fi)
    {
        var self = From(req);
        var length = (int)Math.Min(size, (nuint)int.MaxValue);
        // Pooled, pinned only for the reply, and wiped afterwards: it held plaintext.
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        var count = 0;
        var errno = 0;
        try
        {
            var span = buffer.AsSpan(0, length);
            count = Math.Clamp(fi->Fh == 0 ? self._tree.ReadNode(ino, offset, span) : self._tree.Read(fi->Fh, offset, span), 0, length);
        }
        catch (Exception e)
        {
            errno = self.Fail(e);
            count = length; // wipe whatever a failed read left behind
        }
        fixed (byte* data = buffer)
        {
            if (errno == 0)
                LibFuse.fuse_reply_buf(req, data, (nuint)count);
            else
                ReplyError(req, errno);
        }
        buffer.AsSpan(0, count).Clear();
        ArrayPool<byte>.Shared.Return(buffer);
    }

    [UnmanagedCallersOnly]
    private static void OnWrite(nint req, ulong ino, byte* data, nuint size, long offset, FuseFileInfo* fi)
    {
        var self = From(req);
        int written;
        try
        {
            var bytes = new ReadOnlySpan<byte>(data, (int)Math.Min(size, (nuint)int.MaxValue));
            // With the write-back cache every WRITE is the kernel writing a file back (at close,
            // fsync or under memory pressure), whichever descriptor it names.
            written = self._writeBack
                ? self._tree.WriteNode(ino, offset, bytes, mayContinue: size >= self._maxWrite)
                : self._tree.Write(fi->Fh, offset, bytes);
        }
        catch (Exception e)
        {
            ReplyError(req, self.Fail(e));
            return;
        }
        LibFuse.fuse_reply_write(req, (nuint)Math.Clamp(written, 0, (long)size));
    }

    /// <summary>
    /// Sent on every close(2) of a writable descriptor, and close waits for the answer:
    /// saving here is what makes "close returned" mean "the version is stored". Without
    /// opens there is nothing to do: a close has already written its file back (and saved
    /// it) before the kernel would ask, so ENOSYS stops the kernel asking.
    /// </summary>
    [UnmanagedCallersOnly]
    private static void OnFlush(nint req, ulong ino, FuseFileInfo* fi)
    {
        var self = From(req);
        ulong handle = fi->Fh;
        if (self._openless)
            ReplyError(req, Errno.ENOSYS);
        else
            self.Sync(req, () => self._tree.Flush(handle));
    }

    [UnmanagedCallersOnly]
    private static void OnFsync(nint req, ulong ino, int dataSync, FuseFileInfo* fi)
    {
        var self = From(req);
        if (self._tree.NodesAreSnapshots)
            ReplyError(req, Errno.ENOSYS); // nothing is ever written: the kernel stops asking
        else if (self._writeBack)
            self.Sync(req, () => self._tree.SyncNode(ino)); // the kernel wrote the file back first
        else
        {
            ulong handle = fi->Fh;
            self.Sync(req, () => self._tree.Sync(handle));
        }
    }

    private void Sync(nint req, Action save)
    {
        var errno = 0;
        try
        {
            save();
        }
        catch (Exception e)
        {
            errno = Fail(e);
        }
        ReplyError(req, errno);
    }

    [UnmanagedCallersOnly]
    private static void OnRelease(nint req, ulong ino, FuseFileInfo* fi)
    {
        var self = From(req);
        var errno = 0;
        try
        {
            if (fi->Fh != 0) // 0: a file created without a handle
                self._tree.Release(fi->Fh);
        }
        catch (Exception e)
        {
            errno = self.Fail(e); // the kernel ignores it; the hook still hears of surprises
        }
        ReplyError(req, errno);
    }
}
