using System.Buffers;
using System.Runtime.InteropServices;
using Polykey.Fs.Linux.Native;

namespace Polykey.Fs.Linux;

// Directory listing: opendir takes a snapshot, readdir pages through it by index.
internal sealed unsafe partial class FuseOperations
{
    [UnmanagedCallersOnly]
    private static void OnOpenDir(nint req, ulong ino, FuseFileInfo* fi)
    {
        var self = From(req);
        IReadOnlyList<DirectoryEntry> entries;
        try
        {
            entries = self._tree.ReadDirectory(ino);
        }
        catch (Exception e)
        {
            ReplyError(req, self.Fail(e));
            return;
        }
        var handle = self._directories.Add(new DirectorySnapshot(ino, entries));
        fi->Fh = handle;
        if (LibFuse.fuse_reply_open(req, fi) != 0)
            self._directories.Remove(handle);
    }

    /// <summary>
    /// Offsets are indexes into the snapshot: 0 is ".", 1 is "..", 2 + i is entry i. Each
    /// entry records the offset of the next one, which is where the kernel resumes.
    /// </summary>
    [UnmanagedCallersOnly]
    private static void OnReadDir(nint req, ulong ino, nuint size, long offset, FuseFileInfo* fi)
    {
        var self = From(req);
        var snapshot = self._directories.Get(fi->Fh);
        if (snapshot is null)
        {
            ReplyError(req, Errno.EBADF);
            return;
        }
        var capacity = (int)Math.Min(size, (nuint)(1 << 20));
        var buffer = ArrayPool<byte>.Shared.Rent(capacity);
        var used = 0;
        var errno = 0;
        try
        {
            used = self.FillDirectory(req, snapshot, offset, buffer.AsSpan(0, capacity));
        }
        catch (Exception e)
        {
            errno = self.Fail(e);
        }
        fixed (byte* data = buffer)
        {
            if (errno == 0)
                LibFuse.fuse_reply_buf(req, data, (nuint)used);
            else
                ReplyError(req, errno);
        }
        buffer.AsSpan(0, used).Clear(); // names of secrets are secret too
        ArrayPool<byte>.Shared.Return(buffer);
    }

    private int FillDirectory(nint req, DirectorySnapshot snapshot, long offset, Span<byte> buffer)
    {
        Span<byte> name = stackalloc byte[FuseNames.MaxEncodedLength];
        Stat st = default;
        var used = 0;
        var total = snapshot.Entries.Count + 2L;
        fixed (byte* start = buffer)
        fixed (byte* namePtr = name)
        {
            for (var index = Math.Max(offset, 0); index < total; index++)
            {
                string entryName;
                if (index < 2)
                {
                    // The tree does not say who the parent is; d_ino of ".." is advisory and
                    // the kernel resolves ".." itself, so the root's number will do.
                    entryName = index == 0 ? "." : "..";
                    st.Ino = index == 0 ? snapshot.Node : LibFuse.RootId;
                    st.Mode = NodeAttributes.S_IFDIR;
                }
                else
                {
                    var entry = snapshot.Entries[(int)(index - 2)];
                    entryName = entry.Name;
                    st.Ino = entry.Info.Node;
                    st.Mode = NodeAttributes.TypeBits(entry.Info.Kind);
                }
                if (FuseNames.Encode(entryName, name) < 0)
                    continue; // cannot be listed; lookup by name still answers
                var remaining = (nuint)(buffer.Length - used);
                var needed = LibFuse.fuse_add_direntry(req, start + used, remaining, namePtr, &st, index + 1);
                if (needed > remaining)
                    break; // full: the kernel asks again from this entry's offset
                used += (int)needed;
            }
        }
        return used;
    }

    [UnmanagedCallersOnly]
    private static void OnReleaseDir(nint req, ulong ino, FuseFileInfo* fi)
    {
        From(req)._directories.Remove(fi->Fh);
        ReplyError(req, 0);
    }
}
