using System.CommandLine;
using System.Diagnostics;
using Polykey.Core;

namespace Polykey.Cli.Commands;

internal static class UnmountCommand
{
    public static Command Create(GlobalOptions options)
    {
        var mountPoint = new Argument<string>("mountpoint") { Description = "where the keynode is mounted" }.Completes(ValueHint.Directory);
        var command = new Command("unmount", "Unmount a keynode mounted with 'pk mount'. Files closed before it are saved.\n\nExample:\n  pk unmount /run/secrets") { mountPoint };
        command.SetAction(parse =>
        {
            string target = Path.GetFullPath(parse.GetValue(mountPoint)!);
            string? type = MountedType(target);
            if (type is null) throw PolykeyException.NotFound($"nothing is mounted on {target}");
            if (type != "fuse.pk") throw PolykeyException.Failed($"{target} is a {type} mount, not a keynode", "use umount for other filesystems");
            var start = new ProcessStartInfo("fusermount3") { UseShellExecute = false, RedirectStandardError = true };
            start.ArgumentList.Add("-u");
            start.ArgumentList.Add(target);
            using Process process = Process.Start(start) ?? throw PolykeyException.Failed("cannot run fusermount3");
            string error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                if (error.Contains("busy", StringComparison.OrdinalIgnoreCase))
                    throw PolykeyException.Failed($"{target} is busy: a process still uses it", $"find it with: fuser -vm {target}");
                throw PolykeyException.Failed($"cannot unmount {target}: {error.Trim()}");
            }
            return ExitCodes.Success;
        });
        return command;
    }

    // The type of the mount at exactly this path (fuse.pk for ours), from the kernel's table.
    private static string? MountedType(string target)
    {
        string? type = null;
        foreach (string line in File.ReadLines("/proc/self/mounts"))
        {
            string[] fields = line.Split(' ');
            if (fields.Length > 2 && fields[1].Replace("\\040", " ") == target) type = fields[2];
        }
        return type;
    }
}
