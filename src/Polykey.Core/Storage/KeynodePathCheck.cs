using Polykey.Core.Native;

namespace Polykey.Core.Storage;

/// <summary>
/// Refuses a keynode path that names something other than a regular file, before anything
/// opens it: opening a FIFO would block, and a directory or device fails with a misleading
/// error. Looks with stat only; a symbolic link is followed, so one to a regular file passes.
/// </summary>
internal static class KeynodePathCheck
{
    /// <summary>Throws (exit 1) when <paramref name="path"/> exists and is not a regular file; a missing path passes.</summary>
    public static void RequireRegularFile(string path)
    {
        string? kind = Kind(path);
        if (kind is null) return;
        string message = kind == "directory" ? $"{path} is a directory, not a keynode file" : $"{path} is a {kind}, not a regular file";
        throw PolykeyException.Failed(message, "name the keynode file itself with --keynode or $PK_KEYNODE");
    }

    // What the path is when not a regular file; null for a regular file or nothing at all.
    private static string? Kind(string path)
    {
        if (!OperatingSystem.IsLinux())
            return Directory.Exists(path) ? "directory" : null;
        // Missing or unreachable: the open that follows says which.
        if (LibC.statx(LibC.AT_FDCWD, path, 0, LibC.STATX_TYPE, out LibC.Statx status) != 0) return null;
        return (status.Mode & LibC.S_IFMT) switch
        {
            LibC.S_IFREG => null,
            LibC.S_IFDIR => "directory",
            LibC.S_IFIFO => "FIFO",
            LibC.S_IFCHR => "character device",
            LibC.S_IFBLK => "block device",
            LibC.S_IFSOCK => "socket",
            _ => "special file",
        };
    }
}
