using System.Runtime.InteropServices;
using System.Text;
using Polykey.Fs.Linux.Native;

namespace Polykey.Fs.Linux;

/// <summary>Checks a mount point before anything is mounted, so a bad one fails with a plain message.</summary>
internal static unsafe class MountPointCheck
{
    private const int ENOENT = 2;
    private const int ENOTDIR = 20;
    private const int PathMax = 4096;

    /// <summary>Returns the canonical path (symlinks resolved), or throws <see cref="FuseMountException"/>.</summary>
    public static string Resolve(string mountPoint)
    {
        ArgumentException.ThrowIfNullOrEmpty(mountPoint);
        var full = Trim(Path.GetFullPath(mountPoint));
        // The mount table first: stat on a dead FUSE mount fails with ENOTCONN, which would
        // otherwise read as "does not exist".
        ThrowIfMounted(full);
        var real = RealPath(full);
        if (!Directory.Exists(real))
            throw new FuseMountException($"Mount point {full} is not a directory.");
        if (real != full)
            ThrowIfMounted(real);
        return real;
    }

    private static void ThrowIfMounted(string path)
    {
        if (MountTable.Find(path) is { } existing)
        {
            throw new FuseMountException(
                $"Mount point {path} is already mounted ({existing.FsType}); unmount it first (fusermount3 -u {path}).");
        }
    }

    private static string RealPath(string path)
    {
        var encoded = Encoding.UTF8.GetBytes(path + "\0");
        var resolved = stackalloc byte[PathMax + 1];
        fixed (byte* p = encoded)
        {
            if (LibC.realpath(p, resolved) == null)
            {
                var errno = Marshal.GetLastPInvokeError();
                throw errno switch
                {
                    ENOENT => new FuseMountException($"Mount point {path} does not exist."),
                    ENOTDIR => new FuseMountException($"Mount point {path} is not a directory."),
                    _ => new FuseMountException($"Mount point {path} cannot be used: {Marshal.GetPInvokeErrorMessage(errno)}."),
                };
            }
        }
        return Marshal.PtrToStringUTF8((nint)resolved) ?? path;
    }

    private static string Trim(string path) => path.Length > 1 ? path.TrimEnd('/') : path;
}
