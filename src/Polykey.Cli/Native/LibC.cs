using System.Runtime.InteropServices;

namespace Polykey.Cli.Native;

/// <summary>exec and statfs: replacing the process for `pk env --`, and checking that edit files stay in memory.</summary>
internal static unsafe partial class LibC
{
    public const long TmpfsMagic = 0x01021994;
    public const long RamfsMagic = 0x858458f6;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int execvpe(byte* file, byte** argv, byte** envp);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statfs(string path, byte* buffer);

    /// <summary>True when <paramref name="path"/> lies on a memory-backed filesystem.</summary>
    public static bool IsInMemoryFileSystem(string path)
    {
        byte* buffer = stackalloc byte[256];
        if (statfs(path, buffer) != 0) return false;
        long type = *(long*)buffer;
        return type == TmpfsMagic || type == RamfsMagic;
    }
}

internal static partial class LibC
{
    [LibraryImport("libc", SetLastError = true)]
    public static partial int setsid();

    [LibraryImport("libc", SetLastError = true)]
    public static partial int dup2(int oldFd, int newFd);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    public const int O_RDONLY = 0;
    public const int O_RDWR = 2;
    public const int O_NONBLOCK = 0x800;
    public const int O_NOFOLLOW = 0x20000;
    public const int O_CLOEXEC = 0x80000;
    public const int ENOENT = 2;
    public const int ENOTDIR = 20;
    public const int ELOOP = 40;

    /// <summary>Points stdin, stdout and stderr at /dev/null, as a daemon's must be once its parent has gone.</summary>
    public static void DetachStandardStreams()
    {
        int devNull = open("/dev/null", O_RDWR);
        if (devNull < 0) return;
        dup2(devNull, 0);
        dup2(devNull, 1);
        dup2(devNull, 2);
    }
}
