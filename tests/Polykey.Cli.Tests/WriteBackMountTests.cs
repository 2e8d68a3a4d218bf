using System.Security.Cryptography;
using System.Text;

namespace Polykey.Cli.Tests;

/// <summary>
/// The default writable mount opens files without a round trip and lets the kernel's
/// write-back cache hand writes over at close: close must still mean "saved", once.
/// </summary>
public sealed class WriteBackMountTests : IDisposable
{
    private readonly TestKeynode _node = new TestKeynode().Init();

    [Fact]
    public void InPlaceWrites_AreSavedBeforeCloseReturns_OneVersionEach()
    {
        Pk.Ok(_node.Set("k", "a first value, longer than every later one"));
        using var mount = new TestMount(_node);
        for (int i = 1; i <= 8; i++)
        {
            Shell($"printf 'v{i}' > '{mount["k"]}'");
            Assert.Equal($"v{i}", Encoding.UTF8.GetString(_node.Get("k")));
        }
        Shell($"printf ' and more' >> '{mount["k"]}'");
        Assert.Equal("v8 and more", Encoding.UTF8.GetString(_node.Get("k")));
        Assert.Equal(10, Versions("k"));
        Assert.Equal("v8 and more", File.ReadAllText(mount["k"]));
    }

    [Fact]
    public void NewFile_IsSavedBeforeCloseReturns_AndAnEmptyOneSoonAfter()
    {
        using var mount = new TestMount(_node);
        Shell($"printf 'fresh' > '{mount["new"]}'");
        Assert.Equal("fresh", Encoding.UTF8.GetString(_node.Get("new")));
        Assert.Equal(1, Versions("new"));

        File.Create(mount["empty"]).Dispose(); // no write: nothing is written back
        Assert.True(Eventually(() => _node.Run("ls").Text.Split('\n').Contains("empty")), "the empty file never reached the keynode");
        Assert.Empty(_node.Get("empty"));
    }

    [Fact]
    public void TruncationWithoutWrite_IsSavedSoon_AndAtOnceWithFsync()
    {
        Pk.Ok(_node.Set("a", "aaaa"));
        Pk.Ok(_node.Set("b", "bbbb"));
        using var mount = new TestMount(_node);

        Shell($": > '{mount["a"]}'");
        Assert.True(Eventually(() => _node.Get("a").Length == 0), "a truncation alone was never saved");
        Assert.Equal(2, Versions("a"));

        using (var file = new FileStream(mount["b"], FileMode.Open, FileAccess.Write))
        {
            file.SetLength(2);
            file.Flush(flushToDisk: true);
            Assert.Equal("bb", Encoding.UTF8.GetString(_node.Get("b")));
        }
        Assert.Equal(2, Versions("b"));
    }

    [Fact]
    public void LargeFile_WrittenBackInParts_IsOneVersion()
    {
        using var mount = new TestMount(_node);
        byte[] value = RandomNumberGenerator.GetBytes(3 << 20);
        File.WriteAllBytes(mount["big"], value);
        Assert.True(Eventually(() => _node.Run("ls").Text.Split('\n').Contains("big") && _node.Get("big").AsSpan().SequenceEqual(value)), "the large file was not saved whole");
        Assert.Equal(1, Versions("big"));
        Assert.True(File.ReadAllBytes(mount["big"]).AsSpan().SequenceEqual(value));
    }

    [Fact]
    public void OneMiBFile_RewrittenWithoutPause_GetsAVersionEveryFewSeconds_AndTheLastOneAfter()
    {
        // Issue 12 item 6: a 1 MiB write-back may be the first part of a larger file, so its save
        // waits for a quiet second; a program that never pauses must not put it off forever.
        // docs/mount.md promises a version at least every ~5 s of such rewriting.
        TimeSpan promised = TimeSpan.FromSeconds(5), rewriting = TimeSpan.FromSeconds(13);
        // A version's time is in whole seconds, and the save lands at the first rewrite after the
        // 5 s, once that rewrite's bytes are encrypted and signed: allowed for, and no more.
        TimeSpan slack = TimeSpan.FromSeconds(2);
        Pk.Ok(_node.Set("state", "initial"));
        using var mount = new TestMount(_node);
        byte[] last = [];
        DateTimeOffset started = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; clock.Elapsed < rewriting; i++)
        {
            last = new byte[1 << 20];
            RandomNumberGenerator.Fill(last);
            File.WriteAllBytes(mount["state"], last);
            Thread.Sleep(100);
        }
        DateTimeOffset stopped = DateTimeOffset.UtcNow;
        DateTimeOffset[] saves = VersionTimes("state")[1..]; // the first is pk set's

