using System.Text;

namespace Polykey.Fs.Linux;

/// <summary>How a tree is mounted. Defaults suit <c>pk mount</c>: kernel caching on, invalidated explicitly.</summary>
public sealed record FuseMountOptions
{
    /// <summary>Mount with <c>ro</c>: the kernel refuses every change with EROFS. Forced on when the tree is read-only.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>
    /// Ask for an OPEN round trip on every open of a writable mount, so that each open file
    /// keeps reading the version it opened even while this mount rewrites the file in place,
    /// and writes collect in the tree until close. Off (the default), opens cost no round trip:
    /// the kernel's write-back cache collects writes and hands them over at close or fsync,
    /// and in-place rewrites through the mount are seen by earlier readers, as on a local
    /// filesystem. Changes by other processes, and editors that replace the file, keep
    /// earlier readers on their version either way. Read-only mounts never need it.
    /// </summary>
    public bool PinVersionAtOpen { get; init; }

    /// <summary>Let users other than the mounting one in (<c>allow_other</c>); permissions are still checked by the kernel.</summary>
    public bool AllowOther { get; init; }

    /// <summary>The owner every file and directory shows (and the kernel checks against); null for the mounting user.</summary>
    public uint? OwnerId { get; init; }

    /// <summary>The group every file and directory shows; null for the mounting user's group.</summary>
    public uint? GroupId { get; init; }

    /// <summary>The source column of the mount table (<c>fsname=</c>), e.g. the keynode path.</summary>
    public string FsName { get; init; } = "polykey";

    /// <summary>The mount type becomes <c>fuse.{Subtype}</c>.</summary>
    public string Subtype { get; init; } = "pk";

    /// <summary>
    /// Let fusermount3 unmount when this process dies, so a crash leaves no dead mount point.
    /// libfuse keeps one fusermount3 helper alive per mount until the process exits.
    /// </summary>
    public bool AutoUnmount { get; init; } = true;

    /// <summary>How long the kernel trusts a name lookup. Long, because the tree's Changed event invalidates explicitly.</summary>
    public TimeSpan EntryTimeout { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How long the kernel trusts attributes (size, mode, mtime).</summary>
    public TimeSpan AttributeTimeout { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Worker threads of the libfuse loop; all stay alive (idle = max) so no thread re-attaches to the runtime.</summary>
    public int MaxThreads { get; init; } = 8;

    /// <summary>How long <see cref="FuseMount.Unmount"/> lets processes that still hold files finish before cutting them off.</summary>
    public TimeSpan UnmountTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Called (on a FUSE thread) with any exception that is not an <see cref="FsException"/>;
    /// the request has already been answered EIO. Must not throw; must not touch the mount.
    /// </summary>
    public Action<Exception>? UnexpectedError { get; init; }

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(FsName);
        ArgumentException.ThrowIfNullOrEmpty(Subtype);
        if (FsName.Any(char.IsControl))
            throw new ArgumentException("FsName must not contain control characters.");
        if (!Subtype.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
            throw new ArgumentException("Subtype may hold only ASCII letters, digits, '_', '-' and '.'.");
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxThreads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(EntryTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(AttributeTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(UnmountTimeout, TimeSpan.Zero);
    }

    /// <summary>
    /// The -o string for libfuse. nosuid and nodev are libfuse's defaults; noatime says what
    /// the tree does anyway (reads never move atime; utimensat sets it).
    /// </summary>
    internal string ToMountOptions(bool readOnly)
    {
        // fuse_opt splits on commas; a backslash escapes the next character.
        var fsName = FsName.Replace("\\", "\\\\").Replace(",", "\\,");
        var text = new StringBuilder($"fsname={fsName},subtype={Subtype},default_permissions,noatime");
        if (AutoUnmount)
            text.Append(",auto_unmount");
        if (readOnly)
            text.Append(",ro");
        if (AllowOther)
            text.Append(",allow_other");
        return text.ToString();
    }
}
