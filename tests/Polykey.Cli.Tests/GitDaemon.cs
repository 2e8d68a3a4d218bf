using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Polykey.Cli.Tests;

/// <summary>
/// A real `git daemon` serving the bare repositories under one directory on a free loopback
/// port, pushes allowed, for as long as the test holds it.
/// </summary>
public sealed class GitDaemon : IDisposable
{
    private readonly Process _process;
    private bool _stopped;

    public GitDaemon(string basePath)
    {
        Port = Loopback.FreePort();
        var start = new ProcessStartInfo("git")
        {
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (string arg in new[] { "daemon", "--reuseaddr", "--export-all", "--enable=receive-pack", $"--base-path={basePath}", "--listen=127.0.0.1", $"--port={Port}", basePath })
            start.ArgumentList.Add(arg);
        _process = Process.Start(start)!;
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        Loopback.WaitUntilListening(_process, Port, "git daemon");
    }

    public int Port { get; }

    public string Url(string repository) => $"git://127.0.0.1:{Port}/{repository}";

    public void Dispose()
    {
        if (_stopped) return;
        _stopped = true;
        try { _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        _process.WaitForExit(5000);
        _process.Dispose();
    }
}
