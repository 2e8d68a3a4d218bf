using System.ComponentModel;
using System.Diagnostics;
using Polykey.Core;
using Polykey.Core.Sync;

namespace Polykey.Cli.Transports;

/// <summary>
/// A keynode on another host, reached as git reaches a repository: the system ssh client (so
/// ~/.ssh/config, agents and known_hosts work as usual) runs `pk serve PATH` there, and the
/// two speak the wire protocol (docs/wire-protocol.md) over ssh's stdin and stdout.
/// $PK_SSH replaces the ssh command (run by /bin/sh, like GIT_SSH_COMMAND); $PK_REMOTE_PK
/// names pk on the far side.
/// </summary>
internal static class SshTransport
{
    public static bool Handles(string url) =>
        url.StartsWith("ssh://", StringComparison.Ordinal)
        || (!url.Contains("://", StringComparison.Ordinal) && url.IndexOf(':') is > 0 and var colon && (url.IndexOf('/') is var slash && (slash < 0 || colon < slash)));

    public static IHistoryTarget Open(string url)
    {
        SshLocation where = SshLocation.Parse(url);
        Process process = Start(where);
        var stderr = new StderrTail(process.StandardError.BaseStream);
        int? exit = null;
        try
        {
            return WireClient.Connect(url, process.StandardOutput.BaseStream, process.StandardInput.BaseStream, () => exit = Finish(process));
        }
        catch (WireException e)
        {
            throw Explain(where, exit, stderr.LastLine(), e);
        }
    }

    private static Process Start(SshLocation where)
    {
        string remotePk = Environment.GetEnvironmentVariable("PK_REMOTE_PK") is { Length: > 0 } pk ? pk : "pk";
        List<string> sshArgs = [.. where.Port is { } port ? new[] { "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture) } : [],
            where.Destination, where.RemoteCommand(remotePk)];
        ProcessStartInfo start;
        if (Environment.GetEnvironmentVariable("PK_SSH") is { Length: > 0 } command)
        {
            // As git does with GIT_SSH_COMMAND: the shell splits the user's command; our arguments follow as "$@".
            start = new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", command + " \"$@\"", "pk-ssh" } };
        }
        else start = new ProcessStartInfo("ssh");
        foreach (string arg in sshArgs) start.ArgumentList.Add(arg);
        start.RedirectStandardInput = start.RedirectStandardOutput = start.RedirectStandardError = true;
        start.UseShellExecute = false;
        try
        {
            return Process.Start(start) ?? throw new Win32Exception();
        }
        catch (Win32Exception)
        {
            throw PolykeyException.Failed($"cannot run {start.FileName} to reach {where.Host}", "install an ssh client (openssh-client), or set PK_SSH to one");
        }
    }

    // The far side is done once this side closed its input: give it a moment to exit, then stop it. Returns its exit code.
    private static int? Finish(Process process)
    {
        try
        {
            if (!process.WaitForExit(TimeSpan.FromSeconds(10))) process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            return null; // never started or already reaped
        }
        finally
        {
            process.Dispose();
        }
    }

    // Why the far side never answered as pk: ssh could not connect (it exits 255), the shell there found no pk, or something else spoke.
    private static PolykeyException Explain(SshLocation where, int? exit, string? said, WireException problem)
    {
        string quoted = said is null ? "" : $": {said}";
        if (exit == 255)
            return PolykeyException.Failed($"cannot reach {where.Host} over ssh{quoted}", $"check that 'ssh {where.Destination}' works from here");
        if (exit == 127 || (said is not null && (said.Contains("not found", StringComparison.OrdinalIgnoreCase) || said.Contains("No such file", StringComparison.Ordinal))))
            return PolykeyException.Failed($"pk is not installed on {where.Host}, or not on the PATH ssh sessions get there{quoted}",
                "install pk there, or set PK_REMOTE_PK to its full path on that host");
        return PolykeyException.Failed($"{where.Host} did not answer as 'pk serve': {problem.Message}{(said is null ? "" : "; it said: " + said)}",
            $"a login script that prints to stdout breaks the protocol; 'ssh {where.Destination} pk serve --help' shows what the far side says");
    }
}
