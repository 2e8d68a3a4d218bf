using System.Diagnostics;

namespace Polykey.Fs.Tests;

public sealed record ShellResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}; stdout: {Stdout}; stderr: {Stderr}";
}

/// <summary>Runs real tools in a child process, as a user of the mount would (LC_ALL=C for stable messages).</summary>
public static class Shell
{
    public static ShellResult Run(string script, string workingDirectory, int timeoutSeconds = 30)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        start.Environment["LC_ALL"] = "C";
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds)))
        {
            string report = HangReport.For(workingDirectory, process.Id);
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{script}' did not finish within {timeoutSeconds} s{report}");
        }
        return new ShellResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs and asserts success; returns stdout.</summary>
    public static string Ok(string script, string workingDirectory)
    {
        var result = Run(script, workingDirectory);
        Assert.True(result.ExitCode == 0, $"'{script}' failed: {result}");
        return result.Stdout;
    }

    /// <summary>Runs and asserts failure with the given strerror text (e.g. "Read-only file system").</summary>
    public static void Fails(string script, string workingDirectory, string message)
    {
        var result = Run(script, workingDirectory);
        Assert.True(result.ExitCode != 0, $"'{script}' should have failed: {result}");
        Assert.Contains(message, result.Stderr);
    }
}
