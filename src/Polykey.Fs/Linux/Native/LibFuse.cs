using System.Runtime.InteropServices;

namespace Polykey.Fs.Linux.Native;

/// <summary>
/// The libfuse3 low-level API, bound by hand. Only blittable arguments, so the source
/// generator emits no marshalling and the binding stays NativeAOT-safe. Pointers to
/// fuse_session, fuse_req and fuse_loop_config are opaque (<c>nint</c>).
/// </summary>
internal static unsafe partial class LibFuse
{
    private const string Lib = "libfuse3.so.3";

    /// <summary>FUSE_MAKE_VERSION(3, 12): the first release whose default <c>fuse_session_loop_mt</c> takes the opaque config.</summary>
    public const int MinimumVersion = 312;

    public const ulong RootId = 1;

    [LibraryImport(Lib)]
    public static partial int fuse_version();

    [LibraryImport(Lib)]
    public static partial nint fuse_session_new(FuseArgs* args, FuseLowLevelOps* op, nuint opSize, nint userdata);

    [LibraryImport(Lib)]
    public static partial int fuse_session_mount(nint session, byte* mountPoint);

    // Binding by name resolves the default symbol version, which is FUSE_3.12 (opaque config)
    // on every libfuse >= 3.12; FuseMount refuses older libraries via fuse_version().
    [LibraryImport(Lib)]
    public static partial int fuse_session_loop_mt(nint session, nint config);

    [LibraryImport(Lib)]
    public static partial void fuse_session_exit(nint session);

    [LibraryImport(Lib)]
    public static partial void fuse_session_unmount(nint session);

    [LibraryImport(Lib)]
    public static partial void fuse_session_destroy(nint session);

    [LibraryImport(Lib)]
    public static partial void fuse_opt_free_args(FuseArgs* args);

    [LibraryImport(Lib)]
    public static partial nint fuse_loop_cfg_create();

    [LibraryImport(Lib)]
    public static partial void fuse_loop_cfg_destroy(nint config);

    [LibraryImport(Lib)]
    public static partial void fuse_loop_cfg_set_max_threads(nint config, uint value);

    [LibraryImport(Lib)]
    public static partial void fuse_loop_cfg_set_idle_threads(nint config, uint value);

    // Returns a field of the request: no syscall, no lock, so the GC transition can be skipped.
    [LibraryImport(Lib)]
    [SuppressGCTransition]
    public static partial nint fuse_req_userdata(nint req);

    /// <summary>The caller of a request (struct fuse_ctx: uid, gid, pid, umask); valid while the request is.</summary>
    [LibraryImport(Lib)]
    [SuppressGCTransition]
    public static unsafe partial FuseContext* fuse_req_ctx(nint req);

    [LibraryImport(Lib)]
    public static partial int fuse_reply_err(nint req, int err);

    [LibraryImport(Lib)]
    public static partial void fuse_reply_none(nint req);

    [LibraryImport(Lib)]
    public static partial int fuse_reply_entry(nint req, FuseEntryParam* entry);

    [LibraryImport(Lib)]
    public static partial int fuse_reply_create(nint req, FuseEntryParam* entry, FuseFileInfo* fi);

    [LibraryImport(Lib)]
    public static partial int fuse_reply_attr(nint req, Stat* attr, double attrTimeout);

    [LibraryImport(Lib)]
    public static partial int fuse_reply_open(nint req, FuseFileInfo* fi);

    [LibraryImport(Lib)]
    public static partial int fuse_reply_write(nint req, nuint count);

    [LibraryImport(Lib)]
    public static partial int fuse_reply_buf(nint req, byte* buf, nuint size);

    [LibraryImport(Lib)]
    public static partial int fuse_reply_statfs(nint req, StatVfs* stbuf);

    [LibraryImport(Lib)]
    public static partial nuint fuse_add_direntry(nint req, byte* buf, nuint bufSize, byte* name, Stat* stbuf, long off);

    [LibraryImport(Lib)]
    public static partial int fuse_lowlevel_notify_inval_inode(nint session, ulong ino, long off, long len);

    [LibraryImport(Lib)]
    public static partial int fuse_lowlevel_notify_inval_entry(nint session, ulong parent, byte* name, nuint nameLength);
}
