using System.Diagnostics;
using Polykey.Fs.Linux;

namespace Polykey.Fs.Tests.Linux;

public class FuseMountLifecycleTests
{
    [Fact]
    public void Start_MissingMountPoint_ThrowsBeforeServing()
    {
        var missing = Path.Combine(Path.GetTempPath(), "pk-fs-missing-" + Guid.NewGuid());
        var e = Assert.Throws<FuseMountException>(() => FuseMount.Start(new MemoryTree(), missing));
        Assert.Contains("does not exist", e.Message);
        Assert.False(TestMount.IsMounted(missing));
    }

    [Fact]
    public void Start_FileAsMountPoint_ThrowsNotADirectory()
    {
        var file = Path.GetTempFileName();
        try
        {
            var e = Assert.Throws<FuseMountException>(() => FuseMount.Start(new MemoryTree(), file));
            Assert.Contains("not a directory", e.Message);
            Assert.False(TestMount.IsMounted(file));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("bad,subtype")]
    [InlineData("")]
    public void Start_InvalidSubtype_ThrowsArgumentException(string subtype)
    {
        var directory = Directory.CreateTempSubdirectory("pk-fs-test-").FullName;
        try
        {
            Assert.ThrowsAny<ArgumentException>(() => FuseMount.Start(new MemoryTree(), directory, new FuseMountOptions { Subtype = subtype }));
            Assert.False(TestMount.IsMounted(directory));
        }
        finally
        {
            Directory.Delete(directory);
        }
    }

    [Fact]
    public void Start_AlreadyMounted_ThrowsAndFirstMountKeepsServing()
    {
        using var first = new TestMount();
        first.Tree.Put("a", "first\n");
        var e = Assert.Throws<FuseMountException>(() => FuseMount.Start(new MemoryTree(), first.Path));
        Assert.Contains("already mounted", e.Message);
        Assert.Equal("first\n", first.Ok("cat a"));
    }

    [Fact]
    public void Start_MountPointWithSpaceInName_MountsAndIsDetectedAsMounted()
    {
        using var mount = new TestMount(directoryName: "with space");
        mount.Tree.Put("f", "x");
        Assert.Equal("x", mount.Ok("cat f"));
        Assert.True(TestMount.IsMounted(mount.Path));
        Assert.Throws<FuseMountException>(() => FuseMount.Start(new MemoryTree(), mount.Path));
    }

    [Fact]
    public void Start_ListsAsFusePkWithFsNameAndDefaultPermissions()
    {
        using var mount = new TestMount(options: new FuseMountOptions { FsName = "my,node" });
        var line = Shell.Ok($"findmnt -n -o FSTYPE,SOURCE,OPTIONS --mountpoint '{mount.Path}'", "/");
        Assert.Contains("fuse.pk", line);
        Assert.Contains("my,node", line);
        Assert.Contains("default_permissions", line);
        Assert.Contains("nosuid", line);
        Assert.Contains("rw", line);
    }

    [Fact]
    public void Start_AllowOtherWithoutAutoUnmount_MountsWithThoseOptionsAndUnmountsCleanly()
    {
        var options = new FuseMountOptions { FsName = "pk-test", AllowOther = true, AutoUnmount = false, MaxThreads = 1 };
        using var mount = new TestMount(options: options);
        mount.Tree.Put("f", "x");
        Assert.Equal("x", mount.Ok("cat f"));
        var line = Shell.Ok($"findmnt -n -o OPTIONS --mountpoint '{mount.Path}'", "/");
        Assert.Contains("allow_other", line);
    }

    [Fact]
    public void Dispose_UnmountsCompletesAndLeavesNoMount()
    {
        var mount = new TestMount();
        var path = mount.Path;
        mount.Tree.Put("a", "x");
        Assert.Equal("x", mount.Ok("cat a"));
        mount.Dispose(); // asserts the mount table no longer lists it
        Assert.True(mount.Mount.Completion.IsCompleted);
        Assert.False(Directory.Exists(path));
        mount.Mount.Unmount(); // idempotent
    }

    [Fact]
    public async Task Unmount_WhileAProcessHoldsAFile_WaitsForTheTimeoutThenStopsServing()
    {
        var options = new FuseMountOptions { FsName = "pk-test", UnmountTimeout = TimeSpan.FromSeconds(1) };
        using var mount = new TestMount(options: options);
        mount.Tree.Put("held", "x");
        // A child keeps the file open (and its cwd inside the mount) for a long time.
        var holder = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "exec 3< held; echo ready; exec sleep 60"])
        {
            WorkingDirectory = mount.Path,
            RedirectStandardOutput = true,
        })!;
        try
        {
            Assert.Equal("ready", holder.StandardOutput.ReadLine());
            // What a test that hangs prints: the holder, by its descriptor and working directory.
            string report = HangReport.For(mount.Path);
            Assert.Contains($"pid {holder.Id} (sleep 60): cwd {mount.Path}, fd 3 {mount["held"]}", report);
            var clock = Stopwatch.StartNew();
            mount.Mount.Unmount();
            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(8));
            await mount.Mount.Completion.WaitAsync(TimeSpan.FromSeconds(5));
            Assert.False(TestMount.IsMounted(mount.Path));
        }
        finally
        {
            holder.Kill();
            holder.WaitForExit();
            holder.Dispose();
        }
    }

    [Fact]
    public async Task Unmount_AfterAnotherProcessUnmounted_CompletesAndCleansUp()
    {
        using var mount = new TestMount();
        Shell.Ok($"fusermount3 -u '{mount.Path}'", "/");
        await mount.Mount.Completion.WaitAsync(TimeSpan.FromSeconds(10)); // the loop noticed the external unmount
        mount.Mount.Unmount();
    }

    [Fact]
    public void Start_ReadOnlyTree_MountsReadOnlyEvenWithoutTheOption()
    {
        using var mount = new TestMount(new MemoryTree(readOnly: true));
        var options = Shell.Ok($"findmnt -n -o OPTIONS --mountpoint '{mount.Path}'", "/");
        Assert.StartsWith("ro,", options.Trim());
    }
}
