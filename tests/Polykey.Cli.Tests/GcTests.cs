namespace Polykey.Cli.Tests;

/// <summary>
/// `pk gc` with the real binary: killed at any point it leaves a keynode that opens whole with
/// every value; a running mount reads and writes through it; its report on the terminal.
/// </summary>
public sealed class GcTests : IDisposable
{
    private readonly TestKeynode _node = new TestKeynode("gc").Init();

    private void Fill(int secrets, int rounds)
    {
        for (int round = 0; round < rounds; round++)
        {
            var tree = Path.Combine(_node.Directory, $"tree{round}");
            for (int i = 0; i < secrets; i++)
            {
                string file = Path.Combine(tree, $"app/s{i:D4}");
                Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                File.WriteAllText(file, $"value {i} round {round}");
            }
            Pk.Ok(_node.Run("import", tree));
        }
    }

    [Fact]
    public void Gc_ShrinksTheFile_AndEveryValueAndVerifyStay()
    {
        Fill(50, 4);
        Pk.Ok(_node.Set("app/s0001", "newest"));
        long before = new FileInfo(_node.Path).Length;
        PkResult gc = Pk.Ok(_node.Run("gc", "--json"));
        Assert.Contains("\"bytesBefore\": " + before, gc.Text);
        // Each import left a packed-refs member naming every secret (about 87 bytes each); one is left.
        Assert.True(new FileInfo(_node.Path).Length < before - 3 * 50 * 80, $"{new FileInfo(_node.Path).Length} of {before}");
        Assert.Contains("ok", Pk.Ok(_node.Run("verify")).Text);
        Assert.Equal("newest", System.Text.Encoding.UTF8.GetString(_node.Get("app/s0001")));
        Assert.Equal("value 7 round 3", System.Text.Encoding.UTF8.GetString(_node.Get("app/s0007")));
        Assert.Contains("   4  ", Pk.Ok(_node.Run("log", "app/s0007")).Text);
    }

    [Fact]
    public void KilledGc_LeavesAKeynodeThatOpensWhole()
    {
        Fill(300, 3);
        var random = new Random(11);
        for (int run = 0; run < 12; run++)
        {
            string marker = $"run {run}";
            Pk.Ok(_node.Set("app/marker", marker));
            PkProcess.KilledAfter(_node.Args("gc"), random.Next(0, 900));
            PkResult verify = _node.Run("verify");
            Assert.True(verify.ExitCode == 0, $"run {run}: {verify}");
            Assert.Equal(marker, System.Text.Encoding.UTF8.GetString(_node.Get("app/marker")));
            Assert.Equal("value 299 round 2", System.Text.Encoding.UTF8.GetString(_node.Get("app/s0299")));
        }
        // A later gc removes what a killed one left beside the keynode.
        Pk.Ok(_node.Run("gc"));
        Assert.Empty(Directory.GetFiles(_node.Directory, "gc.keynode.gc-*").Concat(Directory.GetFiles(_node.Directory, "*.gc-*")));
    }

    [Fact]
    public void RunningMount_ReadsAndWritesAcrossAGc()
    {
        Fill(20, 2);
        using var mount = new TestMount(_node);
        Assert.Equal("value 5 round 1", File.ReadAllText(mount["app/s0005"]));
        Pk.Ok(_node.Run("gc"));
        File.WriteAllText(mount["app/after-gc"], "written through the mount");
        Assert.Equal("value 6 round 1", File.ReadAllText(mount["app/s0006"]));
        // The write landed in the compacted file, where any other reader finds it.
        for (int i = 0; i < 50 && _node.Run("get", "app/after-gc").ExitCode != 0; i++) Thread.Sleep(100);
        Assert.Equal("written through the mount", System.Text.Encoding.UTF8.GetString(_node.Get("app/after-gc")));
        Pk.Ok(_node.Set("app/from-cli", "cli"));
        for (int i = 0; i < 50 && !File.Exists(mount["app/from-cli"]); i++) Thread.Sleep(100);
        Assert.Equal("cli", File.ReadAllText(mount["app/from-cli"]));
        Assert.Contains("ok", Pk.Ok(_node.Run("verify")).Text);
    }

    // 600 secrets in ten directories: enough work for a bar to show.
    private string BarTree()
    {
        string tree = Path.Combine(_node.Directory, "bar-tree");
        for (int i = 0; i < 600; i++)
        {
            Directory.CreateDirectory(Path.Combine(tree, $"d{i % 10}"));
            File.WriteAllText(Path.Combine(tree, $"d{i % 10}", $"s{i}"), $"v{i}");
        }
        return tree;
    }

    [Fact]
    public void ImportAndGc_ShowABarOnATerminal()
    {
        string tree = BarTree();
        string import = string.Join(' ', _node.Args("import", tree).Select(a => $"'{a}'"));
        string gc = string.Join(' ', _node.Args("gc").Select(a => $"'{a}'"));
        using var terminal = new TmuxSession($"sh -c \"{PkProcess.Binary} {import}; {PkProcess.Binary} {gc}; echo BARS-DONE; sleep 60\"", new Dictionary<string, string>());
        terminal.WaitFor("BARS-DONE", seconds: 60);
        string screen = terminal.Screen();
        Assert.Contains("import", screen);
        Assert.Contains("compact", screen);
        Assert.Contains("100%", screen);
        Assert.Contains("imported 600 secret(s)", screen);
        Assert.Equal("v599", System.Text.Encoding.UTF8.GetString(_node.Get("d9/s599")));
    }

    [Fact]
    public void ImportAndGc_DrawNothing_WhenStderrIsNotATerminal()
    {
        PkResult import = PipedProgress.DrawsNothing(_node.Args("import", BarTree()));
        Assert.Contains("imported 600 secret(s)", import.Stderr);
        PkResult gc = PipedProgress.DrawsNothing(_node.Args("gc"));
        Assert.Contains("compacted", gc.Stderr);
        Assert.Equal("v599", System.Text.Encoding.UTF8.GetString(_node.Get("d9/s599")));
    }

    public void Dispose() => _node.Dispose();
}
