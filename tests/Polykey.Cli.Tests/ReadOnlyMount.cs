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

    /// <summary>
    /// Unmounts, waiting up to 5 s for a process that still holds a file there (a mount
    /// daemon finishing its exit, say); lazily after that, so no test leaves a mount behind.
    /// </summary>
    public static void Unmount(string target)
    {
        for (int i = 0; i < 50; i++)
        {
            if (PkProcess.Run("umount", [target]).ExitCode == 0) return;
            Thread.Sleep(100);
        }
        PkProcess.Run("umount", ["-l", target]);
    }
}
