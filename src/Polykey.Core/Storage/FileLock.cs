using System.Runtime.InteropServices;
using Polykey.Core.Native;

namespace Polykey.Core.Storage;

/// <summary>
/// flock(2) on the keynode file: writers hold it exclusive for one append, readers hold it
/// shared while they read new bytes, so nobody reads a half-written change.
/// </summary>
internal sealed class FileLock : IDisposable
{
    private readonly SafeHandle _handle;
    private bool _held;

    private FileLock(SafeHandle handle) => _handle = handle;

    public static FileLock Shared(SafeHandle handle) => Take(handle, LibC.LOCK_SH);

    public static FileLock Exclusive(SafeHandle handle) => Take(handle, LibC.LOCK_EX);

    private static FileLock Take(SafeHandle handle, int operation)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return new FileLock(handle);
        while (LibC.flock(handle, operation) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == LibC.EINTR) continue;
            throw PolykeyException.Failed($"cannot lock the keynode file (errno {errno})");
        }
        return new FileLock(handle) { _held = true };
    }

    public void Dispose()
    {
        if (!_held) return;
        _held = false;
        LibC.flock(_handle, LibC.LOCK_UN);
    }
}
