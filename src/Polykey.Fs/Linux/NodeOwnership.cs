namespace Polykey.Fs.Linux;

/// <summary>
/// Who a mount's files belong to, as stat shows it and as the kernel enforces it
/// (default_permissions). The tree keeps no owners: these are the mount's, like vfat's uid=
/// and gid=. Permission bits are the tree's.
/// </summary>
public readonly record struct NodeOwnership(uint Uid, uint Gid);
