using System.Diagnostics;
using System.Runtime.InteropServices;
using Polykey.Core.Native;

namespace Polykey.Core.Storage;

/// <summary>
/// flock(2) on the keynode file: writers hold it exclusive for one append, readers hold it
/// shared while they read new bytes, so nobody reads a half-written change. A lock another
/// process holds is waited for at most <see cref="Timeout"/>, with one <see cref="WaitNotice"/>.
/// </summary>
public sealed class FileLock : IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(25);

    private readonly SafeHandle _handle;
    private bool _held;

    private FileLock(SafeHandle handle) => _handle = handle;

    /// <summary>Told once per wait, in one line, that another process holds the lock; the CLI prints it.</summary>
    public static Action<string>? WaitNotice { get; set; }

    /// <summary>How long to wait for a lock another process holds; negative waits for ever.</summary>
    public static TimeSpan Timeout { get; set; } = Limits.DefaultLockWait;

    internal static FileLock Shared(SafeHandle handle) => Take(handle, LibC.LOCK_SH);

    /// <summary>Held exclusive by one process at a time (also used by transports for their caches).</summary>
    public static FileLock Exclusive(SafeHandle handle) => Take(handle, LibC.LOCK_EX);

    private static FileLock Take(SafeHandle handle, int operation)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return new FileLock(handle);
        Stopwatch? waiting = null;
        while (LibC.flock(handle, operation | LibC.LOCK_NB) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == LibC.EINTR) continue;
            if (errno != (OperatingSystem.IsMacOS() ? LibC.EWOULDBLOCK_DARWIN : LibC.EWOULDBLOCK))
                throw PolykeyException.Failed($"cannot lock the keynode file (errno {errno})");
            TimeSpan timeout = Timeout;
            if (waiting is null)
            {
                waiting = Stopwatch.StartNew();
                WaitNotice?.Invoke($"waiting for another process{Holder(handle)} that holds the lock on {PathOf(handle)}");
            }
            TimeSpan left = timeout - waiting.Elapsed;
            if (timeout >= TimeSpan.Zero && left <= TimeSpan.Zero)
                throw PolykeyException.Failed($"{PathOf(handle)} is locked by another process{Holder(handle)}; gave up after {Seconds(timeout)} s",
                    "let that process finish and try again; $PK_LOCK_TIMEOUT sets how many seconds pk waits");
            Thread.Sleep(timeout >= TimeSpan.Zero && left < PollInterval ? left : PollInterval);
        }
        return new FileLock(handle) { _held = true };
    }

    public void Dispose()
    {
        if (!_held) return;
        _held = false;
        LibC.flock(_handle, LibC.LOCK_UN);
    }

    // " (pid N, name)" of a process holding a flock on the same file, from /proc/locks, whose
    // lines read "1: FLOCK  ADVISORY  WRITE 3841 fe:00:11657310 0 EOF" (waiters: "1: -> FLOCK ...").
    private static string Holder(SafeHandle handle)
    {
        if (!OperatingSystem.IsLinux() || LibC.statx(handle, "", LibC.AT_EMPTY_PATH, LibC.STATX_INO, out LibC.Statx file) != 0)
            return "";
        string id = $"{file.DeviceMajor:x2}:{file.DeviceMinor:x2}:{file.Inode}";
        try
        {
            foreach (string line in File.ReadLines("/proc/locks"))
            {
                string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length >= 6 && fields[1] == "FLOCK" && fields[5] == id && int.TryParse(fields[4], out int pid) && pid > 0)
                    return ProcessName(pid) is { } name ? $" (pid {pid}, {name})" : $" (pid {pid})";
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return "";
    }

    private static string? ProcessName(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/comm").Trim() is { Length: > 0 } name ? name : null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    private static string PathOf(SafeHandle handle)
    {
        if (!OperatingSystem.IsLinux()) return "the keynode file";
        try { return new FileInfo($"/proc/self/fd/{handle.DangerousGetHandle()}").LinkTarget ?? "the keynode file"; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return "the keynode file"; }
    }

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
}
