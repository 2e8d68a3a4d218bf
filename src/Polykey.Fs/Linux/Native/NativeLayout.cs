using System.Runtime.InteropServices;

namespace Polykey.Fs.Linux.Native;

/// <summary>
/// Checks our struct definitions against the sizes and offsets measured with offsetof on
/// x86_64 against the libfuse 3.14 and glibc headers (NOTES-FUSE.md). A mismatch would corrupt every
/// reply silently, so it stops the mount before anything is served.
/// </summary>
internal static unsafe class NativeLayout
{
    public static void Verify()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
            throw new PlatformNotSupportedException("The libfuse3 binding is laid out for Linux x86_64 only.");

        Stat st = default;
        FuseEntryParam entry = default;
        FuseFileInfo fi = default;
        FuseConnInfo conn = default;
        StatVfs vfs = default;
        FuseLowLevelOps ops = default;
        SigAction action = default;

        Check("struct stat", sizeof(Stat), 144);
        Check("stat.st_nlink", Offset(&st, &st.Nlink), 16);
        Check("stat.st_mode", Offset(&st, &st.Mode), 24);
        Check("stat.st_size", Offset(&st, &st.Size), 48);
        Check("stat.st_atim", Offset(&st, &st.Atime), 72);
        Check("stat.st_mtim", Offset(&st, &st.Mtime), 88);
        Check("stat.st_ctim", Offset(&st, &st.Ctime), 104);
        Check("struct fuse_entry_param", sizeof(FuseEntryParam), 176);
        Check("fuse_entry_param.attr", Offset(&entry, &entry.Attr), 16);
        Check("fuse_entry_param.attr_timeout", Offset(&entry, &entry.AttrTimeout), 160);
        Check("fuse_entry_param.entry_timeout", Offset(&entry, &entry.EntryTimeout), 168);
        Check("struct fuse_file_info", sizeof(FuseFileInfo), 40);
        Check("fuse_file_info bit-fields", Offset(&fi, &fi.Bits), 4);
        Check("fuse_file_info.fh", Offset(&fi, &fi.Fh), 16);
        Check("struct fuse_args", sizeof(FuseArgs), 24);
        Check("struct fuse_conn_info", sizeof(FuseConnInfo), 128);
        Check("fuse_conn_info.want", Offset(&conn, &conn.Want), 24);
        Check("struct fuse_forget_data", sizeof(FuseForgetData), 16);
        Check("struct statvfs", sizeof(StatVfs), 112);
        Check("statvfs.f_namemax", Offset(&vfs, &vfs.NameMax), 80);
        Check("struct fuse_lowlevel_ops", sizeof(FuseLowLevelOps), 352);
        Check("fuse_lowlevel_ops.create", Offset(&ops, &ops.Create), 240);
        Check("fuse_lowlevel_ops.forget_multi", Offset(&ops, &ops.ForgetMulti), 304);
        Check("fuse_lowlevel_ops.lseek", Offset(&ops, &ops.Lseek), 344);
        Check("struct sigaction", sizeof(SigAction), 152);
        Check("sigaction.sa_flags", Offset(&action, &action.Flags), 136);
    }

    private static long Offset(void* structure, void* field) => (byte*)field - (byte*)structure;

    private static void Check(string what, long actual, long expected)
    {
        if (actual != expected)
            throw new InvalidOperationException($"libfuse binding layout mismatch: {what} is {actual}, expected {expected} (x86_64, libfuse 3.14).");
    }
}
