using Polykey.Fs.Linux.Native;

namespace Polykey.Fs.Linux;

/// <summary>Turns the tree's <see cref="NodeInfo"/> into a struct stat and back for times.</summary>
internal static class NodeAttributes
{
    public const uint S_IFMT = 0xF000;
    public const uint S_IFDIR = 0x4000;
    public const uint S_IFREG = 0x8000;
    public const uint PermissionMask = 0xFFF; // 07777

    private const int BlockSize = 4096;
    private const long TicksPerSecond = TimeSpan.TicksPerSecond;

    public static uint TypeBits(NodeKind kind) => kind == NodeKind.Directory ? S_IFDIR : S_IFREG;

    /// <summary>
    /// Owner and group are the mount's (the tree has no owners); nlink as the tree counts it,
    /// else 1 for files and 2 for directories.
    /// </summary>
    public static void Fill(ref Stat st, in NodeInfo info, in NodeOwnership ownership)
    {
        st = default;
        st.Ino = info.Node;
        st.Mode = TypeBits(info.Kind) | (info.Mode & PermissionMask);
        st.Nlink = info.Links ?? (info.Kind == NodeKind.Directory ? 2U : 1U);
        st.Uid = ownership.Uid;
        st.Gid = ownership.Gid;
        st.Size = info.Size;
        st.BlockSize = BlockSize;
        // st_blocks counts 512-byte units; round up to whole 4 KiB blocks as a disk would.
        st.Blocks = (info.Size + BlockSize - 1) / BlockSize * (BlockSize / 512);
        st.Mtime = ToTimespec(info.Modified);
        st.Atime = info.Accessed is { } accessed ? ToTimespec(accessed) : st.Mtime;
        st.Ctime = info.StatusChanged is { } changed ? ToTimespec(changed) : st.Mtime;
    }

    public static Timespec ToTimespec(DateTimeOffset time)
    {
        var ticks = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var seconds = Math.DivRem(ticks, TicksPerSecond, out var rest);
        if (rest < 0)
        {
            seconds--;
            rest += TicksPerSecond;
        }
        return new Timespec { Seconds = seconds, Nanoseconds = rest * 100 };
    }

    /// <summary>Times outside what DateTimeOffset holds (years 1..9999) are clamped, not refused.</summary>
    public static DateTimeOffset FromTimespec(in Timespec time)
    {
        var min = (DateTimeOffset.MinValue.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TicksPerSecond + 1;
        var max = (DateTimeOffset.MaxValue.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TicksPerSecond - 1;
        var seconds = Math.Clamp(time.Seconds, min, max);
        var nanoseconds = Math.Clamp(time.Nanoseconds, 0, 999_999_999);
        return DateTimeOffset.UnixEpoch.AddTicks(seconds * TicksPerSecond + nanoseconds / 100);
    }
}
