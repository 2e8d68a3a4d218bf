using System.Security.Cryptography;
using System.Text;

namespace Polykey.Cli.Tests;

/// <summary>
/// `pk gc --keep-versions / --keep-since [PATTERN...]` with the real binary: old values dropped on
/// the owner's signed word, shown as pruned, refused by `get --version` with exit 3, counted by
/// `pk verify`; a killed run leaves a whole keynode; the growth warning shows on a terminal only.
/// </summary>
public sealed class RetentionCliTests : IDisposable
{
    private readonly TestKeynode _node = new TestKeynode("retain").Init();

    private List<byte[]> TenVersions(string path)
    {
        var values = Enumerable.Range(1, 10).Select(i => Encoding.ASCII.GetBytes($"v{i}-").Concat(RandomNumberGenerator.GetBytes(16 << 10)).ToArray()).ToList();
        foreach (byte[] value in values) Pk.Ok(_node.Set(path, value));
        return values;
    }

    [Fact]
    public void KeepVersions2_KeepsTheNewestTwo_ShowsTheRestPruned_AndVerifyPasses()
    {
        List<byte[]> values = TenVersions("app/db");
        Pk.Ok(_node.Set("other/x", "x"));
        long before = new FileInfo(_node.Path).Length;
        PkResult gc = Pk.Ok(_node.Run("gc", "--keep-versions", "2", "--json"));
        Assert.Contains("\"prunedVersions\": 8", gc.Text);
        Assert.True(new FileInfo(_node.Path).Length < before - 8 * (16 << 10), $"{new FileInfo(_node.Path).Length} of {before}");

        Assert.Equal(values[9], _node.Get("app/db"));
        Assert.Equal(values[8], _node.Get("app/db", "--version", "9"));
        PkResult gone = _node.Run("get", "app/db", "--version", "3");
        Assert.Equal(3, gone.ExitCode);
        Assert.Contains("version 3 of app/db was pruned", gone.Stderr);
        Assert.Empty(gone.Stdout);

        string[] log = Pk.Ok(_node.Run("log", "app/db")).Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(10, log.Length);
        Assert.All(log.Take(8), line => Assert.Contains("pruned", line));
        Assert.All(log.Skip(8), line => Assert.Contains("bytes", line));
        Assert.Contains("\"pruned\": true", Pk.Ok(_node.Run("log", "app/db", "--json")).Text);

        PkResult verify = Pk.Ok(_node.Run("verify"));
        Assert.Contains("8 pruned", verify.Text);
        Assert.Contains("\"pruned\": 8", Pk.Ok(_node.Run("verify", "--json")).Text);
        // Restoring a pruned version is refused the same way; the newest is untouched.
        Assert.Equal(3, _node.Run("restore", "app/db", "--version", "2").ExitCode);
        Assert.Equal(values[9], _node.Get("app/db"));
    }

    [Fact]
    public void KeepSince_AndPatterns_DecideWhatIsPruned()
    {
        TenVersions("app/db");
        for (int i = 0; i < 3; i++) Pk.Ok(_node.Set("logs/today", $"line {i}"));
        // Everything was written within the hour: nothing to prune.
        Assert.Contains("\"prunedVersions\": 0", Pk.Ok(_node.Run("gc", "--keep-since", "1h", "--json")).Text);
        // A pattern restricts the pruning to the paths it matches.
        Assert.Contains("\"prunedVersions\": 2", Pk.Ok(_node.Run("gc", "--keep-versions", "1", "logs/**", "--json")).Text);
        Assert.DoesNotContain("pruned", Pk.Ok(_node.Run("log", "app/db")).Text);
        Assert.Equal(2, Pk.Ok(_node.Run("log", "logs/today")).Text.Split('\n').Count(l => l.Contains("pruned")));
        Thread.Sleep(TimeSpan.FromSeconds(3));
        Pk.Ok(_node.Set("app/db", "fresh"));
        // Only the version written within the last two seconds keeps its value.
        Assert.Contains("\"prunedVersions\": 10", Pk.Ok(_node.Run("gc", "--keep-since", "2s", "app/*", "--json")).Text);
        Assert.Equal("fresh", Encoding.UTF8.GetString(_node.Get("app/db")));
        Assert.Contains("ok", Pk.Ok(_node.Run("verify")).Text);
    }

    [Theory]
    [InlineData("--keep-versions", "0")]
    [InlineData("--keep-since", "5x")]
    [InlineData("logs/**")]
    public void BadRetention_IsAUsageError_AndTouchesNothing(params string[] args)
    {
        TenVersions("app/db");
        string before = _node.FileHash();
        PkResult gc = _node.Run(["gc", .. args]);
        Assert.Equal(2, gc.ExitCode);
        Assert.Single(gc.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("pk: error:"));
        Assert.Equal(before, _node.FileHash());
    }

    [Fact]
    public void KilledGcWithRetention_LeavesAKeynodeThatOpensWhole()
    {
        string tree = Path.Combine(_node.Directory, "tree");
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < 300; i++)
            {
                string file = Path.Combine(tree, $"app/s{i:D4}");
                Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                File.WriteAllText(file, $"value {i} round {round}");
            }
            Pk.Ok(_node.Run("import", tree));
        }
        var random = new Random(17);
        for (int run = 0; run < 10; run++)
        {
            string marker = $"run {run}";
            Pk.Ok(_node.Set("app/marker", marker));
            PkProcess.KilledAfter(_node.Args("gc", "--keep-versions", "1"), random.Next(0, 900));
            // Killed while it appended its statement, gc leaves what any killed writer leaves: an unfinished
            // append after the last change, ignored by readers (verify names it); otherwise the old or the new file.
            PkResult verify = _node.Run("verify");
            Assert.True(verify.ExitCode == 0 || verify.Text.Split('\n').Where(l => l.StartsWith("problem:")).All(l => l.Contains("belong to no change")), $"run {run}: {verify}");
            Assert.Equal(marker, Encoding.UTF8.GetString(_node.Get("app/marker")));
            Assert.Equal("value 299 round 2", Encoding.UTF8.GetString(_node.Get("app/s0299")));
        }
        Pk.Ok(_node.Run("gc", "--keep-versions", "1"));
        Assert.Contains("\"pruned\": 609", Pk.Ok(_node.Run("verify", "--json")).Text);
        Assert.Empty(Directory.GetFiles(_node.Directory, "*.gc-*"));
    }

    [Fact]
    public void AKeynodeOfMostlyOldValues_WarnsOnATerminal_NotWhenPiped()
    {
        byte[] value = new byte[1 << 20];
        for (int i = 0; i < 70; i++)
        {
            RandomNumberGenerator.Fill(value);
            Pk.Ok(_node.Set("app/blob", value));
        }
        Assert.DoesNotContain("pk gc --keep-versions", _node.Run("ls").Stderr);
        string screen = PseudoTerminal.Run([PkProcess.Binary, .. _node.Args("ls")]);
        Assert.Contains("pk: warning:", screen);
        Assert.Contains("'pk gc --keep-versions N'", screen);
        Assert.Single(screen.Split('\n'), l => l.Contains("pk gc --keep-versions"));

        Pk.Ok(_node.Run("gc", "--keep-versions", "1"));
        Assert.DoesNotContain("pk gc --keep-versions", PseudoTerminal.Run([PkProcess.Binary, .. _node.Args("ls")]));
    }

    public void Dispose() => _node.Dispose();
}
