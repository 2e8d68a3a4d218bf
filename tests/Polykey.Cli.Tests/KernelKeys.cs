using System.Runtime.InteropServices;
using System.Text;

namespace Polykey.Cli.Tests;

/// <summary>
/// The test's own hands on this user's kernel keyring (keyrings(7)): to plant keys pk must
/// refuse, to see what pk left, and to run pk where the keyring looks different (a fresh
/// session keyring, or keyctl refused by a seccomp filter).
/// </summary>
public static unsafe class KernelKeys
{
    private const int UserKeyring = -4;
    private const int ProcessKeyring = -2;
    private const int KeyctlJoinSessionKeyring = 1;
    private const int KeyctlLink = 8;
    private const int KeyctlSearch = 10;
    private const int KeyctlRead = 11;
    private const int KeyctlInvalidate = 21;

    [DllImport("libc", SetLastError = true)]
    private static extern nint syscall(nint number, nint a1, nint a2, nint a3, nint a4, nint a5);

    [DllImport("libc", SetLastError = true)]
    private static extern int prctl(int option, nint a2, nint a3, nint a4, nint a5);

    private static readonly (int AddKey, int RequestKey, int Keyctl) Numbers = RuntimeInformation.ProcessArchitecture == Architecture.Arm64
        ? (217, 218, 219)
        : (248, 249, 250);

    static KernelKeys()
    {
        // Possess @u's keys even where the session keyring does not link it (as pk does).
        Keyctl(KeyctlLink, UserKeyring, ProcessKeyring);
    }

    private static long Keyctl(int operation, nint a2 = 0, nint a3 = 0, nint a4 = 0, nint a5 = 0) =>
        syscall(Numbers.Keyctl, operation, a2, a3, a4, a5);

    /// <summary>Adds a "user" key to @u (replacing one with the same description).</summary>
    public static int Add(string description, byte[] payload)
    {
        fixed (byte* type = "user\0"u8)
        fixed (byte* name = Encoding.UTF8.GetBytes(description + "\0"))
        fixed (byte* data = payload)
        {
            long key = syscall(Numbers.AddKey, (nint)type, (nint)name, (nint)data, payload.Length, UserKeyring);
            Assert.True(key > 0, $"add_key {description} failed: errno {Marshal.GetLastPInvokeError()}");
            return (int)key;
        }
    }

    /// <summary>The serial of the live key with this description in @u, or null.</summary>
    public static int? Find(string description)
    {
        fixed (byte* type = "user\0"u8)
        fixed (byte* name = Encoding.UTF8.GetBytes(description + "\0"))
        {
            long key = Keyctl(KeyctlSearch, UserKeyring, (nint)type, (nint)name, 0);
            return key > 0 ? (int)key : null;
        }
    }

    public static byte[] Read(string description)
    {
        int key = Find(description) ?? throw new InvalidOperationException($"no key {description}");
        var buffer = new byte[32767];
        fixed (byte* data = buffer)
        {
            long length = Keyctl(KeyctlRead, key, (nint)data, buffer.Length);
            Assert.True(length >= 0, $"reading {description} failed: errno {Marshal.GetLastPInvokeError()}");
            return buffer[..(int)length];
        }
    }

    public static void Forget(string description)
    {
        if (Find(description) is { } key) Keyctl(KeyctlInvalidate, key);
    }

    /// <summary>The /proc/keys line of a key (id in hex first), to see its timeout and permissions.</summary>
    public static string ProcLine(int key) =>
        File.ReadAllLines("/proc/keys").Single(l => l.StartsWith(key.ToString("x8") + " ", StringComparison.Ordinal));

    /// <summary>Runs <paramref name="run"/> on a thread of its own in a new, empty session keyring, so the programs it starts inherit that.</summary>
    public static T InFreshSessionKeyring<T>(Func<T> run) => OnOwnThread(() =>
    {
        Assert.True(Keyctl(KeyctlJoinSessionKeyring) > 0, $"joining a new session keyring failed: errno {Marshal.GetLastPInvokeError()}");
    }, run);

    /// <summary>
    /// Runs <paramref name="run"/> on a thread of its own under a seccomp filter that fails
    /// add_key, request_key and keyctl with <paramref name="errno"/>; programs it starts inherit it.
    /// </summary>
    public static T WithKeyringRefused<T>(int errno, Func<T> run) => OnOwnThread(() =>
    {
        const ushort load = 0x20, jumpIfEqual = 0x15, ret = 0x06;
        SockFilter[] program =
        [
            new(load, 0, 0, 0),                              // the syscall number
            new(jumpIfEqual, 3, 0, (uint)Numbers.AddKey),
            new(jumpIfEqual, 2, 0, (uint)Numbers.RequestKey),
            new(jumpIfEqual, 1, 0, (uint)Numbers.Keyctl),
            new(ret, 0, 0, 0x7fff0000),                       // SECCOMP_RET_ALLOW
            new(ret, 0, 0, 0x00050000 | (uint)errno),         // SECCOMP_RET_ERRNO
        ];
        fixed (SockFilter* filter = program)
        {
            var fprog = new SockFprog { Length = (ushort)program.Length, Filter = filter };
            Assert.Equal(0, prctl(38, 1, 0, 0, 0)); // PR_SET_NO_NEW_PRIVS
            Assert.True(prctl(22, 2, (nint)(&fprog), 0, 0) == 0, $"seccomp failed: errno {Marshal.GetLastPInvokeError()}"); // PR_SET_SECCOMP, FILTER
        }
    }, run);

    private static T OnOwnThread<T>(Action prepare, Func<T> run)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                prepare();
                result = run();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null) throw failure;
        return result;
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly struct SockFilter(ushort code, byte jumpTrue, byte jumpFalse, uint k)
    {
        public readonly ushort Code = code;
        public readonly byte JumpTrue = jumpTrue;
        public readonly byte JumpFalse = jumpFalse;
        public readonly uint K = k;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SockFprog
    {
        public ushort Length;
        public SockFilter* Filter;
    }
}
