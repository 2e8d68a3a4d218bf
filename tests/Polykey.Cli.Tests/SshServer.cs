using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Polykey.Cli.Tests;

/// <summary>
/// A real OpenSSH server on 127.0.0.1 for one test: its own config, a throw-away host key and
/// client key, listening on a free port, stopped (kill + wait) on dispose. <see cref="Env"/>
/// points pk's ssh client at it and the far side's pk at the binary under test.
/// </summary>
public sealed class SshServer : IDisposable
{
    private readonly Process _sshd;

    public SshServer()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("pk-sshd-").FullName;
        string hostKey = Keygen("host_key");
        string clientKey = Keygen("client_key");
        File.Copy(clientKey + ".pub", PathOf("authorized_keys"));
        Port = Loopback.FreePort();
        string config = PathOf("sshd_config");
        File.WriteAllLines(config,
        [
            $"Port {Port}", "ListenAddress 127.0.0.1", $"HostKey {hostKey}", $"PidFile {PathOf("sshd.pid")}",
            $"AuthorizedKeysFile {PathOf("authorized_keys")}", "UsePAM no", "StrictModes no", "PermitRootLogin yes",
            "PasswordAuthentication no", "KbdInteractiveAuthentication no", "PubkeyAuthentication yes", "LogLevel ERROR",
        ]);
        System.IO.Directory.CreateDirectory("/run/sshd"); // sshd's privilege separation directory
        var start = new ProcessStartInfo("/usr/sbin/sshd") { ArgumentList = { "-D", "-f", config, "-e" }, RedirectStandardError = true, UseShellExecute = false };
        _sshd = Process.Start(start)!;
        _sshd.ErrorDataReceived += (_, _) => { };
        _sshd.BeginErrorReadLine();
        Loopback.WaitUntilListening(_sshd, Port, "sshd");
        // The far side runs the binary under test; a wrapper keeps its own PATH-independent command line.
        Env = new Dictionary<string, string>
        {
            ["PK_SSH"] = $"ssh -i {clientKey} -o UserKnownHostsFile={PathOf("known_hosts")} -o StrictHostKeyChecking=accept-new -o BatchMode=yes -o ConnectTimeout=10",
            ["PK_REMOTE_PK"] = Path.GetFullPath(PkProcess.Binary.Contains('/') ? PkProcess.Binary : Which(PkProcess.Binary)),
        };
    }

    public string Directory { get; }
    public int Port { get; }
    public Dictionary<string, string> Env { get; }

    public string PathOf(string name) => Path.Combine(Directory, name);

    /// <summary>An ssh:// location of a file on this server.</summary>
    public string Url(string path) => $"ssh://localhost:{Port}{Path.GetFullPath(path)}";

    private string Keygen(string name)
    {
        string path = PathOf(name);
        PkResult result = PkProcess.Run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path]);
        Assert.True(result.ExitCode == 0, $"ssh-keygen: {result}");
        return path;
    }

    private static string Which(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists) ?? program;

    public void Dispose()
    {
        try
        {
            if (!_sshd.HasExited) _sshd.Kill(entireProcessTree: true);
            _sshd.WaitForExit();
        }
        finally
        {
            _sshd.Dispose();
            try { System.IO.Directory.Delete(Directory, recursive: true); }
            catch (IOException) { }
        }
    }
}
