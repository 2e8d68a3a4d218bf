using System.Diagnostics;

namespace Polykey.Cli.Tests;

/// <summary>How a mount starts and ends: daemon, foreground, signals, kill -9, bad mount points.</summary>
public sealed class MountLifecycleTests : IDisposable
{
    private readonly TestKeynode _node = new TestKeynode().Init();
    private readonly string _target;

    public MountLifecycleTests()
    {
        Pk.Ok(_node.Set("a", "value-a"));
        _target = Directory.CreateDirectory(Path.Combine(_node.Directory, "mnt")).FullName;
    }

    private static bool WaitUntil(Func<bool> condition, int seconds = 5)
    {
        for (int i = 0; i < seconds * 20; i++)
        {
            if (condition()) return true;
            Thread.Sleep(50);
        }
        return condition();
    }

    private Process StartForeground()
    {
        var start = new ProcessStartInfo(PkProcess.Binary) { UseShellExecute = false, RedirectStandardError = true };
        foreach (string arg in _node.Args("mount", _target, "--foreground")) start.ArgumentList.Add(arg);
        Process process = Process.Start(start)!;
        Assert.True(WaitUntil(() => TestMount.IsMounted(_target)), "the foreground mount never appeared");
        return process;
    }

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public void Foreground_SignalUnmountsCleanlyAndExitsZero(string signal)
    {
        using Process process = StartForeground();
        Assert.Equal("value-a", File.ReadAllText(Path.Combine(_target, "a")));
        Assert.Equal(0, PkProcess.Run("kill", [$"-{signal}", process.Id.ToString()]).ExitCode);
        Assert.True(process.WaitForExit(10_000), "the mount process did not exit");
        Assert.Equal(0, process.ExitCode);
        Assert.False(TestMount.IsMounted(_target));
    }

    [Fact]
    public void Foreground_SaysWhichWriteBackItCouldNotSave_WithoutItsBytes()
    {
        using Process process = StartForeground();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        // Past the 64 MiB a secret holds: the kernel's write-back fails, and close can only say EIO.
        PkResult write = PkProcess.Run("sh", ["-c", $"printf planted-bytes-7f3a | dd of='{Path.Combine(_target, "a")}' bs=1 seek={70 << 20} conv=notrunc status=none"]);
        Assert.NotEqual(0, write.ExitCode);
        Assert.Contains("Input/output error", write.Stderr);
        // The mount tells the kernel to drop what it cached of the failed file just after close returns.
        Assert.True(WaitUntil(() => new FileInfo(Path.Combine(_target, "a")).Length == 7 && File.ReadAllText(Path.Combine(_target, "a")) == "value-a", 10),
            "the mount still shows the bytes it could not save");

        Assert.Equal(0, PkProcess.Run("kill", ["-TERM", process.Id.ToString()]).ExitCode);
        Assert.True(process.WaitForExit(10_000), "the mount process did not exit");
        string log = stderr.Result;
        Assert.Contains("pk mount: a: written bytes not saved: a secret may hold at most 64 MiB; it keeps its last saved version", log);
        Assert.DoesNotContain("planted-bytes", log);
        Assert.Equal("value-a"u8.ToArray(), _node.Get("a"));
    }

    [Fact]
    public void KilledMountProcess_LeavesNoDeadMountPoint()
    {
        using Process process = StartForeground();
        process.Kill();
        process.WaitForExit();
        Assert.True(WaitUntil(() => !TestMount.IsMounted(_target)), "a killed mount left its mount point behind");
        Assert.Empty(Directory.GetFileSystemEntries(_target));
    }

    [Fact]
    public void Daemon_ServesAfterReturn_AndUnmountEndsIt()
    {
        Pk.Ok(PkProcess.Pk(_node.Args("mount", _target)));
        Assert.Equal("value-a", File.ReadAllText(Path.Combine(_target, "a")));
        Pk.Ok(PkProcess.Pk(["unmount", _target]));
        Assert.True(WaitUntil(() => !TestMount.IsMounted(_target)));
        Assert.True(WaitUntil(() => PkProcess.Run("pgrep", ["-f", $"mount {_target}"]).ExitCode != 0), "the daemon kept running after unmount");
    }

    [Fact]
    public void BadMountPoints_FailClearly()
    {
        Pk.Fails(PkProcess.Pk(_node.Args("mount", Path.Combine(_node.Directory, "missing"))), 3, "does not exist");
        Pk.Fails(PkProcess.Pk(_node.Args("mount", _node.Path)), 2, "is not a directory");
        Pk.Ok(PkProcess.Pk(_node.Args("mount", _target)));
        try
        {
            Pk.Fails(PkProcess.Pk(_node.Args("mount", _target)), 1, "already");
            using var busy = Process.Start(new ProcessStartInfo("sleep", "30") { WorkingDirectory = _target })!;
            try
            {
                Pk.Fails(PkProcess.Pk(["unmount", _target]), 1, "busy");
                Assert.True(TestMount.IsMounted(_target));
            }
            finally
            {
                busy.Kill();
                busy.WaitForExit();
            }
        }
        finally
        {
            Pk.Ok(PkProcess.Pk(["unmount", _target]));
        }
        Pk.Fails(PkProcess.Pk(["unmount", _target]), 3, "nothing is mounted");
    }

    [Fact]
    public void WrongPassphrase_FailsBeforeMounting()
    {
        using var node = new TestKeynode("pp").Init(keyFile: false);
        string wrong = Path.Combine(node.Directory, "wrong");
        File.WriteAllText(wrong, "nope\n");
        Pk.Fails(PkProcess.Pk(["-k", node.Path, "--passphrase-file", wrong, "mount", _target]), 4, "wrong passphrase");
        Assert.False(TestMount.IsMounted(_target));
        Pk.Ok(PkProcess.Pk(["-k", node.Path, "--passphrase-file", node.PassphraseFile, "mount", _target]));
        Pk.Ok(PkProcess.Pk(["unmount", _target]));
    }

    public void Dispose()
    {
        if (TestMount.IsMounted(_target)) PkProcess.Run("fusermount3", ["-u", "-z", _target]);
        _node.Dispose();
    }
}
