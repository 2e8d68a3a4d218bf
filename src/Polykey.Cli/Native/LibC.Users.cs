using System.Runtime.InteropServices;

namespace Polykey.Cli.Native;

/// <summary>User and group names through the C library, so NSS sources (LDAP, systemd's dynamic users) count too.</summary>
internal static unsafe partial class LibC
{
    // struct passwd { char *pw_name; char *pw_passwd; uid_t pw_uid; gid_t pw_gid; ... } on glibc/x86-64 and arm64.
    [StructLayout(LayoutKind.Sequential)]
    private struct Passwd
    {
        public nint Name;
        public nint Password;
        public uint Uid;
        public uint Gid;
    }

    // struct group { char *gr_name; char *gr_passwd; gid_t gr_gid; char **gr_mem; }
    [StructLayout(LayoutKind.Sequential)]
    private struct Group
    {
        public nint Name;
        public nint Password;
        public uint Gid;
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial Passwd* getpwnam(string name);

    [LibraryImport("libc")]
    private static partial Passwd* getpwuid(uint uid);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial Group* getgrnam(string name);

    [LibraryImport("libc")]
    public static partial uint geteuid();

    [LibraryImport("libc")]
    public static partial uint getegid();

    /// <summary>A user's id and primary group, or null when no such user exists.</summary>
    public static (uint Uid, uint Gid)? FindUser(string name)
    {
        Passwd* entry = getpwnam(name);
        return entry == null ? null : (entry->Uid, entry->Gid);
    }

    /// <summary>The primary group of the user with this id, or null when no passwd entry has that id.</summary>
    public static uint? PrimaryGroupOf(uint uid)
    {
        Passwd* entry = getpwuid(uid);
        return entry == null ? null : entry->Gid;
    }

    /// <summary>A group's id, or null when no such group exists.</summary>
    public static uint? FindGroup(string name)
    {
        Group* entry = getgrnam(name);
        return entry == null ? null : entry->Gid;
    }
}
