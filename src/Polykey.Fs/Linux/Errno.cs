namespace Polykey.Fs.Linux;

/// <summary>
/// The one place where failures become Linux errno values (x86_64/generic numbering).
/// FsException carries the neutral reason; anything else is a bug or an I/O failure
/// underneath the tree and becomes EIO, never a crash of the mount.
/// </summary>
internal static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EIO = 5;
    public const int EBADF = 9;
    public const int EACCES = 13;
    public const int EEXIST = 17;
    public const int ENOTDIR = 20;
    public const int EISDIR = 21;
    public const int EINVAL = 22;
    public const int EFBIG = 27;
    public const int ENOSPC = 28;
    public const int EROFS = 30;
    public const int ENAMETOOLONG = 36;
    public const int ENOSYS = 38;
    public const int ENOTEMPTY = 39;
    public const int ENODATA = 61;
    public const int EOPNOTSUPP = 95;

    public static int From(FsError error) => error switch
    {
        FsError.NotFound => ENOENT,
        FsError.Exists => EEXIST,
        FsError.NotDirectory => ENOTDIR,
        FsError.IsDirectory => EISDIR,
        FsError.NotEmpty => ENOTEMPTY,
        FsError.ReadOnly => EROFS,
        FsError.AccessDenied => EACCES,
        FsError.InvalidName => EINVAL,
        FsError.NameTooLong => ENAMETOOLONG,
        FsError.BadHandle => EBADF,
        FsError.NotSupported => EOPNOTSUPP,
        FsError.NoSpace => ENOSPC,
        FsError.IoError => EIO,
        FsError.TooBig => EFBIG,
        _ => EIO,
    };

    /// <summary>The errno for an exception thrown by the tree (or by the adapter's own checks).</summary>
    public static int From(Exception exception) => exception switch
    {
        FsException fs => From(fs.Error),
        _ => EIO,
    };

    /// <summary>For operations the tree has no call for: EROFS on a read-only tree, else <paramref name="otherwise"/>.</summary>
    public static int Unsupported(IFileTree tree, int otherwise) => tree.IsReadOnly ? EROFS : otherwise;
}
