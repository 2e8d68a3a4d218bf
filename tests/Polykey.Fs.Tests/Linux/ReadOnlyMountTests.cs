namespace Polykey.Fs.Tests.Linux;

public class ReadOnlyMountTests
{
    private static TestMount MountReadOnlyTree()
    {
        var tree = new MemoryTree(readOnly: true);
        tree.Put("f", "secret\n");
        tree.Put("d/inner", "x");
        tree.Put("empty/.keep", "");
        return new TestMount(tree);
    }

    [Fact]
    public void ReadOnlyMount_ReadsWork()
    {
        using var mount = MountReadOnlyTree();
        Assert.Equal("secret\n", mount.Ok("cat f"));
        Assert.Equal("d\nempty\nf\n", mount.Ok("ls"));
    }

    [Fact]
    public void ReadOnlyMount_EveryMutatingSyscallFailsWithEROFS()
    {
        using var mount = MountReadOnlyTree();
        var f = mount["f"];
        var checks = new (string What, Func<int> Call)[]
        {
            ("open for writing", () => Syscalls.OpenClose(f, Syscalls.O_WRONLY)),
            ("open read-write", () => Syscalls.OpenClose(f, Syscalls.O_RDWR)),
            ("open with O_TRUNC", () => Syscalls.OpenClose(f, Syscalls.O_RDONLY | Syscalls.O_TRUNC)),
            ("open for appending", () => Syscalls.OpenClose(f, Syscalls.O_WRONLY | Syscalls.O_APPEND)),
            ("create", () => Syscalls.OpenClose(mount["new"], Syscalls.O_WRONLY | Syscalls.O_CREAT)),
            ("truncate", () => Syscalls.Truncate(f, 0)),
            ("unlink", () => Syscalls.Unlink(f)),
            ("rename", () => Syscalls.Rename(f, mount["g"])),
            ("mkdir", () => Syscalls.MkDir(mount["newdir"])),
            ("rmdir", () => Syscalls.RmDir(mount["d"])),
            ("chmod", () => Syscalls.ChMod(f, 0x1FF)),
            ("utimes", () => Syscalls.Utimes(f)),
            ("link", () => Syscalls.Link(f, mount["hard"])),
            ("symlink", () => Syscalls.Symlink("f", mount["soft"])),
            ("mknod", () => Syscalls.MkFifo(mount["fifo"])),
            ("setxattr", () => Syscalls.SetXattr(f, "user.x")),
            ("removexattr", () => Syscalls.RemoveXattr(f, "user.x")),
        };
        var wrong = checks
            .Select(c => (c.What, Errno: c.Call()))
            .Where(r => r.Errno != Syscalls.EROFS)
            .Select(r => $"{r.What}: errno {r.Errno}")
            .ToList();
        Assert.Empty(wrong);
        Assert.Equal("secret\n", mount.Tree.Committed("f"));
        Assert.Equal(0, mount.Tree.VersionsOf("f") - 1);
    }

    [Fact]
    public void ReadOnlyMount_ShellToolsReportReadOnlyFileSystem()
    {
        using var mount = MountReadOnlyTree();
        const string erofs = "Read-only file system";
        mount.Fails("echo x > f", erofs);
        mount.Fails("echo x >> f", erofs);
        mount.Fails("touch new", erofs);
        mount.Fails("mv f g", erofs);
        mount.Fails("rm -f f", erofs);
        mount.Fails("mkdir n", erofs);
        if (File.Exists("/usr/bin/setfattr"))
            mount.Fails("setfattr -n user.x -v 1 f", erofs);
        Assert.Equal("secret\n", mount.Ok("cat f"));
    }

    [Fact]
    public void ReadOnlyOption_OnWritableTree_RefusesChanges()
    {
        using var mount = new TestMount(options: new Polykey.Fs.Linux.FuseMountOptions { FsName = "pk-test", ReadOnly = true });
        mount.Tree.Put("f", "x");
        Assert.Equal(Syscalls.EROFS, Syscalls.OpenClose(mount["f"], Syscalls.O_WRONLY));
        Assert.Equal(Syscalls.EROFS, Syscalls.MkDir(mount["d"]));
        Assert.Equal("x", mount.Ok("cat f"));
    }
}
