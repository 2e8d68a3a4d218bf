namespace Polykey.Fs.Tests.Linux;

/// <summary>Everyday tools through a read-write mount of the twin.</summary>
public class FileOperationTests
{
    private static readonly DateTimeOffset March2021 = new(2021, 3, 4, 5, 6, 7, TimeSpan.Zero);

    [Fact]
    public void Ls_ListsEntriesWithDotAndDotDot()
    {
        using var mount = new TestMount();
        mount.Tree.Put("b", "2");
        mount.Tree.Put("a", "1");
        mount.Tree.Put("dir/inner", "3");
        Assert.Equal(".\n..\na\nb\ndir\n", mount.Ok("ls -a1"));
        Assert.Equal("inner\n", mount.Ok("ls dir"));
    }

    [Fact]
    public void Ls_ManyEntries_AllListedOnceAcrossReaddirPages()
    {
        using var mount = new TestMount();
        var names = Enumerable.Range(0, 600).Select(i => $"secret-with-a-longish-name-{i:D4}").ToList();
        foreach (var name in names)
            mount.Tree.Put(name, "x");
        var listed = mount.Ok("ls -1").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(names.Order(StringComparer.Ordinal), listed);
    }

    [Fact]
    public void Stat_ShowsModeSizeMtimeOwnerAndLinks()
    {
        using var mount = new TestMount();
        mount.Tree.Put("f", "hello", mode: 0x1A0 /* 0640 */, modified: March2021);
        mount.Tree.Put("d/x", "y");
        var owner = $"{Syscalls.Uid} {Syscalls.Gid}";
        Assert.Equal($"640 5 {March2021.ToUnixTimeSeconds()} regular file 1 {owner} 8\n", mount.Ok("stat -c '%a %s %Y %F %h %u %g %b' f"));
        Assert.Equal($"700 directory 2 {owner}\n", mount.Ok("stat -c '%a %F %h %u %g' d"));
        Assert.Equal($"755 directory\n", mount.Ok("stat -c '%a %F' ."));
        Assert.Equal("2021-03-04 05:06:07.000000000 +0000\n", mount.Ok("TZ=UTC stat -c '%y' f"));
    }

