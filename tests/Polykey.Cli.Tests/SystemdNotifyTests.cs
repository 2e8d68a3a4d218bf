using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Polykey.Cli.Tests;

/// <summary>
/// `pk mount --foreground` under a service manager: the sd_notify messages it sends to a
/// real $NOTIFY_SOCKET that the test binds, as systemd does for Type=notify.
/// </summary>
public sealed class SystemdNotifyTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly TestKeynode _node = new TestKeynode().Init();
    private readonly string _target;

    public SystemdNotifyTests()
    {
        Pk.Ok(_node.Set("app/token", "value-a"));
        _target = Directory.CreateDirectory(Path.Combine(_node.Directory, "mnt")).FullName;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Foreground_ReadyOnlyOnceAFileReads_StoppingAtSigterm_ThenUnmounted(bool abstractSocket)
    {
        using var socket = new NotifySocket(_node.Directory, abstractSocket);
        using Process mount = StartForeground(socket.Address);

        var before = new List<string>();
        string ready = socket.NextUntil(m => m.Contains("READY=1"), before);
        // The moment READY=1 arrives, a file can be read: units ordered after the mount find their secrets.
        Assert.Equal("value-a", File.ReadAllText(Path.Combine(_target, "app/token")));
        Assert.Contains($"STATUS=serving {_node.Path} on {_target}", ready);
        Assert.Contains(before, m => m == $"STATUS=opening {_node.Path}");
        Assert.Contains(before, m => m == $"STATUS=mounting {_node.Path} on {_target}");

        Signal(mount, "TERM");
        string stopping = socket.NextUntil(m => m.Contains("STOPPING=1"));
        Assert.Contains($"STATUS=unmounting {_target}", stopping);
        Assert.True(mount.WaitForExit(15_000), "the mount did not exit after SIGTERM");
        Assert.Equal(0, mount.ExitCode);
        Assert.False(TestMount.IsMounted(_target), "SIGTERM left the mount behind");
        Assert.Empty(Directory.GetFileSystemEntries(_target));
    }

    [Fact]
    public void Foreground_ChangeBehindTheMount_IsAStatusLine_AndTheHookCannotNotify()
    {
        using var socket = new NotifySocket(_node.Directory, abstractName: false);
        string hookEnvironment = Path.Combine(_node.Directory, "hook-env");
        using Process mount = StartForeground(socket.Address, "--on-change", $"env > {hookEnvironment}");
        socket.NextUntil(m => m.Contains("READY=1"));

        Pk.Ok(_node.Set("app/token", "value-b"));
        string changed = socket.NextUntil(m => m.Contains("changed behind the mount"));
        Assert.Matches(@"^STATUS=serving .*; 1 secret\(s\) changed behind the mount at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", changed);
        Assert.True(WaitUntil(() => File.Exists(hookEnvironment) && File.ReadAllText(hookEnvironment).Contains("PK_CHANGED_PATHS")), "the hook did not run");
        Assert.DoesNotContain("NOTIFY_SOCKET", File.ReadAllText(hookEnvironment));

        Signal(mount, "TERM");
        socket.NextUntil(m => m.Contains("STOPPING=1"));
        Assert.True(mount.WaitForExit(15_000));
    }

    [Fact]
    public void Foreground_UnmountedByOthers_SaysStoppingAndExitsZero()
    {
        using var socket = new NotifySocket(_node.Directory, abstractName: false);
        using Process mount = StartForeground(socket.Address);
        socket.NextUntil(m => m.Contains("READY=1"));

        Assert.Equal(0, PkProcess.Run("umount", [_target]).ExitCode);
        Assert.Contains($"STATUS={_target} was unmounted; stopping", socket.NextUntil(m => m.Contains("STOPPING=1")));
        Assert.True(mount.WaitForExit(15_000), "the mount did not exit after an outside umount");
        Assert.Equal(0, mount.ExitCode);
    }

    [Fact]
    public void Daemon_SendsNothing_ItsProcessIsNotTheOneTheServiceManagerWatches()
    {
        using var socket = new NotifySocket(_node.Directory, abstractName: false);
        Pk.Ok(PkProcess.Pk(_node.Args("mount", _target), env: new Dictionary<string, string> { ["NOTIFY_SOCKET"] = socket.Address }));
        try
        {
            Assert.Equal("value-a", File.ReadAllText(Path.Combine(_target, "app/token")));
            Assert.Null(socket.Next(TimeSpan.FromMilliseconds(500)));
        }
        finally
        {
            Pk.Ok(PkProcess.Pk(["unmount", _target]));
        }
        Assert.True(WaitUntil(() => !TestMount.IsMounted(_target)));
        Assert.Null(socket.Next(TimeSpan.FromMilliseconds(500)));
    }

    private Process StartForeground(string notifySocket, params string[] extra)
    {
        var start = new ProcessStartInfo(PkProcess.Binary) { UseShellExecute = false, RedirectStandardError = true };
        foreach (string arg in _node.Args(["mount", _target, "--foreground", .. extra])) start.ArgumentList.Add(arg);
        start.Environment["NOTIFY_SOCKET"] = notifySocket;
        Process process = Process.Start(start)!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        return process;
    }

    private static void Signal(Process process, string signal) =>
        Assert.Equal(0, PkProcess.Run("kill", [$"-{signal}", process.Id.ToString()]).ExitCode);

    private static bool WaitUntil(Func<bool> condition, int seconds = 10)
    {
        for (int i = 0; i < seconds * 20 && !condition(); i++) Thread.Sleep(50);
        return condition();
    }

    public void Dispose()
    {
        if (TestMount.IsMounted(_target)) PkProcess.Run("fusermount3", ["-u", "-z", _target]);
        _node.Dispose();
    }

    /// <summary>The service manager's end: a bound unix datagram socket, by path or in the abstract namespace ('@').</summary>
    private sealed class NotifySocket : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);

        public NotifySocket(string directory, bool abstractName)
        {
            string name = abstractName ? $"pk-test-notify-{Guid.NewGuid():N}" : Path.Combine(directory, "notify");
            _socket.Bind(new UnixDomainSocketEndPoint(abstractName ? "\0" + name : name));
            Address = abstractName ? "@" + name : name;
        }

        /// <summary>What $NOTIFY_SOCKET says.</summary>
        public string Address { get; }

        /// <summary>The next message, or null when none comes in time.</summary>
        public string? Next(TimeSpan timeout)
        {
            _socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
            var buffer = new byte[4096];
            try
            {
                int length = _socket.Receive(buffer);
                return Encoding.UTF8.GetString(buffer, 0, length);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
            {
                return null;
            }
        }

        /// <summary>Messages up to the first that matches, which is returned; the others go to <paramref name="skipped"/>.</summary>
        public string NextUntil(Func<string, bool> match, List<string>? skipped = null)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < Patience)
            {
                string? message = Next(Patience - clock.Elapsed);
                if (message is null) break;
                if (match(message)) return message;
                skipped?.Add(message);
            }
            throw new TimeoutException($"no matching notification within {Patience.TotalSeconds} s; got: {string.Join(" | ", skipped ?? [])}");
        }

        public void Dispose() => _socket.Dispose();
    }
}
