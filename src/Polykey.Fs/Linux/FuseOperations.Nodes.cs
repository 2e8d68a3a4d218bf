using System.Runtime.InteropServices;
using Polykey.Fs.Linux.Native;

namespace Polykey.Fs.Linux;

// Names and attributes: lookup reference counting, stat, setattr and the namespace changes.
internal sealed unsafe partial class FuseOperations
{
    private const int SetMode = 1 << 0;
    private const int SetUid = 1 << 1;
    private const int SetGid = 1 << 2;
    private const int SetSize = 1 << 3;
    private const int SetAtime = 1 << 4;
    private const int SetMtime = 1 << 5;
    private const int SetAtimeNow = 1 << 7;
    private const int SetMtimeNow = 1 << 8;

    private const uint RenameNoReplace = 1;

    [UnmanagedCallersOnly]
    private static void OnLookup(nint req, ulong parent, byte* name)
    {
        var self = From(req);
        NodeInfo info;
        try
        {
            info = self._tree.Lookup(parent, FuseNames.Decode(name));
        }
        catch (Exception e)
        {
            ReplyError(req, self.Fail(e));
            return;
        }
        self.ReplyEntry(req, info);
    }

    [UnmanagedCallersOnly]
    private static void OnForget(nint req, ulong ino, ulong nlookup)
    {
        From(req).ForgetQuietly(ino, nlookup);
        LibFuse.fuse_reply_none(req);
    }

    [UnmanagedCallersOnly]
    private static void OnForgetMulti(nint req, nuint count, FuseForgetData* forgets)
    {
        var self = From(req);
        for (nuint i = 0; i < count; i++)
            self.ForgetQuietly(forgets[i].Ino, forgets[i].Nlookup);
        LibFuse.fuse_reply_none(req);
    }

    [UnmanagedCallersOnly]
    private static void OnGetAttr(nint req, ulong ino, FuseFileInfo* fi)
    {
        var self = From(req);
        NodeInfo info;
        try
        {
            info = self._tree.GetAttributes(ino);
        }
        catch (Exception e)
        {
            ReplyError(req, self.Fail(e));
            return;
        }
        self.ReplyAttr(req, info);
    }

    [UnmanagedCallersOnly]
    private static void OnSetAttr(nint req, ulong ino, Stat* attr, int toSet, FuseFileInfo* fi)
    {
        var self = From(req);
        NodeInfo info = default;
        var errno = 0;
        try
        {
            // Owners are the mount's (--owner, --group): a chown to what stat already shows is a
            // no-op (cp -p, rsync and editors do it as root), any other is refused with EPERM,
            // as vfat does, never "0 and ignored". Modes are the tree's to keep.
            if ((toSet & (SetUid | SetGid)) != 0 && !self.KeepsOwnership(attr, toSet))
            {
                errno = Errno.EPERM;
            }
            else if ((toSet & SetMode) != 0 && !self.MayChangeModes(req))
            {
                // The kernel lets a file's owner chmod it; here that owner may be a service user
                // (--owner app), and a chmod u+w would let it sign new versions with the mounting
                // user's key. Modes are the mounting user's (and root's) to change.
                errno = Errno.EPERM;
            }
            else
            {
                var change = new AttributeChange(
                    Size: (toSet & SetSize) != 0 ? attr->Size : null,
                    Modified: (toSet & SetMtimeNow) != 0 ? DateTimeOffset.UtcNow
                        : (toSet & SetMtime) != 0 ? NodeAttributes.FromTimespec(attr->Mtime) : null,
                    Mode: (toSet & SetMode) != 0 ? attr->Mode & NodeAttributes.PermissionMask : null,
                    Accessed: (toSet & SetAtimeNow) != 0 ? DateTimeOffset.UtcNow
                        : (toSet & SetAtime) != 0 ? NodeAttributes.FromTimespec(attr->Atime) : null);
                // ctime is not set by anyone but the filesystem: the kernel's own ctime update is
                // answered with the node's attributes.
                // With the write-back cache, a size change may be open(O_TRUNC), which looks
                // like truncate(2) here: either is left for the write-back that follows (handle 0).
                ulong? handle = fi != null ? fi->Fh : self._writeBack ? 0UL : null;
                // After the WRITEs of a write-back pass the kernel sends the file's times
                // (mtime without a size): the pass is over, and close or fsync waits for this
                // answer, so the save happens here and a failure reaches them.
                if (self._writeBack && (toSet & SetMtime) != 0 && (toSet & SetSize) == 0)
                    self._tree.WrittenBack(ino);
                info = change == default
                    ? self._tree.GetAttributes(ino)
                    : self._tree.SetAttributes(ino, handle, change);
            }
        }
        catch (Exception e)
        {
            errno = self.Fail(e);
        }
        if (errno != 0)
            ReplyError(req, errno);
        else
            self.ReplyAttr(req, info);
    }

