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
    /// <param name="mount">The mount's id and device in /proc/self/mountinfo, taken while it was attached: once an
    /// unmount detached it, paths no longer lead inside it, and only these still name what holds it.</param>
    public static string For(string mountPoint, int? stuckPid = null, (int Id, string Device)? mount = null)
    {
        int? mountId = mount?.Id;
        var report = new StringBuilder($"\n--- hang report for {mountPoint}{(mount is { } m ? $" (mount id {m.Id}, device {m.Device})" : "")} ---\n");
        foreach (string proc in SafeDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out int pid)) continue;
            var holds = new List<string>();
            if (Link(Path.Combine(proc, "cwd")) is { } cwd && Inside(cwd, mountPoint)) holds.Add("cwd " + cwd);
            foreach (string fd in SafeEntries(Path.Combine(proc, "fd")))
                if (Link(fd) is { } target && (Inside(target, mountPoint) || mountId is { } id && MountIdOf(proc, fd) == id))
                    holds.Add($"fd {Path.GetFileName(fd)} {target}");
            if (mount is { } ours && MapsOf(proc, ours.Device) is { Count: > 0 } maps) holds.Add("maps " + string.Join(", ", maps));
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

    /// <summary>The id and device (major:minor) of the mount on this mount point now; null when it is not mounted.</summary>
    public static (int Id, string Device)? MountAt(string mountPoint)
    {
        foreach (string line in File.ReadLines("/proc/self/mountinfo"))
        {
            string[] fields = line.Split(' ');
            if (fields.Length > 4 && fields[4] == mountPoint.Replace(" ", "\\040") && int.TryParse(fields[0], out int id)) return (id, fields[2]);
        }
        return null;
    }

    private static int? MountIdOf(string proc, string fd)
    {
        string? info = Read(Path.Combine(proc, "fdinfo", Path.GetFileName(fd)));
        string? line = info?.Split('\n').FirstOrDefault(l => l.StartsWith("mnt_id:", StringComparison.Ordinal));
        return line is not null && int.TryParse(line["mnt_id:".Length..].Trim(), out int id) ? id : null;
    }

    // Mapped files of the mount (a mapping holds it like a descriptor), by its device.
    private static List<string> MapsOf(string proc, string device)
    {
        string[] parts = device.Split(':');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int major) || !int.TryParse(parts[1], out int minor)) return [];
        string hex = $"{major:x2}:{minor:x2}";
        return (Read(Path.Combine(proc, "maps")) ?? "").Split('\n')
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 6 && f[3] == hex).Select(f => f[5]).Distinct().ToList();
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
