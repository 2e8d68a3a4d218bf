using System.Text;

namespace Polykey.Cli.Tests;

/// <summary>Scenarios S7 (local change) and S12: a running mount sees other writers at once, and nothing is torn or lost.</summary>
public sealed class LiveMountTests : IDisposable
{
    private readonly TestKeynode _node = new TestKeynode().Init();

    // Read-only mounts serve files without opens (no round trip per open): the same
    // guarantees must hold there as on the default mount.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void S7_SetFromAnotherProcess_ShowsWithinOneSecond_ReaderNeverSeesMixOrError_HookRunsOnce(bool readOnly)
    {
        string oldValue = new string('o', 4000), newValue = new string('n', 3000);
        Pk.Ok(_node.Set("prod/api_key", oldValue));
        string hookLog = Path.Combine(_node.Directory, "hook.log");
        string[] hook = ["--on-change", $"printf '%s;' \"$PK_CHANGED_PATHS\" >> '{hookLog}'"];
        using var mount = new TestMount(_node, readOnly ? ["--read-only", .. hook] : hook);

        using var reader = new LiveReader(mount["prod/api_key"], oldValue, newValue);
        Pk.Ok(_node.Set("prod/api_key", newValue));
        reader.AssertNewValueWithinOneSecondOf(DateTime.UtcNow);
        Assert.Equal("prod/api_key;", LiveReader.HookLog(hookLog));
    }

    public enum NewVersionFrom
    {
        /// <summary>`pk set` in another process.</summary>
        OtherProcess,
        /// <summary>A new file renamed over the old one through the mount, as editors and atomic writers do.</summary>
        RenameThroughMount,
        /// <summary>Rewritten in place through the mount: the file keeps its inode.</summary>
        InPlaceThroughMount,
    }

    [Theory]
    [InlineData("", NewVersionFrom.OtherProcess)]
    [InlineData("--read-only", NewVersionFrom.OtherProcess)]
    [InlineData("", NewVersionFrom.RenameThroughMount)]
    [InlineData("--pin-versions", NewVersionFrom.OtherProcess)]
    [InlineData("--pin-versions", NewVersionFrom.InPlaceThroughMount)]
    public void OpenReader_KeepsTheVersionItOpened_WhileNewOpensSeeTheNewOne(string mountOption, NewVersionFrom from)
    {
        // Larger than the kernel's read-ahead, so the old reader's later pages come from the mount.
        // Written in place, the file keeps its inode, and the kernel keeps one size per inode:
        // a reader can keep its bytes, but not a length the file no longer has.
        bool inPlace = from == NewVersionFrom.InPlaceThroughMount;
        string oldValue = RandomText(400_000), newValue = RandomText(inPlace ? 400_000 : 300_000);
        Pk.Ok(_node.Set("big", oldValue));
        using var mount = mountOption.Length > 0 ? new TestMount(_node, mountOption) : new TestMount(_node);
        using var reader = new FileStream(mount["big"], FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        var head = new byte[4096];
        reader.ReadExactly(head);

        switch (from)
        {
            case NewVersionFrom.OtherProcess:
                Pk.Ok(_node.Set("big", newValue));
                break;
            case NewVersionFrom.RenameThroughMount:
                File.WriteAllText(mount["big.new"], newValue);
                File.Move(mount["big.new"], mount["big"], overwrite: true);
                break;
            case NewVersionFrom.InPlaceThroughMount:
                File.WriteAllText(mount["big"], newValue);
                break;
        }
        string seen = "";
        for (int i = 0; i < 40 && (seen = File.ReadAllText(mount["big"])) != newValue; i++) Thread.Sleep(50);
        Assert.True(seen == newValue, $"new opens still read {seen.Length} bytes, not the new {newValue.Length}");

        using var rest = new MemoryStream();
        reader.CopyTo(rest);
        Assert.True(Encoding.ASCII.GetString(head) + Encoding.ASCII.GetString(rest.ToArray()) == oldValue, "the open reader's bytes changed under it");
    }

    private static string RandomText(int length) => Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(length))[..length];

    [Fact]
    public void S12_MountAndTwoCliWriters_EveryAcknowledgedChangeIsInHistory()
    {
        int seconds = int.TryParse(Environment.GetEnvironmentVariable("PK_S12_SECONDS"), out int s) ? s : 60;
        Pk.Ok(_node.Set("shared", "start"));
        using var mount = new TestMount(_node);
        var acknowledged = new System.Collections.Concurrent.ConcurrentBag<string>();
        DateTime end = DateTime.UtcNow.AddSeconds(seconds);
        Task Writer(string name, Action<string> write) => Task.Run(() =>
        {
            for (int i = 0; DateTime.UtcNow < end; i++)
            {
                string value = $"{name}-{i}";
                write(value);
                acknowledged.Add(value);
            }
        });
        Task[] writers =
        [
            Writer("mount", v => File.WriteAllText(mount["shared"], v)),
            Writer("cli1", v => Pk.Ok(_node.Set("shared", v))),
            Writer("cli2", v => Pk.Ok(_node.Set("shared", v))),
        ];
        Task.WaitAll(writers);

        var history = HistoryOf("shared");
        Assert.All(acknowledged, value => Assert.Contains(value, history));
        Assert.Contains(acknowledged, v => v.StartsWith("mount-", StringComparison.Ordinal));
        Assert.True(acknowledged.Count > 30, $"only {acknowledged.Count} writes in {seconds} s");
        Assert.Equal(0, PkProcess.Run("tar", ["-tf", _node.Path]).ExitCode);
    }

    // Every value in a long history, read in-process (one pk call per version would take minutes).
    private HashSet<string> HistoryOf(string path)
    {
        var identity = Polykey.Core.Crypto.SecretIdentity.Load(File.ReadAllBytes(_node.IdentityFile!), "test key");
        using var keynode = Polykey.Core.Keynode.Open(_node.Path, new Polykey.Core.Credential.KeyFile(identity, "test key"));
        int count = keynode.Log(path).Count;
        return Enumerable.Range(1, count).Select(v => Encoding.ASCII.GetString(keynode.Get(path, v).Span)).ToHashSet();
    }

    public void Dispose() => _node.Dispose();
}
