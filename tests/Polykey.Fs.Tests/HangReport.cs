using System.Text;

namespace Polykey.Fs.Tests;

/// <summary>
/// What a test prints when a call into a mount does not return: which processes hold the mount
/// (a descriptor or working directory inside it), where each of them and each thread of this
/// process waits in the kernel (root can read /proc/*/stack), and what the FUSE connection
/// still has waiting. A hang seen once in many CI runs is then diagnosable from its log.
/// </summary>
public static class HangReport
{
    public static string For(string mountPoint, int? stuckPid = null)
    {
        var report = new StringBuilder($"\n--- hang report for {mountPoint} ---\n");
        foreach (string proc in SafeDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out int pid)) continue;
            var holds = new List<string>();
            if (Link(Path.Combine(proc, "cwd")) is { } cwd && Inside(cwd, mountPoint)) holds.Add("cwd " + cwd);
            foreach (string fd in SafeEntries(Path.Combine(proc, "fd")))
                if (Link(fd) is { } target && Inside(target, mountPoint)) holds.Add($"fd {Path.GetFileName(fd)} {target}");
            if (holds.Count == 0 && pid != stuckPid) continue;
            report.Append($"pid {pid} ({Read(Path.Combine(proc, "cmdline"))?.Replace('\0', ' ').Trim()}): {string.Join(", ", holds)}\n");
            report.Append(Indent(Read(Path.Combine(proc, "stack"))));
        }
        report.Append($"threads of this process (pid {Environment.ProcessId}) waiting in the kernel:\n");
        foreach (string task in SafeDirectories($"/proc/{Environment.ProcessId}/task"))
        {
            string? stack = Read(Path.Combine(task, "stack"));
            if (stack is null || !stack.Contains("fuse", StringComparison.Ordinal)) continue; // idle threads say nothing
            report.Append($"  tid {Path.GetFileName(task)} ({Read(Path.Combine(task, "comm"))?.Trim()}):\n{Indent(stack, "    ")}");
        }
        foreach (string connection in SafeDirectories("/sys/fs/fuse/connections"))
            report.Append($"fuse connection {Path.GetFileName(connection)}: waiting {Read(Path.Combine(connection, "waiting"))?.Trim()}\n");
        return report.Append("--- end of hang report ---").ToString();
    }

    private static bool Inside(string path, string mountPoint) =>
        path == mountPoint || path.StartsWith(mountPoint + "/", StringComparison.Ordinal);

    private static string Indent(string? text, string prefix = "    ") =>
        text is null ? "" : string.Concat(text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => prefix + l + "\n"));

    private static string? Link(string path)
    {
        try { return new FileInfo(path).LinkTarget; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    private static string? Read(string path)
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    private static IEnumerable<string> SafeDirectories(string path)
    {
        try { return Directory.GetDirectories(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
    }

    private static IEnumerable<string> SafeEntries(string path)
    {
        try { return Directory.GetFileSystemEntries(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
    }
}
