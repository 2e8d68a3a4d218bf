using System.Runtime.InteropServices;

namespace Polykey.Fs.Linux.Native;

// x86_64 glibc / libfuse 3.14 layouts. Sequential layout with the C field types, so the
// sizes and offsets asserted in NativeLayout are computed, not declared: a wrong field
// shows up there instead of as a corrupted reply.

[StructLayout(LayoutKind.Sequential)]
internal struct Timespec
{
    public long Seconds;
    public long Nanoseconds;
}

/// <summary>struct stat (144 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Stat
{
    public ulong Dev;
    public ulong Ino;
    public ulong Nlink;
    public uint Mode;
    public uint Uid;
    public uint Gid;
    private int _pad0;
    public ulong Rdev;
    public long Size;
    public long BlockSize;
    public long Blocks;
    public Timespec Atime;
    public Timespec Mtime;
    public Timespec Ctime;
    private long _reserved0;
    private long _reserved1;
    private long _reserved2;
}

/// <summary>struct fuse_entry_param (176 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseEntryParam
{
    public ulong Ino;
    public ulong Generation;
    public Stat Attr;
    public double AttrTimeout;
    public double EntryTimeout;
}

/// <summary>struct fuse_file_info (40 bytes). The C bit-fields live in <see cref="Bits"/>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseFileInfo
{
    public int Flags;
    public uint Bits;
    private uint _padding2;
    public ulong Fh;
    public ulong LockOwner;
    public uint PollEvents;

    public const uint DirectIo = 0x2;
    public const uint KeepCache = 0x4;
    public const uint NonSeekable = 0x10;
    public const uint CacheReaddir = 0x40;
    public const uint NoFlush = 0x80;
}

/// <summary>struct fuse_args (24 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct FuseArgs
{
    public int Argc;
    public byte** Argv;
    public int Allocated;
}

/// <summary>struct fuse_conn_info (128 bytes); only the capability words are used.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct FuseConnInfo
{
    public uint ProtoMajor;
    public uint ProtoMinor;
    public uint MaxWrite;
    public uint MaxRead;
    public uint MaxReadahead;
    public uint Capable;
    public uint Want;
    public uint MaxBackground;
    public uint CongestionThreshold;
    public uint TimeGranularity;
    private fixed uint _reserved[22];

    public const uint CapAtomicOTrunc = 1u << 3;
    public const uint CapWritebackCache = 1u << 16;
}

/// <summary>struct fuse_forget_data (16 bytes), as passed to forget_multi.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseForgetData
{
    public ulong Ino;
    public ulong Nlookup;
}

/// <summary>struct statvfs (112 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct StatVfs
{
    public ulong BlockSize;
    public ulong FragmentSize;
    public ulong Blocks;
    public ulong BlocksFree;
    public ulong BlocksAvailable;
    public ulong Files;
    public ulong FilesFree;
    public ulong FilesAvailable;
    public ulong FsId;
    public ulong Flag;
    public ulong NameMax;
    private fixed int _spare[6];
}

/// <summary>struct fuse_ctx: who sent a request.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseContext
{
    public uint Uid;
    public uint Gid;
    public int Pid;
    public uint Umask;
}
