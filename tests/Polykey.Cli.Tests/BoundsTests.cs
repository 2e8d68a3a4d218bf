using System.Diagnostics;
using System.Security.Cryptography;

namespace Polykey.Cli.Tests;

/// <summary>
/// Inputs without end and paths that are not files fail fast with one clear line, and a lock
/// held by another process is waited for visibly and for a bounded time. The keynode is
/// byte-identical after every refused input.
/// </summary>
public sealed class BoundsTests : IDisposable
{
    private readonly TestKeynode _node = new TestKeynode().Init();

    public BoundsTests() => Pk.Ok(_node.Set("prod/db/password", "first-value"));

    // pk with its stdin taken from a file (/dev/zero, say), through sh.
    private static PkResult PkWithStdinFrom(string file, string[] args) =>
        PkProcess.Run("sh", ["-c", "exec \"$0\" \"$@\" < \"$PK_STDIN\"", PkProcess.Binary, .. args],
            env: new Dictionary<string, string> { ["PK_STDIN"] = file }, timeoutSeconds: 20);

    private static PkResult Timed(Func<PkResult> run, double maxSeconds)
    {
        var clock = Stopwatch.StartNew();
        PkResult result = run();
        Assert.True(clock.Elapsed.TotalSeconds < maxSeconds, $"took {clock.Elapsed.TotalSeconds:0.0} s: {result}");
        return result;
    }

    [Fact]
    public void SetFromDevZero_ViaFile_StopsAtTheLimit_ExitsOne()
    {
        string before = _node.FileHash();
        PkResult result = Timed(() => PkProcess.Run(PkProcess.Binary, _node.Args("set", "big", "--file", "/dev/zero"), timeoutSeconds: 20), 10);
        Pk.Fails(result, 1, "the value file /dev/zero is larger than 64 MiB; big was not changed");
        Assert.Contains("--max-size", result.Stderr);
        Assert.Equal(before, _node.FileHash());
    }

    [Fact]
    public void SetFromDevZero_ViaStdin_StopsAtTheLimit_ExitsOne()
    {
        string before = _node.FileHash();
        PkResult result = Timed(() => PkWithStdinFrom("/dev/zero", _node.Args("set", "big")), 10);
        Pk.Fails(result, 1, "the value on stdin is larger than 64 MiB; big was not changed");
        Assert.Contains("raise the limit with --max-size (at most 1 GiB)", result.Stderr);
        Assert.Equal(before, _node.FileHash());
    }

    [Fact]
    public void MaxSize_Raised_Accepts_Lowered_Refuses()
    {
        byte[] value = RandomNumberGenerator.GetBytes(2 << 20);
        string file = Path.Combine(_node.Directory, "value");
        File.WriteAllBytes(file, value);
        string before = _node.FileHash();

        Pk.Fails(_node.Run("set", "blob", "--file", file, "--max-size", "1M"), 1, $"the value file {file} is larger than 1 MiB");
        Pk.Fails(PkWithStdinFrom(file, _node.Args("set", "blob", "--max-size", "1048576")), 1, "the value on stdin is larger than 1 MiB");
        Pk.Fails(_node.Run("set", "blob", "--file", file, "--max-size", "2G"), 2, "--max-size 2G is more than the largest value pk stores, 1 GiB");
        Pk.Fails(_node.Run("set", "blob", "--file", file, "--max-size", "lots"), 2, "--max-size 'lots' is not a size");
        Assert.Equal(before, _node.FileHash());

        Pk.Ok(_node.Run("set", "blob", "--file", file, "--max-size", "2MiB")); // the limit itself is allowed
        Assert.Equal(value, _node.Get("blob"));
    }

    [Fact]
    public void PassphraseFile_DevZeroOversizedOrDirectory_ExitsOne_FifoWorks()
    {
        string before = _node.FileHash();
        string[] Get(string passphraseFile) => ["-k", _node.Path, "--passphrase-file", passphraseFile, "get", "prod/db/password"];

        PkResult zero = Timed(() => PkProcess.Run(PkProcess.Binary, Get("/dev/zero"), timeoutSeconds: 20), 10);
        Pk.Fails(zero, 1, "passphrase file /dev/zero is larger than 4096 bytes");
        string oversized = Path.Combine(_node.Directory, "long-passphrase");
        File.WriteAllText(oversized, new string('p', 4097));
        Pk.Fails(PkProcess.Pk(Get(oversized)), 1, $"passphrase file {oversized} is larger than 4096 bytes");
        Pk.Fails(PkProcess.Pk(Get(_node.Directory)), 1, $"passphrase file {_node.Directory} is a directory");
        Assert.Equal(before, _node.FileHash());

        string fifo = Path.Combine(_node.Directory, "passphrase.fifo");
        Assert.Equal(0, PkProcess.Run("mkfifo", [fifo]).ExitCode);
        Task writer = Task.Run(() => File.WriteAllText(fifo, TestKeynode.Passphrase + "\n"));
        Assert.Equal("first-value", Pk.Ok(PkProcess.Run(PkProcess.Binary, Get(fifo), timeoutSeconds: 20)).Text);
        Assert.True(writer.Wait(TimeSpan.FromSeconds(10)));
    }

