namespace Polykey.Cli.Tests;

/// <summary>
/// Tests that put files where the whole machine looks (the package's /usr/sbin/mount.pk, the
/// helper links in /sbin) share one collection, so xunit never runs two of them at once.
/// </summary>
public static class SystemFiles
{
    public const string Collection = "system-wide files";
}
