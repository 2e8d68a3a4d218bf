using System.Runtime.InteropServices;

namespace Polykey.Cli.Native;

/// <summary>
/// The kernel's key retention service (keyrings(7)) through libc's syscall(2): glibc has no
/// wrappers and libkeyutils is not always installed. Every call returns -1 and sets errno on failure.
/// </summary>
internal static unsafe partial class LibC
{
    public const int KEY_SPEC_PROCESS_KEYRING = -2;
    public const int KEY_SPEC_USER_KEYRING = -4;

    public const int KEYCTL_GET_KEYRING_ID = 0;
    public const int KEYCTL_SETPERM = 5;
    public const int KEYCTL_DESCRIBE = 6;
    public const int KEYCTL_LINK = 8;
    public const int KEYCTL_SEARCH = 10;
    public const int KEYCTL_READ = 11;
    public const int KEYCTL_SET_TIMEOUT = 15;
    public const int KEYCTL_INVALIDATE = 21;

    // Permission bits of a key: possessor (a process that reaches it from its own keyrings) and user (same uid).
    public const uint KEY_POS_ALL = 0x3f000000;
    public const uint KEY_USR_VIEW = 0x00010000;

    public const int EPERM = 1;
    public const int EACCES = 13;
    public const int ENOSYS = 38;
    public const int EDQUOT = 122;
    public const int ENOKEY = 126;
    public const int EKEYEXPIRED = 127;
    public const int EKEYREVOKED = 128;

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint syscall(nint number, nint a1, nint a2, nint a3, nint a4, nint a5);

    // syscall(2) is variadic; on x86_64 and aarch64 Linux its integer arguments travel as a fixed call's would.
    // Elsewhere (macOS has other numbers, and no keyrings) every call fails with ENOSYS.
    private static (nint AddKey, nint Keyctl) Numbers { get; } = !OperatingSystem.IsLinux() ? (-1, -1) : RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => (248, 250),
        Architecture.Arm64 => (217, 219),
        _ => (-1, -1),
    };

    /// <summary>add_key(2): creates the key, or updates the payload of one with the same type and description.</summary>
    public static int add_key(byte* type, byte* description, byte* payload, nint length, int keyring) =>
        Numbers.AddKey < 0 ? NoSyscall() : (int)syscall(Numbers.AddKey, (nint)type, (nint)description, (nint)payload, length, keyring);

    /// <summary>keyctl(2) with up to four integer or pointer arguments.</summary>
    public static long keyctl(int operation, nint a2 = 0, nint a3 = 0, nint a4 = 0, nint a5 = 0) =>
        Numbers.Keyctl < 0 ? NoSyscall() : syscall(Numbers.Keyctl, operation, a2, a3, a4, a5);

    private static int NoSyscall()
    {
        Marshal.SetLastPInvokeError(ENOSYS);
        return -1;
    }
}
