using System.Runtime.InteropServices;

namespace Polykey.Fs.Tests;

/// <summary>
/// Raw syscalls for checks that need the exact errno. They run in the test process; that
/// is safe here because the mount is served by libfuse's own worker threads, never by the
/// calling thread.
/// </summary>
public static partial class Syscalls
{
    public const int EPERM = 1, ENOENT = 2, EIO = 5, EACCES = 13, EEXIST = 17, EINVAL = 22, ENOSPC = 28, EROFS = 30,
        ENOTEMPTY = 39, EOPNOTSUPP = 95;

    public const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_EXCL = 0x80, O_TRUNC = 0x200, O_APPEND = 0x400;
    public const uint RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2;
    private const int AT_FDCWD = -100;
    private const uint S_IFIFO = 0x1000;

    /// <summary>0 on success, else the errno.</summary>
    public static int Errno(Func<int> call)
    {
        var result = call();
        return result >= 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    // O_CLOEXEC: tests run in parallel, and a process another test starts meanwhile (or
    // libfuse's fusermount3 helper) would otherwise inherit the descriptor and keep this
    // test's mount busy long after the test closed it.
    private const int O_CLOEXEC = 0x80000;

    public static int OpenClose(string path, int flags, uint mode = 0x1A4)
        => Errno(() =>
        {
            var fd = open(path, flags | O_CLOEXEC, mode);
            if (fd >= 0)
                close(fd);
            return fd;
        });

    public static int Truncate(string path, long size) => Errno(() => truncate(path, size));
    public static int Unlink(string path) => Errno(() => unlink(path));
    public static int Rename(string from, string to, uint flags = 0) => Errno(() => renameat2(AT_FDCWD, from, AT_FDCWD, to, flags));
    public static int MkDir(string path) => Errno(() => mkdir(path, 0x1ED));
    public static int RmDir(string path) => Errno(() => rmdir(path));
    public static int ChMod(string path, uint mode) => Errno(() => chmod(path, mode));
    public static int Chown(string path, uint uid, uint gid) => Errno(() => chown(path, uid, gid));
    public static int Utimes(string path) => Errno(() => utimes(path, 0));
    public static int Link(string from, string to) => Errno(() => link(from, to));
    public static int Symlink(string target, string path) => Errno(() => symlink(target, path));
    public static int MkFifo(string path) => Errno(() => mknod(path, S_IFIFO | 0x1A4, 0));
    public static int SetXattr(string path, string name) => Errno(() => setxattr(path, name, [1], 1, 0));
    public static int RemoveXattr(string path, string name) => Errno(() => removexattr(path, name));
    public static int GetXattr(string path, string name) => Errno(() => (int)getxattr(path, name, 0, 0));
    public static uint Uid => geteuid();
    public static uint Gid => getegid();

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags, uint mode);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int truncate(string path, long length);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int unlink(string path);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int renameat2(int olddirfd, string oldpath, int newdirfd, string newpath, uint flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mkdir(string path, uint mode);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rmdir(string path);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int chmod(string path, uint mode);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int chown(string path, uint uid, uint gid);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int utimes(string path, nint times);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int link(string oldpath, string newpath);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int symlink(string target, string linkpath);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mknod(string path, uint mode, ulong dev);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setxattr(string path, string name, byte[] value, nuint size, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int removexattr(string path, string name);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint getxattr(string path, string name, nint value, nuint size);

    [LibraryImport("libc")]
    private static partial uint geteuid();

    [LibraryImport("libc")]
    private static partial uint getegid();
}
