using Microsoft.Win32.SafeHandles;
using Polykey.Core.Native;

namespace Polykey.Core.Storage;

/// <summary>
/// What the file system says of one open file: device, inode, size, and the times of its last
/// write and last status change, to the nanosecond. Any write to the file, or a new file
/// renamed over its name, gives another stamp; that is what lets a reader trust a check it
/// made of the same, unchanged file before (as git trusts its index for unchanged work files).
/// </summary>
internal readonly record struct FileStamp(ulong Device, ulong Inode, ulong Size, long Modified, long Changed)
{
    /// <summary>
    /// How old both times must be before a check may be remembered: a write within the same
    /// clock tick as the check would leave the times as they were ("racy" in git's words), so a
    /// file touched this recently is checked again at its next open instead.
    /// </summary>
    public static readonly TimeSpan Settling = TimeSpan.FromSeconds(2);

    /// <summary>The stamp of an open file; null where statx is not available (the check is then made at every open).</summary>
    public static FileStamp? Of(SafeFileHandle file)
    {
        const uint wanted = LibC.STATX_INO | LibC.STATX_SIZE | LibC.STATX_MTIME | LibC.STATX_CTIME;
        if (!OperatingSystem.IsLinux() || LibC.statx(file, "", LibC.AT_EMPTY_PATH, wanted, out LibC.Statx status) != 0
            || (status.Mask & wanted) != wanted)
            return null;
        return new FileStamp(((ulong)status.DeviceMajor << 32) | status.DeviceMinor, status.Inode, status.Size,
            status.ModifiedSeconds * 1_000_000_000 + status.ModifiedNanoseconds, status.ChangedSeconds * 1_000_000_000 + status.ChangedNanoseconds);
    }

    /// <summary>Whether the file has been left alone for <see cref="Settling"/> as of <paramref name="now"/>.</summary>
    public bool HasSettled(DateTimeOffset now)
    {
        long limit = (now - Settling).ToUnixTimeMilliseconds() * 1_000_000;
        return Modified < limit && Changed < limit;
    }

    public override string ToString() => $"{Device} {Inode} {Size} {Modified} {Changed}";
}
