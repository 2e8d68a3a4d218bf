namespace Polykey.Cli.Tests;

/// <summary>Scenario S4 (mount part): a --read-only mount refuses every mutating call with EROFS.</summary>
public sealed class ReadOnlyMountTests : IClassFixture<ReadOnlyMountTests.Fixture>
{
    public sealed class Fixture : IDisposable
    {
        public Fixture()
        {
            Node = new TestKeynode().Init();
            Pk.Ok(Node.Set("dir/file", "unchanged"));
            Pk.Ok(Node.Set("other/x", "y"));
            Mount = new TestMount(Node, "--read-only");
            KeynodeHash = Node.FileHash();
        }

        public TestKeynode Node { get; }
        public TestMount Mount { get; }
        public string KeynodeHash { get; }

        public void Dispose()
        {
            Mount.Dispose();
            Node.Dispose();
        }
    }

    private readonly Fixture _fixture;

    public ReadOnlyMountTests(Fixture fixture) => _fixture = fixture;

    [Theory]
    [InlineData("write", "printf changed > dir/file")]
    [InlineData("append", "printf more >> dir/file")]
    [InlineData("create", "touch dir/new")]
    [InlineData("truncate", "truncate -s 0 dir/file")]
    [InlineData("unlink", "rm -f dir/file")]
    [InlineData("rename", "mv dir/file dir/moved")]
    [InlineData("mkdir", "mkdir newdir")]
    [InlineData("rmdir", "rmdir other")]
    [InlineData("chmod", "chmod 644 dir/file")]
    [InlineData("utimens", "touch -d 2020-01-01 dir/file")]
    [InlineData("link", "ln dir/file dir/hard")]
    [InlineData("symlink", "ln -s file dir/soft")]
    [InlineData("setxattr", "setfattr -n user.test -v 1 dir/file")]
    public void MutatingCall_FailsWithEROFS(string call, string command)
    {
        PkResult result = PkProcess.Run("sh", ["-c", $"cd '{_fixture.Mount.Path}' && {command}"]);
        Assert.True(result.ExitCode != 0, $"{call} succeeded on a read-only mount");
        Assert.Contains("Read-only file system", result.Stderr);
        Assert.Equal("unchanged", File.ReadAllText(_fixture.Mount["dir/file"]));
        Assert.Equal(_fixture.KeynodeHash, _fixture.Node.FileHash());
    }

    [Fact]
    public void Reads_StillWork()
    {
        Assert.Equal("unchanged", File.ReadAllText(_fixture.Mount["dir/file"]));
        Assert.Equal(["dir", "other"], Directory.GetDirectories(_fixture.Mount.Path).Select(Path.GetFileName).Order());
    }
}