    [Fact]
    public void Cat_ReadsSmallAndLargeFiles()
    {
        using var mount = new TestMount();
        mount.Tree.Put("small", "a secret\n");
        var large = new byte[3 * 1024 * 1024 + 17];
        new Random(7).NextBytes(large);
        mount.Tree.Put("large", large);
        Assert.Equal("a secret\n", mount.Ok("cat small"));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(large)) + "  large\n", mount.Ok("sha256sum large"));
    }

    [Fact]
    public void EchoRedirect_CreatesFileAndCommitsBeforeCloseReturns()
    {
        using var mount = new TestMount();
        mount.Ok("umask 022; echo first > new && cat new");
        // The shell has exited: close(2) returned, so the version must already be saved.
        Assert.Equal("first\n", mount.Tree.Committed("new"));
        Assert.Equal("first\n", mount.Ok("cat new"));
        Assert.Equal("644\n", mount.Ok("stat -c %a new")); // 0666 & ~umask 022
    }

    [Fact]
    public void EchoRedirect_OverExistingFile_TruncatesAndReplaces()
    {
        using var mount = new TestMount();
        mount.Tree.Put("f", "a much longer old value\n");
        mount.Ok("cat f > /dev/null; echo new > f");
        Assert.Equal("new\n", mount.Tree.Committed("f"));
        Assert.Equal("new\n", mount.Ok("cat f"));
        Assert.Equal("4\n", mount.Ok("stat -c %s f"));
    }

    [Fact]
    public void EchoAppend_AppendsAtTheEnd()
    {
        using var mount = new TestMount();
        mount.Tree.Put("log", "one\n");
        mount.Ok("echo two >> log; echo three >> log");
        Assert.Equal("one\ntwo\nthree\n", mount.Tree.Committed("log"));
        Assert.Equal("one\ntwo\nthree\n", mount.Ok("cat log"));
    }

    [Fact]
    public void Append_UsesTheTreesEndNotTheKernelsOffset()
    {
        using var mount = new TestMount();
        mount.Tree.Put("log", "0123456789");
        mount.Ok("cat log > /dev/null"); // the kernel now believes the size is 10
        mount.Tree.Put("log", "0123456789XYZ"); // grown behind its back, not invalidated
        mount.Ok("echo ab >> log");
        Assert.Equal("0123456789XYZab\n", mount.Tree.Committed("log"));
    }

    [Fact]
    public void Truncate_ShrinksAndExtendsWithZeros()
    {
        using var mount = new TestMount();
        mount.Tree.Put("f", "abcdef");
        mount.Ok("truncate -s 3 f");
        Assert.Equal("abc", mount.Tree.Committed("f"));
        Assert.Equal("abc", mount.Ok("cat f"));
        mount.Ok("truncate -s 5 f");
        Assert.Equal("abc\0\0", mount.Tree.Committed("f"));
        Assert.Equal("5\n", mount.Ok("stat -c %s f"));
    }

    [Fact]
    public void Mv_RenamesAndReplacesAnExistingFile()
    {
        using var mount = new TestMount();
        mount.Tree.Put("a", "A");
        mount.Tree.Put("b", "B");
        mount.Ok("cat a b > /dev/null; mv a c");
        Assert.Equal("c\n", mount.Ok("ls c; ls a 2>/dev/null || true"));
        mount.Ok("mv -f c b");
        Assert.Equal("A", mount.Ok("cat b"));
        Assert.Equal("b\n", mount.Ok("ls"));
        Assert.Equal("A", mount.Tree.Committed("b"));
        Assert.False(mount.Tree.Exists("c"));
    }

    [Fact]
    public void Mv_NoClobberOntoExistingFile_IsRefused()
    {
        using var mount = new TestMount();
        mount.Tree.Put("a", "A");
        mount.Tree.Put("b", "B");
        Assert.Equal(Syscalls.EEXIST, Syscalls.Rename(mount["a"], mount["b"], Syscalls.RENAME_NOREPLACE));
        Assert.Equal(Syscalls.EINVAL, Syscalls.Rename(mount["a"], mount["b"], Syscalls.RENAME_EXCHANGE));
        Assert.Equal("B", mount.Tree.Committed("b"));
        Assert.Equal(0, Syscalls.Rename(mount["a"], mount["c"], Syscalls.RENAME_NOREPLACE));
        Assert.Equal("A", mount.Tree.Committed("c"));
    }

    [Fact]
    public void MkdirP_ThenCreateInside_Works()
    {
        using var mount = new TestMount();
        mount.Ok("mkdir -p x/y/z && echo deep > x/y/z/f");
        Assert.Equal("deep\n", mount.Tree.Committed("x/y/z/f"));
        Assert.Equal("deep\n", mount.Ok("cat x/y/z/f"));
        Assert.Equal("x/y/z/f\n", mount.Ok("find x -type f"));
    }

    [Fact]
    public void Rm_RemovesAFile()
    {
        using var mount = new TestMount();
        mount.Tree.Put("f", "x");
        mount.Ok("cat f >/dev/null; rm f");
        Assert.False(mount.Tree.Exists("f"));
        mount.Fails("cat f", "No such file or directory");
    }

    [Fact]
    public void Rmdir_NonEmpty_FailsWithENotEmpty_EmptySucceeds()
    {
        using var mount = new TestMount();
        mount.Tree.Put("d/f", "x");
        mount.Fails("rmdir d", "Directory not empty");
        Assert.Equal(Syscalls.ENOTEMPTY, Syscalls.RmDir(mount["d"]));
        mount.Ok("rm d/f && rmdir d");
        Assert.False(mount.Tree.Exists("d"));
    }

    [Fact]
    public void ChmodAndTouch_ChangeModeAndMtime()
    {
        using var mount = new TestMount();
        mount.Tree.Put("f", "x");
        mount.Ok("chmod 604 f && touch -d '2020-01-02 03:04:05 UTC' f");
        var info = mount.Tree.InfoOf("f")!.Value;
        Assert.Equal(0x184u /* 0604 */, info.Mode);
        Assert.Equal(new DateTimeOffset(2020, 1, 2, 3, 4, 5, TimeSpan.Zero), info.Modified);
        Assert.Equal("604 1577934245\n", mount.Ok("stat -c '%a %Y' f"));
    }

    [Fact]
    public void Chown_SameOwnerIsAccepted_OtherOwnerRefused()
    {
        using var mount = new TestMount();
        mount.Tree.Put("f", "x");
        Assert.Equal(0, Syscalls.Chown(mount["f"], Syscalls.Uid, Syscalls.Gid));
        Assert.Equal(Syscalls.EPERM, Syscalls.Chown(mount["f"], Syscalls.Uid + 4242, Syscalls.Gid));
    }

    [Fact]
    public void Close_ReleasesEveryHandle()
    {
        using var mount = new TestMount();
        mount.Tree.Put("f", "x");
        mount.Ok("for i in 1 2 3 4 5; do cat f; echo y >> f; done > /dev/null; ls -la > /dev/null");
        // Release is sent asynchronously after close; give it a moment.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (mount.Tree.OpenHandles > 0 && DateTime.UtcNow < deadline)
            Thread.Sleep(20);
        Assert.Equal(0, mount.Tree.OpenHandles);
    }

    [Fact]
    public void ReadOnlyOpen_SendsNoFlush_WritableOpenFlushesOnClose()
    {
        using var mount = new TestMount();
        mount.Tree.Put("f", "x");
        mount.Ok("cat f > /dev/null; cat f > /dev/null");
        Assert.Equal(0, mount.Tree.FlushCalls);
        mount.Ok("echo y >> f");
        Assert.True(mount.Tree.FlushCalls >= 1);
    }

    [Fact]
    public void DotNetFileApis_RoundTrip()
    {
        using var mount = new TestMount();
        File.WriteAllText(mount["dotnet.txt"], "via File API");
        Assert.Equal("via File API", File.ReadAllText(mount["dotnet.txt"]));
        Assert.Equal("via File API", mount.Tree.Committed("dotnet.txt"));
        Assert.Contains("dotnet.txt", Directory.GetFiles(mount.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Df_ReportsAFilesystem()
    {
        using var mount = new TestMount();
        var output = mount.Ok("stat -f -c '%S %l' .");
        Assert.Equal("4096 255\n", output);
    }
}
