namespace Polykey.Fs.Linux;

/// <summary>
/// Who a mount's files belong to and what their permission bits are, as stat shows them and
/// as the kernel enforces them (default_permissions). The tree keeps no owners or modes: these
/// are the mount's, like vfat's uid=, gid= and umask=.
/// </summary>
/// <param name="FileMode">Permission bits of every file; null for the tree's own (0600).</param>
/// <param name="DirectoryMode">Permission bits of every directory; null for the tree's own (0700).</param>
public readonly record struct NodeOwnership(uint Uid, uint Gid, uint? FileMode = null, uint? DirectoryMode = null)
{
    /// <summary>The directory mode that goes with a file mode: search (x) wherever read (r) is granted.</summary>
    public static uint DirectoryModeFor(uint fileMode) => fileMode | ((fileMode & 0x124) >> 2); // r bits (0444) -> x bits (0111)

    /// <summary>True when the mount, not the tree, decides permission bits.</summary>
    public bool SetsModes => FileMode is not null || DirectoryMode is not null;

    /// <summary>The permission bits stat shows for a node.</summary>
    public uint ModeOf(in NodeInfo info) =>
        (info.Kind == NodeKind.Directory ? DirectoryMode : FileMode) ?? info.Mode & NodeAttributes.PermissionMask;
}