        string seen = $"versions at {string.Join(", ", saves.Select(t => $"{(t - started).TotalSeconds:F0} s"))} of {(stopped - started).TotalSeconds:F1} s of rewriting";
        Assert.True(saves.Length >= (int)(rewriting / promised), $"{saves.Length} versions, {seen}; promised: one at least every {promised.TotalSeconds} s");
        DateTimeOffset[] marks = [started, .. saves, stopped];
        TimeSpan longest = marks.Zip(marks.Skip(1), (a, b) => b - a).Max();
        Assert.True(longest <= promised + slack, $"{longest.TotalSeconds:F1} s without a version: {seen}");
        Assert.True(Eventually(() => _node.Get("state").AsSpan().SequenceEqual(last)), "the last rewrite was not saved after it stopped");
    }

    [Fact]
    public void UnlinkedWhileOpen_TheReaderKeepsItsBytes()
    {
        string value = Convert.ToBase64String(RandomNumberGenerator.GetBytes(400_000))[..400_000];
        Pk.Ok(_node.Set("doomed", value));
        using var mount = new TestMount(_node);
        using var reader = new FileStream(mount["doomed"], FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
        var head = new byte[4096];
        reader.ReadExactly(head);
        File.Delete(mount["doomed"]);
        Assert.DoesNotContain("doomed", _node.Run("ls").Text);

        using var rest = new MemoryStream();
        reader.CopyTo(rest);
        Assert.True(Encoding.ASCII.GetString(head) + Encoding.ASCII.GetString(rest.ToArray()) == value, "the open reader lost its bytes");
    }

    [Fact]
    public void FullDisk_CloseReportsIt_KeynodeUnchanged_MountShowsTheSavedValue()
    {
        string small = Path.Combine(_node.Directory, "small");
        string mountPoint = Path.Combine(_node.Directory, "mnt-small");
        Directory.CreateDirectory(small);
        Directory.CreateDirectory(mountPoint);
        if (!ReadOnlyMount.TryTmpfs(small, "256k"))
        {
            Assert.NotEqual("root", Environment.UserName); // only a non-root developer may skip this
            return;
        }
        try
        {
            Pk.Ok(_node.Set("k", "saved-value"));
            string keynode = Path.Combine(small, "n.keynode");
            File.Copy(_node.Path, keynode);
            Pk.Ok(PkProcess.Pk(["-k", keynode, "--identity-file", _node.IdentityFile!, "mount", mountPoint]));
            string file = Path.Combine(mountPoint, "k");
            Assert.Equal("saved-value", File.ReadAllText(file));
            File.WriteAllBytes(Path.Combine(small, "filler"), new byte[256 * 1024 - new FileInfo(keynode).Length - 8192]);
            string before = Hash(keynode);

            PkResult result = PkProcess.Run("sh", ["-c", $"head -c 65536 /dev/zero | tr '\\0' x > '{file}'"]);
            Assert.True(result.ExitCode != 0, $"close reported no error: {result}");
            Assert.Contains("No space left on device", result.Stderr);
            Assert.Equal(before, Hash(keynode));
            Assert.True(Eventually(() => File.ReadAllText(file) == "saved-value"), "the mount still shows the bytes it could not save");
        }
        finally
        {
            PkProcess.Pk(["unmount", mountPoint]);
            for (int i = 0; i < 100 && TestMount.IsMounted(mountPoint); i++) Thread.Sleep(50);
            if (TestMount.IsMounted(mountPoint)) PkProcess.Run("fusermount3", ["-u", "-z", mountPoint]);
            ReadOnlyMount.Unmount(small); // waits for the daemon to let go of the keynode
        }
    }

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    private int Versions(string path) => Pk.Ok(_node.Run("log", path)).Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;

    private DateTimeOffset[] VersionTimes(string path) =>
        System.Text.Json.JsonDocument.Parse(Pk.Ok(_node.Run("log", path, "--json")).Stdout).RootElement.EnumerateArray()
            .Select(version => version.GetProperty("time").GetDateTimeOffset()).ToArray();

    private static void Shell(string script)
    {
        PkResult result = PkProcess.Run("sh", ["-c", script]);
        Assert.True(result.ExitCode == 0, $"{script}: {result}");
    }

    private static bool Eventually(Func<bool> condition)
    {
        for (int i = 0; i < 200; i++)
        {
            if (condition()) return true;
            Thread.Sleep(50);
        }
        return condition();
    }

    public void Dispose() => _node.Dispose();
}
