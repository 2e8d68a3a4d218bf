using System.Diagnostics;
using System.Text;

namespace Polykey.Cli.Tests;

public sealed record PkResult(int ExitCode, byte[] Stdout, string Stderr)
{
    public string Text => Encoding.UTF8.GetString(Stdout);

    public override string ToString() => $"exit {ExitCode}; stdout: {Text}; stderr: {Stderr}";
}

/// <summary>Runs the installed pk binary (PK_BIN, else pk on PATH) and other real programs.</summary>
public static class PkProcess
{
    public static string Binary { get; } = Environment.GetEnvironmentVariable("PK_BIN") is { Length: > 0 } bin ? bin : "pk";

    public static PkResult Pk(IEnumerable<string> args, byte[]? stdin = null, IDictionary<string, string>? env = null, string? cwd = null) =>
        Run(Binary, args, stdin, env, cwd);

    public static PkResult Run(string program, IEnumerable<string> args, byte[]? stdin = null, IDictionary<string, string>? env = null, string? cwd = null, int timeoutSeconds = 120)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = cwd ?? Environment.CurrentDirectory,
        };
        foreach (string arg in args) start.ArgumentList.Add(arg);
        // Tests must not pick up a developer's own keynode or passphrase.
        foreach (string name in new[] { "PK_KEYNODE", "PK_PASSPHRASE", "PK_PASSPHRASE_FILE", "PK_IDENTITY_FILE", "CREDENTIALS_DIRECTORY", "NOTIFY_SOCKET" })
            start.Environment.Remove(name);
        if (env is not null)
            foreach (var (key, value) in env) start.Environment[key] = value;
        using Process process = Process.Start(start)!;
        var stdout = new MemoryStream();
        Task copyOut = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        Task<string> copyErr = process.StandardError.ReadToEndAsync();
        if (stdin is not null) process.StandardInput.BaseStream.Write(stdin);
        process.StandardInput.Close();
        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in {timeoutSeconds} s");
        }
        copyOut.Wait();
        return new PkResult(process.ExitCode, stdout.ToArray(), copyErr.Result);
    }

    /// <summary>Starts pk and kills it (SIGKILL) after <paramref name="milliseconds"/> unless it finished: a crash at that point.</summary>
    public static void KilledAfter(IEnumerable<string> args, int milliseconds)
    {
        var start = new ProcessStartInfo(Binary) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string arg in args) start.ArgumentList.Add(arg);
        using Process process = Process.Start(start)!;
        Thread.Sleep(milliseconds);
        if (!process.HasExited) process.Kill();
        process.WaitForExit();
    }
}
