namespace Polykey.Cli.Tests;

/// <summary>A keynode with two secrets, mounted read-only: by --read-only, or by a read-only credential alone.</summary>
public abstract class ReadOnlyMountFixture : IDisposable
{
    protected ReadOnlyMountFixture(bool byCredential)
    {
        Node = new TestKeynode().Init();
        Pk.Ok(Node.Set("dir/file", "unchanged"));
        Pk.Ok(Node.Set("other/x", "y"));
        if (byCredential)
        {
            string readOnlyKey = Path.Combine(Node.Directory, "reader.key");
            Pk.Ok(Node.Run("identity", "export", "--read-only", "-o", readOnlyKey));
            Node.UseIdentityFile(readOnlyKey);
            Mount = new TestMount(Node);
        }
        else
        {
            Mount = new TestMount(Node, "--read-only");
        }
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

public sealed class ReadOnlyFlagFixture() : ReadOnlyMountFixture(byCredential: false);

public sealed class ReadOnlyCredentialFixture() : ReadOnlyMountFixture(byCredential: true);

/// <summary>Scenario S4 with --read-only.</summary>
public sealed class ReadOnlyFlagMountTests(ReadOnlyFlagFixture fixture) : ReadOnlyMountTests(fixture), IClassFixture<ReadOnlyFlagFixture>;

/// <summary>Scenario S4 with a read-only credential: the mount is read-only by itself, and pk refuses changes.</summary>
public sealed class ReadOnlyCredentialMountTests(ReadOnlyCredentialFixture fixture) : ReadOnlyMountTests(fixture), IClassFixture<ReadOnlyCredentialFixture>
{
    [Theory]
    [InlineData("set")]
    [InlineData("rm")]
    [InlineData("mv")]
    public void ChangingCommands_ExitFour(string command)
    {
        string[] args = command switch
        {
            "set" => ["set", "dir/new"],
            "rm" => ["rm", "dir/file"],
            _ => ["mv", "dir/file", "dir/moved"],
        };
        Pk.Fails(PkProcess.Pk(Fixture.Node.Args(args), "v"u8.ToArray()), 4, "read-only");
        Assert.Equal(Fixture.KeynodeHash, Fixture.Node.FileHash());
        Assert.Equal("unchanged", Pk.Ok(Fixture.Node.Run("get", "dir/file")).Text);
    }
}

/// <summary>Scenario S4 (mount part): every mutating call fails with EROFS.</summary>
public abstract class ReadOnlyMountTests(ReadOnlyMountFixture fixture)
{
    protected ReadOnlyMountFixture Fixture { get; } = fixture;

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
        PkResult result = PkProcess.Run("sh", ["-c", $"cd '{Fixture.Mount.Path}' && {command}"]);
        Assert.True(result.ExitCode != 0, $"{call} succeeded on a read-only mount");
        Assert.Contains("Read-only file system", result.Stderr);
        Assert.Equal("unchanged", File.ReadAllText(Fixture.Mount["dir/file"]));
        Assert.Equal(Fixture.KeynodeHash, Fixture.Node.FileHash());
    }

    [Fact]
    public void Reads_StillWork()
    {
        Assert.Equal("unchanged", File.ReadAllText(Fixture.Mount["dir/file"]));
        Assert.Equal(["dir", "other"], Directory.GetDirectories(Fixture.Mount.Path).Select(Path.GetFileName).Order());
    }
}
