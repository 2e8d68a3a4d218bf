namespace Polykey.Fs;

/// <summary>
/// Why a file operation failed, in platform-neutral terms. The FUSE adapter maps each to an
/// errno and the WinFsp adapter to an NTSTATUS, each in one place.
/// </summary>
public enum FsError
{
    NotFound,          // ENOENT
    Exists,            // EEXIST
    NotDirectory,      // ENOTDIR
    IsDirectory,       // EISDIR
    NotEmpty,          // ENOTEMPTY
    ReadOnly,          // EROFS
    AccessDenied,      // EACCES
    InvalidName,       // EINVAL (a name the keynode cannot hold)
    NameTooLong,       // ENAMETOOLONG
    BadHandle,         // EBADF
    NotSupported,      // ENOTSUP / EOPNOTSUPP
    NoSpace,           // ENOSPC
    IoError,           // EIO
    TooBig,            // EFBIG
}

/// <summary>An operation on the tree failed with a neutral error code; the message never holds secret bytes.</summary>
public sealed class FsException(FsError error, string? detail = null) : Exception(detail ?? error.ToString())
{
    public FsError Error { get; } = error;
}
