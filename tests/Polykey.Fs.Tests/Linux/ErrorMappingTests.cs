namespace Polykey.Fs.Tests.Linux;

/// <summary>FsException reasons travel to the caller as their errno; anything else is EIO and the mount lives on.</summary>
public class ErrorMappingTests
{
    [Fact]
    public void TreeRefusal_ReachesTheCallerAsItsErrno()
    {
        using var mount = new TestMount();
        mount.Tree.Put("f", "x");
        mount.Tree.Put("d/inner", "y");
        mount.Ok("ls d > /dev/null; cat f > /dev/null");
        mount.Tree.RefuseChangesWith = FsError.AccessDenied;
        Assert.Equal(Syscalls.EACCES, Syscalls.OpenClose(mount["f"], Syscalls.O_WRONLY));
        Assert.Equal(Syscalls.EACCES, Syscalls.OpenClose(mount["new"], Syscalls.O_WRONLY | Syscalls.O_CREAT));
        Assert.Equal(Syscalls.EACCES, Syscalls.MkDir(mount["n"]));
        Assert.Equal(Syscalls.EACCES, Syscalls.Unlink(mount["f"]));
        Assert.Equal(Syscalls.EACCES, Syscalls.Rename(mount["f"], mount["g"]));
        Assert.Equal(Syscalls.EACCES, Syscalls.Truncate(mount["f"], 0));
        mount.Tree.RefuseChangesWith = FsError.ReadOnly;
        Assert.Equal(Syscalls.EROFS, Syscalls.OpenClose(mount["f"], Syscalls.O_WRONLY));
        Assert.Equal(Syscalls.EROFS, Syscalls.ChMod(mount["f"], 0x180));
        mount.Tree.RefuseChangesWith = FsError.NoSpace;
        Assert.Equal(Syscalls.ENOSPC, Syscalls.MkDir(mount["n"]));
        mount.Tree.RefuseChangesWith = null;
        Assert.Equal("x", mount.Tree.Committed("f"));
    }

    [Fact]
    public void UnexpectedException_IsEIO_ReportedToTheHook_AndTheMountKeepsServing()
    {
        var reported = new List<Exception>();
        var options = new Polykey.Fs.Linux.FuseMountOptions { FsName = "pk-test", UnexpectedError = e => { lock (reported) reported.Add(e); } };
        using var mount = new TestMount(options: options);
        mount.Tree.ExplodingName = "boom";
        mount.Tree.Put("fine", "ok");
        mount.Fails("cat boom", "Input/output error");
        Assert.Equal("ok", mount.Ok("cat fine"));
        lock (reported)
            Assert.Contains(reported, e => e is InvalidOperationException);
    }

    [Fact]
    public void UnsupportedChanges_OnAWritableTree_AreEPERMOrEOPNOTSUPP()
    {
        using var mount = new TestMount();
        mount.Tree.Put("f", "x");
        Assert.Equal(Syscalls.EPERM, Syscalls.Link(mount["f"], mount["hard"]));
        Assert.Equal(Syscalls.EPERM, Syscalls.Symlink("f", mount["soft"]));
        Assert.Equal(Syscalls.EPERM, Syscalls.MkFifo(mount["fifo"]));
        Assert.Equal(Syscalls.EOPNOTSUPP, Syscalls.SetXattr(mount["f"], "user.x"));
        Assert.Equal(Syscalls.EOPNOTSUPP, Syscalls.RemoveXattr(mount["f"], "user.x"));
        Assert.Equal(Syscalls.EOPNOTSUPP, Syscalls.GetXattr(mount["f"], "user.x"));
        Assert.Equal("f\n", mount.Ok("ls"));
    }

    [Fact]
    public void MissingFile_IsENOENT_AndExclusiveCreateOfExistingIsEEXIST()
    {
        using var mount = new TestMount();
        mount.Tree.Put("f", "x");
        Assert.Equal(Syscalls.ENOENT, Syscalls.OpenClose(mount["nope"], Syscalls.O_RDONLY));
        Assert.Equal(Syscalls.EEXIST, Syscalls.OpenClose(mount["f"], Syscalls.O_WRONLY | Syscalls.O_CREAT | Syscalls.O_EXCL));
        Assert.Equal(0, Syscalls.OpenClose(mount["g"], Syscalls.O_WRONLY | Syscalls.O_CREAT | Syscalls.O_EXCL));
        Assert.True(mount.Tree.Exists("g"));
    }
}
