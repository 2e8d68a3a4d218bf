using System.CommandLine;
using System.Diagnostics;
using Polykey.Core;

namespace Polykey.Cli.Commands;

internal static class UnmountCommand
{
    public static Command Create(GlobalOptions options)
    {
        var mountPoint = new Argument<string>("mountpoint") { Description = "where the keynode is mounted" };
        var command = new Command("unmount", "Unmount a keynode mounted with 'pk mount'. Files closed before it are saved.\n\nExample:\n  pk unmount /run/secrets") { mountPoint };
        command.SetAction(parse =>
        {
            string target = Path.GetFullPath(parse.GetValue(mountPoint)!);
            var start = new ProcessStartInfo("fusermount3") { UseShellExecute = false, RedirectStandardError = true };
            start.ArgumentList.Add("-u");
            start.ArgumentList.Add(target);
            using Process process = Process.Start(start) ?? throw PolykeyException.Failed("cannot run fusermount3");
            string error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                if (error.Contains("not found in /etc/mtab", StringComparison.Ordinal) || error.Contains("not mounted", StringComparison.Ordinal))
                    throw PolykeyException.NotFound($"nothing is mounted on {target}");
                if (error.Contains("busy", StringComparison.OrdinalIgnoreCase))
                    throw PolykeyException.Failed($"{target} is busy: a process still uses it", $"find it with: fuser -vm {target}");
                throw PolykeyException.Failed($"cannot unmount {target}: {error.Trim()}");
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
