using System.Globalization;
using Polykey.Cli.Native;
using Polykey.Core;

namespace Polykey.Cli;

/// <summary>
/// `pk mount --owner U --group G --mode M`: who the mount's files belong to and their
/// permission bits, as vfat's and sshfs's uid=, gid= and umask= give them. Null fields keep
/// the defaults (the mounting user, 0600 files and 0700 directories).
/// </summary>
internal sealed record MountOwnership(uint? Uid, uint? Gid, uint? FileMode)
{
    public static MountOwnership Parse(string? owner, string? group, string? mode)
    {
        uint? uid = null, gid = null;
        if (owner is not null)
        {
            // A uid with a passwd entry brings that user's group, as a name does; one without (a
            // container's or an NFS server's id) has no group to bring: the mounting user's stays.
            if (uint.TryParse(owner, NumberStyles.None, CultureInfo.InvariantCulture, out uint id))
                (uid, gid) = (id, LibC.PrimaryGroupOf(id));
            else if (LibC.FindUser(owner) is { } user)
                (uid, gid) = (user.Uid, user.Gid); // the user's own group, unless --group says otherwise
            else
                throw PolykeyException.Usage($"--owner: no user named '{owner}'");
        }
        if (group is not null)
        {
            gid = uint.TryParse(group, NumberStyles.None, CultureInfo.InvariantCulture, out uint id) ? id
                : LibC.FindGroup(group) ?? throw PolykeyException.Usage($"--group: no group named '{group}'");
        }
        return new MountOwnership(uid, gid, mode is null ? null : ParseMode(mode));
    }

    private static uint ParseMode(string text)
    {
        uint value = 0;
        bool valid = text.Length is > 0 and <= 4;
        foreach (char c in text)
        {
            valid &= c is >= '0' and <= '7';
            value = value * 8 + (uint)(c - '0');
        }
        if (!valid || value > 0x1FF)
            throw PolykeyException.Usage($"--mode: '{text}' is not an octal mode from 0000 to 0777 (e.g. 0440)");
        return value;
    }

    /// <summary>True when the files belong to someone other than the mounting user, who then needs allow_other to get in at all.</summary>
    public bool NamesAnotherUser => (Uid is { } uid && uid != LibC.geteuid()) || (Gid is { } gid && gid != LibC.getegid());
}
