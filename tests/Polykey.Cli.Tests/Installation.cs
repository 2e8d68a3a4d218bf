namespace Polykey.Cli.Tests;

/// <summary>
/// What scripts/install.sh laid out around the pk under test (PREFIX/bin/pk): the mount
/// helper in PREFIX/sbin and the systemd units in PREFIX/lib/systemd/system; and the
/// repository files they came from.
/// </summary>
internal static class Installation
{
    public static string Prefix { get; } = Path.GetDirectoryName(Path.GetDirectoryName(InstalledPk())!)!;

    public static string Pk => Path.Combine(Prefix, "bin", "pk");

    public static string UnitDirectory => Path.Combine(Prefix, "lib", "systemd", "system");

    public static string MountHelper => Path.Combine(Prefix, "sbin", "mount.pk");

    /// <summary>A file of this repository (the tests run from its tests/ tree).</summary>
    public static string RepositoryFile(string relative)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "Polykey.sln")))
                return Path.Combine(directory.FullName, relative);
        throw new FileNotFoundException($"no repository above {AppContext.BaseDirectory}");
    }

    // PK_BIN, or pk as the PATH finds it.
    private static string InstalledPk()
    {
        if (PkProcess.Binary.Contains('/')) return Path.GetFullPath(PkProcess.Binary);
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            if (File.Exists(Path.Combine(directory, PkProcess.Binary))) return Path.Combine(directory, PkProcess.Binary);
        throw new FileNotFoundException($"{PkProcess.Binary} is not on PATH");
    }
}
