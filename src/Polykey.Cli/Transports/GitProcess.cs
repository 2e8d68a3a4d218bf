using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Polykey.Core;

namespace Polykey.Cli.Transports;

/// <summary>What one git command printed (stdout bounded, stderr's tail) and how it ended.</summary>
internal sealed record GitResult(int ExitCode, byte[] Stdout, string Stderr)
{
    public bool Ok => ExitCode == 0;

    public string Text => Encoding.UTF8.GetString(Stdout);

    // What git adds after every failure to reach a remote: true, and never the reason.
    private static readonly string[] Boilerplate =
        ["Could not read from remote repository", "Please make sure you have the correct access rights", "and the repository exists"];

    /// <summary>The line of stderr that says what went wrong: git's last line, less its generic advice.</summary>
    public string Reason()
    {
        string? line = Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .LastOrDefault(l => !Boilerplate.Any(b => l.Contains(b, StringComparison.Ordinal)));
        if (line is null) return $"git exited with {ExitCode}";
        if (line.StartsWith("fatal:", StringComparison.Ordinal)) line = line[6..].Trim();
        else if (line.StartsWith("error:", StringComparison.Ordinal)) line = line[6..].Trim();
        return GitProcess.Redact(line);
    }
}

/// <summary>
/// Runs the real git client, so the user's credential helpers, ssh keys and git hosts all work,
/// with an environment scrubbed of pk's own variables (a passphrase must never reach git or its
/// helpers) and of anything that would make git prompt, page or look at another repository.
/// </summary>
internal static class GitProcess
{
    /// <summary>Variables git and its helpers may need: where the user's config and keys are, proxies, certificates.</summary>
    private static readonly string[] Kept =
    [
        "PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR",
        "SSH_AUTH_SOCK", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_ASKPASS", "SSH_ASKPASS", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM",
        "http_proxy", "https_proxy", "no_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
        "SSL_CERT_FILE", "SSL_CERT_DIR", "GIT_SSL_CAINFO", "GIT_SSL_CAPATH",
    ];

    /// <summary>Most a command's stdout may print before git is stopped (ref lists, porcelain lines).</summary>
    public const int MaxOutputBytes = 64 << 20;

    /// <summary>Most of stderr kept: only its tail is ever shown.</summary>
    private const int MaxStderrChars = 64 << 10;

    public static ProcessStartInfo StartInfo(string? gitDir, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("git")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment.Clear();
        foreach (string name in Kept)
            if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } value) start.Environment[name] = value;
        start.Environment["GIT_TERMINAL_PROMPT"] = "0";
        start.Environment["GIT_PAGER"] = "cat";
        start.Environment["PAGER"] = "cat";
        start.Environment["LC_ALL"] = "C"; // messages in one language, so the reasons pk shows read the same everywhere
        start.Environment["GIT_NO_REPLACE_OBJECTS"] = "1";
        if (gitDir is not null)
        {
            start.ArgumentList.Add("--git-dir");
            start.ArgumentList.Add(gitDir);
        }
        foreach (string arg in args) start.ArgumentList.Add(arg);
        return start;
    }

    /// <summary>Runs git to the end; stdout beyond <paramref name="maxOutput"/> stops it (ExitCode -1).</summary>
    public static GitResult Run(string? gitDir, IEnumerable<string> args, byte[]? stdin = null, int maxOutput = MaxOutputBytes, Func<bool>? stopWhen = null)
    {
        using Process process = Start(StartInfo(gitDir, args));
        var stderr = new StringBuilder();
        Task readErr = Task.Run(() =>
        {
            var buffer = new char[4096];
            int n;
            while ((n = process.StandardError.Read(buffer, 0, buffer.Length)) > 0)
                lock (stderr)
                {
                    stderr.Append(buffer, 0, n);
                    if (stderr.Length > MaxStderrChars) stderr.Remove(0, stderr.Length - MaxStderrChars);
                }
        });
        Task writeIn = Task.Run(() =>
        {
            try
            {
                if (stdin is not null) process.StandardInput.BaseStream.Write(stdin);
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // git stopped reading: its exit code and stderr say why.
            }
        });
        var stdout = new MemoryStream();
        bool tooMuch = false;
        Task readOut = Task.Run(() =>
        {
            var buffer = new byte[81920];
            int n;
            while ((n = process.StandardOutput.BaseStream.Read(buffer)) > 0)
            {
                if (stdout.Length + n > maxOutput)
                {
                    tooMuch = true;
                    Kill(process);
                    return;
                }
                stdout.Write(buffer, 0, n);
            }
        });
        bool stopped = false;
        while (!process.WaitForExit(200))
            if (stopWhen?.Invoke() == true)
            {
                stopped = true;
                Kill(process);
            }
        Task.WaitAll(readOut, readErr, writeIn);
        process.WaitForExit();
        return new GitResult(tooMuch || stopped ? -1 : process.ExitCode, stdout.ToArray(), stderr.ToString());
    }

    public static Process Start(ProcessStartInfo start)
    {
        try
        {
            return Process.Start(start) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw PolykeyException.Failed("cannot run git: it is needed to reach a git relay", "install git (Debian: apt-get install git)", e);
        }
    }

    public static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It ended by itself.
        }
    }

    private static readonly Regex UserInfo = new(@"(://)[^/@\s]+@", RegexOptions.CultureInvariant);

    /// <summary>A URL or message with any user:password@ part masked: a token in a relay URL must never be printed.</summary>
    public static string Redact(string text) => UserInfo.Replace(text, "$1***@");
}