    private bool MayChangeModes(nint req)
    {
        uint caller = LibFuse.fuse_req_ctx(req)->Uid;
        return caller == 0 || caller == _mountingUid;
    }

    /// <summary>True when a setattr's owner and group are those every node already shows.</summary>
    private bool KeepsOwnership(Stat* attr, int toSet) =>
        ((toSet & SetUid) == 0 || attr->Uid == _ownership.Uid) && ((toSet & SetGid) == 0 || attr->Gid == _ownership.Gid);

    [UnmanagedCallersOnly]
    private static void OnMkDir(nint req, ulong parent, byte* name, uint mode)
    {
        var self = From(req);
        NodeInfo info;
        try
        {
            var decoded = FuseNames.Decode(name);
            self._tree.MakeDirectory(parent, decoded);
            // The reply hands the kernel a lookup reference; MakeDirectory does not promise
            // one (unlike Create), so take it explicitly.
            info = self._tree.Lookup(parent, decoded);
        }
        catch (Exception e)
        {
            ReplyError(req, self.Fail(e));
            return;
        }
        self.ReplyEntry(req, info);
    }

    [UnmanagedCallersOnly]
    private static void OnMkNod(nint req, ulong parent, byte* name, uint mode, ulong rdev)
    {
        var self = From(req);
        if ((mode & NodeAttributes.S_IFMT) != NodeAttributes.S_IFREG)
        {
            // Devices, FIFOs and sockets have no place in a secret tree.
            self.ReplyUnsupported(req, Errno.EPERM);
            return;
        }
        NodeInfo info;
        ulong handle;
        try
        {
            // A plain file made with mknod(2): create it and close the handle at once.
            (info, handle) = self._tree.Create(parent, FuseNames.Decode(name), OpenMode.Write, mode & NodeAttributes.PermissionMask);
        }
        catch (Exception e)
        {
            ReplyError(req, self.Fail(e));
            return;
        }
        self.ReleaseQuietly(handle);
        self.ReplyEntry(req, info);
    }

    [UnmanagedCallersOnly]
    private static void OnUnlink(nint req, ulong parent, byte* name)
    {
        var self = From(req);
        var errno = 0;
        try
        {
            self._tree.Unlink(parent, FuseNames.Decode(name));
        }
        catch (Exception e)
        {
            errno = self.Fail(e);
        }
        ReplyError(req, errno);
    }

    [UnmanagedCallersOnly]
    private static void OnRmDir(nint req, ulong parent, byte* name)
    {
        var self = From(req);
        var errno = 0;
        try
        {
            self._tree.RemoveDirectory(parent, FuseNames.Decode(name));
        }
        catch (Exception e)
        {
            errno = self.Fail(e);
        }
        ReplyError(req, errno);
    }

    [UnmanagedCallersOnly]
    private static void OnRename(nint req, ulong parent, byte* name, ulong newParent, byte* newName, uint flags)
    {
        var self = From(req);
        // RENAME_EXCHANGE and RENAME_WHITEOUT have no counterpart in the tree; EINVAL is
        // what rename(2) returns for a flag the filesystem does not support.
        if ((flags & ~RenameNoReplace) != 0)
        {
            ReplyError(req, Errno.EINVAL);
            return;
        }
        var errno = 0;
        try
        {
            self._tree.Rename(parent, FuseNames.Decode(name), newParent, FuseNames.Decode(newName), noReplace: flags == RenameNoReplace);
        }
        catch (Exception e)
        {
            errno = self.Fail(e);
        }
        ReplyError(req, errno);
    }

    // Hard links and symlinks do not exist in the tree. EPERM is what link(2) and
    // symlink(2) return on a filesystem that does not support them.
    [UnmanagedCallersOnly]
    private static void OnLink(nint req, ulong ino, ulong newParent, byte* newName)
        => From(req).ReplyUnsupported(req, Errno.EPERM);

    [UnmanagedCallersOnly]
    private static void OnSymlink(nint req, byte* link, ulong parent, byte* name)
        => From(req).ReplyUnsupported(req, Errno.EPERM);
}