    [Theory]
    [InlineData("fifo", "is a FIFO, not a regular file")]
    [InlineData("directory", "is a directory, not a keynode file")]
    [InlineData("/dev/null", "is a character device, not a regular file")]
    public void KeynodeThatIsNoRegularFile_ExitsOne(string kind, string message)
    {
        string path = kind switch
        {
            "fifo" => Path.Combine(_node.Directory, "node.fifo"),
            "directory" => Directory.CreateDirectory(Path.Combine(_node.Directory, "node.dir")).FullName,
            _ => kind,
        };
        if (kind == "fifo") Assert.Equal(0, PkProcess.Run("mkfifo", [path]).ExitCode);
        string[] key = ["-k", path, "--identity-file", _node.IdentityFile!];
        Pk.Fails(PkProcess.Run(PkProcess.Binary, [.. key, "ls"], timeoutSeconds: 20), 1, $"{path} {message}");
        Pk.Fails(PkProcess.Run(PkProcess.Binary, [.. key, "set", "a"], "v"u8.ToArray(), timeoutSeconds: 20), 1, $"{path} {message}");
    }

    [Fact]
    public void InitOntoDirectory_ExitsOne_SymlinkToKeynodeStillOpens()
    {
        Pk.Fails(PkProcess.Pk(["init", "-k", _node.Directory, "--passphrase-file", _node.PassphraseFile]), 1, $"{_node.Directory} is a directory, not a keynode file");
        string link = Path.Combine(_node.Directory, "link.keynode");
        File.CreateSymbolicLink(link, _node.Path);
        Assert.Equal("prod/db/password\n", Pk.Ok(PkProcess.Pk(["ls", "-k", link, "--identity-file", _node.IdentityFile!])).Text);
    }

    // `flock -o FILE sh -c ...`: util-linux takes the lock itself (so /proc/locks names its pid),
    // runs the command without the lock's descriptor, and lets go when the command ends.
    private Process HoldLock(double seconds)
    {
        var start = new ProcessStartInfo("flock") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string arg in new[] { "-o", _node.Path, "sh", "-c", $"echo locked; exec sleep {seconds}" }) start.ArgumentList.Add(arg);
        Process holder = Process.Start(start)!;
        Assert.Equal("locked", holder.StandardOutput.ReadLine());
        return holder;
    }

    [Fact]
    public void LockHeldByAnotherProcess_NoticeNamesItsPid_ThenProceeds()
    {
        using Process holder = HoldLock(1.5);
        PkResult result = Pk.Ok(_node.Run("get", "prod/db/password"));
        Assert.Equal("first-value", result.Text);
        Assert.Contains($"pk: waiting for another process (pid {holder.Id}, flock) that holds the lock on {_node.Path}", result.Stderr);
        holder.WaitForExit();
    }

    [Fact]
    public void LockHeldLongerThanPkLockTimeout_GivesUp_ExitsOne()
    {
        string before = _node.FileHash(); // (this test's own reads take the lock too)
        using Process holder = HoldLock(10);
        try
        {
            var clock = Stopwatch.StartNew();
            PkResult result = PkProcess.Pk(_node.Args("set", "prod/db/password"), "second"u8.ToArray(), new Dictionary<string, string> { ["PK_LOCK_TIMEOUT"] = "1" });
            double seconds = clock.Elapsed.TotalSeconds;
            Assert.StartsWith($"pk: waiting for another process (pid {holder.Id}, flock)", result.Stderr);
            // After the notice line, the failure is the usual one error line and a hint.
            string[] lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Pk.Fails(result with { Stderr = string.Join('\n', lines.Skip(1)) }, 1,
                $"{_node.Path} is locked by another process (pid {holder.Id}, flock); gave up after 1 s");
            Assert.InRange(seconds, 0.9, 5);
        }
        finally
        {
            holder.Kill(entireProcessTree: true);
            holder.WaitForExit();
        }
        Assert.Equal(before, _node.FileHash());
        Pk.Fails(PkProcess.Pk(_node.Args("ls"), env: new Dictionary<string, string> { ["PK_LOCK_TIMEOUT"] = "soon" }), 2, "PK_LOCK_TIMEOUT=soon is not a number of seconds");
    }

    public void Dispose() => _node.Dispose();
}
