using System.Runtime.InteropServices;

namespace Polykey.Fs.Linux.Native;

/// <summary>The few libc calls the adapter needs (ids for stat, path resolution, a fallback unmount).</summary>
internal static unsafe partial class LibC
{
    private const string Lib = "libc";

    public const int MNT_DETACH = 2;

    /// <summary>SIGURG on x86_64 Linux: ignored by default, so a stray one harms nobody.</summary>
    public const int SIGURG = 23;

    public const int SA_RESTART = 0x10000000;

    [LibraryImport(Lib)]
    public static partial uint geteuid();

    [LibraryImport(Lib)]
    public static partial uint getegid();

    [LibraryImport(Lib, SetLastError = true)]
    public static partial byte* realpath(byte* path, byte* resolved);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int umount2(byte* target, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int sigaction(int signal, SigAction* action, SigAction* oldAction);

    [LibraryImport(Lib)]
    public static partial nuint pthread_self();

    [LibraryImport(Lib)]
    public static partial int pthread_kill(nuint thread, int signal);
}

/// <summary>struct sigaction of glibc x86_64 (152 bytes): handler, 1024-bit mask, flags, restorer.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct SigAction
{
    public nint Handler;
    public fixed ulong Mask[16];
    public int Flags;
    public nint Restorer;
}
