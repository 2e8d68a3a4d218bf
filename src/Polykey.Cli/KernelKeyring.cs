using System.Runtime.InteropServices;
using System.Text;
using static Polykey.Cli.Native.LibC;

namespace Polykey.Cli;

/// <summary>
/// "user" keys in this user's kernel keyring (@u): payloads held in kernel memory, never on
/// disk or in swap, that expire on the kernel's own timer with no daemon. Knows nothing of
/// keynodes; <see cref="UnlockedKeys"/> says what pk keeps here.
/// </summary>
internal static unsafe class KernelKeyring
{
    // The largest payload a "user" key may hold.
    private const int MaxPayload = 32767;

    /// <summary>The keyring refused a call; <see cref="Errno"/> says why (see <see cref="Explain"/>).</summary>
    public sealed class Unavailable(int errno) : Exception($"kernel keyring error {errno}")
    {
        public int Errno { get; } = errno;
    }

    /// <summary>Fails with <see cref="Unavailable"/> unless this process may use its user keyring.</summary>
    public static void Probe()
    {
        if (keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 0) < 0) throw new Unavailable(Marshal.GetLastPInvokeError());
    }

    /// <summary>
    /// Adds (or replaces) the key named <paramref name="description"/>, set to expire after
    /// <paramref name="lifetime"/>, readable only by processes that possess it.
    /// </summary>
    public static void Store(string description, ReadOnlySpan<byte> payload, TimeSpan lifetime)
    {
        Possess();
        // A fresh key, not an update of an old one: whatever its permissions or timer were, they go.
        if (Search(description) is var old and >= 0) keyctl(KEYCTL_INVALIDATE, old);
        int key;
        fixed (byte* type = "user\0"u8)
        fixed (byte* name = Utf8(description))
        fixed (byte* data = payload)
            key = add_key(type, name, data, payload.Length, KEY_SPEC_USER_KEYRING);
        if (key < 0) throw new Unavailable(Marshal.GetLastPInvokeError());
        // The timer first: should anything below fail, the key still goes on its own.
        if (keyctl(KEYCTL_SET_TIMEOUT, key, (nint)Math.Ceiling(lifetime.TotalSeconds)) < 0
            || keyctl(KEYCTL_SETPERM, key, (nint)(KEY_POS_ALL | KEY_USR_VIEW)) < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            keyctl(KEYCTL_INVALIDATE, key);
            throw new Unavailable(errno);
        }
    }

    /// <summary>
    /// The payload of the key named <paramref name="description"/> in a pinned buffer the
    /// caller clears, or null when there is none (absent, expired, revoked) or no keyring here.
    /// </summary>
    public static byte[]? Read(string description)
    {
        int key = Search(description);
        if (key < 0) return null;
        long length = keyctl(KEYCTL_READ, key, 0, 0);
        if (length < 0 && Marshal.GetLastPInvokeError() == EACCES && Possess())
            length = keyctl(KEYCTL_READ, key, 0, 0);
        if (length is < 0 or > MaxPayload) return null;
        byte[] payload = GC.AllocateArray<byte>((int)length, pinned: true);
        fixed (byte* buffer = payload)
        {
            long read = keyctl(KEYCTL_READ, key, (nint)buffer, payload.Length);
            if (read == payload.Length) return payload;
        }
        // Replaced between the two reads: treat as absent rather than guess.
        Array.Clear(payload);
        return null;
    }

    /// <summary>Invalidates the key named <paramref name="description"/>; false when there was none.</summary>
    public static bool Forget(string description)
    {
        Possess();
        int key = Search(description);
        if (key < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno is ENOKEY or EKEYEXPIRED or EKEYREVOKED) return false;
            throw new Unavailable(errno);
        }
        if (keyctl(KEYCTL_INVALIDATE, key) < 0) throw new Unavailable(Marshal.GetLastPInvokeError());
        return true;
    }

    /// <summary>The descriptions of the "user" keys linked into this user's keyring.</summary>
    public static List<string> Descriptions()
    {
        Possess();
        var descriptions = new List<string>();
        foreach (int key in LinkedKeys())
        {
            // "type;uid;gid;perm;description"; the description may itself hold ';'.
            if (Describe(key) is { } text && text.Split(';', 5) is ["user", _, _, _, var description]) descriptions.Add(description);
        }
        return descriptions;
    }

    /// <summary>One line for people: why the keyring is unavailable.</summary>
    public static string Explain(int errno) => errno switch
    {
        ENOSYS => "this kernel has no key retention service (ENOSYS)",
        EPERM or EACCES => $"keyctl is not permitted here, e.g. under a seccomp filter or container policy ({(errno == EPERM ? "EPERM" : "EACCES")})",
        EDQUOT => "this user's kernel key quota is full (EDQUOT; see /proc/sys/kernel/keys/maxkeys and maxbytes)",
        _ => $"the kernel keyring refused: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})",
    };

    private static int Search(string description)
    {
        fixed (byte* type = "user\0"u8)
        fixed (byte* name = Utf8(description))
            return (int)keyctl(KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, (nint)type, (nint)name, 0);
    }

    // A key is readable only by a process that possesses it: one that reaches it from its own
    // thread, process or session keyring. Most sessions link the user keyring into theirs; some
    // (containers, some login managers) start an empty one. Linking @u into this process's own
    // keyring, which dies with the process, makes pk a possessor there too.
    private static bool _possessed;

    private static bool Possess()
    {
        if (_possessed) return false;
        _possessed = true;
        return keyctl(KEYCTL_LINK, KEY_SPEC_USER_KEYRING, KEY_SPEC_PROCESS_KEYRING) == 0;
    }

    private static List<int> LinkedKeys()
    {
        var keys = new List<int>();
        long length = keyctl(KEYCTL_READ, KEY_SPEC_USER_KEYRING, 0, 0);
        if (length < 0) throw new Unavailable(Marshal.GetLastPInvokeError());
        var serials = new int[length / sizeof(int) + 16];
        fixed (int* buffer = serials)
            length = keyctl(KEYCTL_READ, KEY_SPEC_USER_KEYRING, (nint)buffer, serials.Length * sizeof(int));
        if (length < 0) throw new Unavailable(Marshal.GetLastPInvokeError());
        keys.AddRange(serials.AsSpan(0, (int)Math.Min(length / sizeof(int), serials.Length)));
        return keys;
    }

    private static string? Describe(int key)
    {
        byte* buffer = stackalloc byte[4096];
        long length = keyctl(KEYCTL_DESCRIBE, key, (nint)buffer, 4096);
        if (length is <= 0 or > 4096) return null;
        return Encoding.UTF8.GetString(buffer, (int)length - 1);
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text + "\0");
}
