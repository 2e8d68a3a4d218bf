namespace Polykey.Cli.Tests;

/// <summary>
/// Issue 12: times as a local noatime filesystem keeps them, in both mount modes: utimensat
/// sets atime and mtime (touch, tar, cp -p), reads move nothing, a new version brings its own
/// time, and a directory's mtime moves when an entry comes or goes.
/// </summary>
public sealed class MountTimesTests : IDisposable
{
    private readonly TestKeynode _node = new TestKeynode().Init();

    public void Dispose() => _node.Dispose();

    private static PkResult Sh(string script) => PkProcess.Run("sh", ["-c", script]);

    private static long[] Times(string path) =>
        Pk.Ok(Sh($"stat -c '%X %Y %Z' '{path}'")).Text.Trim().Split(' ').Select(long.Parse).ToArray();

    private const long Year2020 = 1577934245; // 2020-01-02 03:04:05 UTC
    private const long Year2021 = 1609556645; // 2021-01-02 03:04:05 UTC

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Utimensat_SetsAtimeAndMtime_ReadsMoveNothing_ANewVersionBringsItsOwnTime(bool pinVersions)
    {
        Pk.Ok(_node.Set("app/config", "v1"));
        using var mount = TestMount.InMode(_node, pinVersions);
        string file = mount["app/config"];
        long before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        Pk.Ok(Sh($"touch -m -d '2020-01-02 03:04:05 UTC' '{file}' && touch -a -d '2021-01-02 03:04:05 UTC' '{file}'"));
        long[] set = Times(file);
        Assert.Equal(Year2021, set[0]);
        Assert.Equal(Year2020, set[1]);
        Assert.True(set[2] >= before, $"ctime {set[2]} is the moment of the change (>= {before})");

        // noatime: reading changes no time.
        Assert.Equal("v1", Pk.Ok(Sh($"cat '{file}'")).Text);
        Assert.Equal(set, Times(file));

        // A new version written through the mount has its own mtime.
        Pk.Ok(Sh($"printf v2 > '{file}'"));
        long[] written = Times(file);
        Assert.True(written[1] >= before, $"mtime {written[1]} after a write is the write's (>= {before})");
        Assert.Equal("v2", System.Text.Encoding.UTF8.GetString(_node.Get("app/config")));

        // A directory's time can be set too, and moves again when an entry comes.
        Pk.Ok(Sh($"touch -d '2020-01-02 03:04:05 UTC' '{mount["app"]}'"));
        Assert.Equal(Year2020, Times(mount["app"])[1]);
        Pk.Ok(Sh($"printf n > '{mount["app/new"]}'"));
        Assert.True(Times(mount["app"])[1] >= before, "a new entry moves the directory's mtime");
    }

    [Fact]
    public void TarExtract_KeepsTheArchivesMtimes()
    {
        string source = Path.Combine(_node.Directory, "src");
        Directory.CreateDirectory(Path.Combine(source, "etc"));
        File.WriteAllText(Path.Combine(source, "etc", "a.conf"), "alpha");
        File.WriteAllText(Path.Combine(source, "etc", "b.conf"), "beta");
        Pk.Ok(Sh($"cd '{source}' && touch -d '2020-01-02 03:04:05 UTC' etc/a.conf etc/b.conf && chmod 640 etc/a.conf && chmod 755 etc && tar -cf ../t.tar etc"));
        using var mount = new TestMount(_node);
        Pk.Ok(Sh($"tar -xf '{_node.Directory}/t.tar' -C '{mount.Path}'"));
        Assert.Equal(Year2020, Times(mount["etc/a.conf"])[1]);
        Assert.Equal("640 755", Pk.Ok(Sh($"stat -c %a '{mount["etc/a.conf"]}' '{mount["etc"]}' | paste -sd' '")).Text.Trim());
        Assert.Equal(Year2020, Times(mount["etc/b.conf"])[1]);
        Assert.Equal("alpha", System.Text.Encoding.UTF8.GetString(_node.Get("etc/a.conf")));
    }
}
