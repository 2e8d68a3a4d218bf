namespace Polykey.Cli.Tests;

/// <summary>Real mounts for failure tests (read-only bind, tiny tmpfs); they need root, as CI is.</summary>
internal static class ReadOnlyMount
{
    public static bool TryBind(string source, string target)
    {
        if (Environment.UserName != "root") return false;
        if (PkProcess.Run("mount", ["--bind", source, target]).ExitCode != 0) return false;
        if (PkProcess.Run("mount", ["-o", "remount,ro,bind", target]).ExitCode == 0) return true;
        Unmount(target);
        return false;
    }

    public static bool TryTmpfs(string target, string size) =>
        Environment.UserName == "root" && PkProcess.Run("mount", ["-t", "tmpfs", "-o", $"size={size}", "tmpfs", target]).ExitCode == 0;

    public static void Unmount(string target) => PkProcess.Run("umount", [target]);
}
