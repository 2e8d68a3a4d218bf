using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Polykey.Fs;

/// <summary>
/// Decrypted bytes held by the mount: pinned, locked in RAM where RLIMIT_MEMLOCK allows (so
/// they are never swapped to disk), and wiped when the last user lets go.
/// </summary>
internal sealed unsafe partial class SecretContent
{
    private byte[] _data;
    private int _users = 1;
    private bool _locked;

    private SecretContent(int capacity)
    {
        _data = GC.AllocateUninitializedArray<byte>(Math.Max(capacity, 1), pinned: true);
        if (OperatingSystem.IsLinux())
            fixed (byte* p = _data) _locked = mlock(p, (nuint)_data.Length) == 0;
    }

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Span => _data.AsSpan(0, Length);

    public static SecretContent Copy(ReadOnlySpan<byte> bytes)
    {
        var content = new SecretContent(bytes.Length);
        bytes.CopyTo(content._data);
        content.Length = bytes.Length;
        return content;
    }

    /// <summary>Another holder (a handle, the cache) starts using it.</summary>
    public SecretContent Share()
    {
        Interlocked.Increment(ref _users);
        return this;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _users) != 0) return;
        CryptographicOperations.ZeroMemory(_data);
        if (_locked)
            fixed (byte* p = _data) munlock(p, (nuint)_data.Length);
        _data = [];
        Length = 0;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int mlock(byte* address, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int munlock(byte* address, nuint length);
}
