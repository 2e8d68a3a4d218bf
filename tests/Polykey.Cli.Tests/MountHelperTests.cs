namespace Polykey.Cli.Tests;

/// <summary>
/// The real mount(8) and umount(8) with the installed mount.pk helper: `mount -t pk`, an
/// fstab line (through `mount --fstab`, by its target and by `mount -a`), and one-line errors
/// with mount(8)'s exit codes.
/// mount(8) looks for helpers only in /sbin, so each test links the installed helper there
/// and removes the links afterwards; that takes root, as CI runs.
/// </summary>
[Collection(SystemFiles.Collection)]
public sealed class MountHelperTests : IDisposable
{
    private static readonly string[] HelperLinks = ["/sbin/mount.pk", "/sbin/mount.fuse.pk"];

    private readonly TestKeynode _node = new TestKeynode("app").Init();
    private readonly string _target;

    public MountHelperTests()
    {
        Assert.True(Environment.UserName == "root", "mount(8) helpers are installed in /sbin: these tests run as root");
        Pk.Ok(_node.Set("prod/db/password", "hunter2"));
        _target = Directory.CreateDirectory(Path.Combine(_node.Directory, "run-app")).FullName;
        Assert.True(File.Exists(Installation.MountHelper), $"install.sh did not install {Installation.MountHelper}");
        foreach (string link in HelperLinks)
        {
            if (File.Exists(link) || new FileInfo(link).LinkTarget is not null)
                Assert.True(new FileInfo(link).LinkTarget == Installation.MountHelper, $"{link} exists and is not a link to {Installation.MountHelper}; not replacing it");
            else File.CreateSymbolicLink(link, Installation.MountHelper);
        }
    }

    private string Identity => _node.IdentityFile!;

    [Fact]
    public void MountTypePk_ServesTheKeynodeReadOnly_AndUmountEndsItsProcess()
    {
        PkResult mounted = PkProcess.Run("mount", ["-t", "pk", _node.Path, _target, "-o", $"ro,identity={Identity},allow_other"]);
        Assert.True(mounted.ExitCode == 0, $"mount -t pk: {mounted}");
        Assert.Equal("hunter2", File.ReadAllText(Path.Combine(_target, "prod/db/password")));
        string[] entry = MountEntries().Single();
        Assert.Equal([_node.Path, _target, "fuse.pk"], entry[..3]);
        Assert.Contains("ro", entry[3].Split(','));
        Assert.Contains("allow_other", entry[3].Split(','));
        PkResult write = PkProcess.Run("sh", ["-c", $"echo x > {_target}/prod/db/password"]);
        Assert.Contains("Read-only file system", write.Stderr);

        PkResult unmounted = PkProcess.Run("umount", [_target]);
        Assert.True(unmounted.ExitCode == 0, $"umount: {unmounted}");
        Assert.Empty(MountEntries());
        Assert.True(WaitUntil(() => PkProcess.Run("pgrep", ["-f", $"mount {_target}"]).ExitCode != 0), "pk kept serving after umount");
    }

    [Theory]
    [InlineData("pk")]
    [InlineData("fuse.pk")]
    public void FstabLine_MountsWithMountFstab_OwnedAsItSays_AndUmounts(string type)
    {
        string fstab = Path.Combine(_node.Directory, "fstab");
        File.WriteAllText(fstab, $"# a service's secrets\n{_node.Path} {_target} {type} ro,identity={Identity},owner=nobody,mode=0440,nofail 0 0\n");

        PkResult mounted = PkProcess.Run("mount", ["--fstab", fstab, _target]);
        Assert.True(mounted.ExitCode == 0, $"mount --fstab: {mounted}");
        string secret = Path.Combine(_target, "prod/db/password");
        Assert.Equal("hunter2", File.ReadAllText(secret));
        Assert.Equal("65534 440", PkProcess.Run("stat", ["-c", "%u %a", secret]).Text.Trim());
        // mount -a knows the line is mounted (fuse.pk in the kernel's table for type pk too).
        PkResult all = PkProcess.Run("mount", ["--fstab", fstab, "-a"]);
        Assert.True(all.ExitCode == 0, $"mount -a: {all}");
        Assert.Single(MountEntries());

        Assert.Equal(0, PkProcess.Run("umount", [_target]).ExitCode);
        Assert.Empty(MountEntries());
    }

    [Fact]
    public void MountAll_MountsAnFstabLineNotYetMounted_ThatReads_AndUmountEndsItsProcess()
    {
        string fstab = Path.Combine(_node.Directory, "fstab");
        File.WriteAllText(fstab, $"{_node.Path} {_target} pk ro,identity={Identity},nofail 0 0\n");
        Assert.Empty(MountEntries());

        // As at boot: nothing names the target, mount -a finds the line and mounts it.
        PkResult all = PkProcess.Run("mount", ["--fstab", fstab, "-a", "-v"]);
        Assert.True(all.ExitCode == 0, $"mount -a: {all}");
        Assert.Contains($"{_target}", all.Text + all.Stderr);
        Assert.Contains("successfully mounted", all.Text + all.Stderr);
        string[] entry = MountEntries().Single();
        Assert.Equal([_node.Path, _target, "fuse.pk"], entry[..3]);
        Assert.Contains("ro", entry[3].Split(','));
        Assert.Equal("hunter2", File.ReadAllText(Path.Combine(_target, "prod/db/password")));
        Assert.Equal(0, PkProcess.Run("pgrep", ["-f", $"mount {_target}"]).ExitCode);

        PkResult unmounted = PkProcess.Run("umount", [_target]);
        Assert.True(unmounted.ExitCode == 0, $"umount: {unmounted}");
        Assert.Empty(MountEntries());
        Assert.True(WaitUntil(() => PkProcess.Run("pgrep", ["-f", $"mount {_target}"]).ExitCode != 0), "pk kept serving after umount");
    }

    [Theory]
    [InlineData("ro,uid=0", "mount.pk: error: unknown option 'uid=0' (known: ro, rw, identity=FILE, allow_other, owner=USER, group=GROUP, mode=OCTAL, pin_versions)")]
    [InlineData("ro,identity=", "mount.pk: error: option 'identity=' needs a value")]
    [InlineData("ro,user", "mount.pk: error: option 'user': mount.pk mounts as root; a user mounts a keynode with 'pk mount' instead")]
    [InlineData("ro,mode=9z", "pk: error: --mode: '9z' is not an octal mode")]
    public void BadOption_IsOneErrorLine_AndExit1(string options, string error)
    {
        PkResult result = PkProcess.Run("mount", ["-t", "pk", _node.Path, _target, "-o", options.Replace("ro,", $"ro,identity={Identity},")]);
        Assert.True(result.ExitCode == 1, $"expected mount(8)'s exit 1 (bad usage): {result}");
        string line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith(error, line);
        Assert.Empty(MountEntries());
    }

    [Fact]
    public void MissingKeynode_OrAnotherKeynodesKey_IsMountFailure32()
    {
        PkResult missing = PkProcess.Run("mount", ["-t", "pk", _node.Path + ".gone", _target, "-o", $"ro,identity={Identity}"]);
        Assert.True(missing.ExitCode == 32, $"expected mount(8)'s exit 32 (mount failure): {missing}");
        Assert.StartsWith($"pk: error: no keynode at {_node.Path}.gone", missing.Stderr);

        using var other = new TestKeynode("other").Init();
        PkResult wrongKey = PkProcess.Run("mount", ["-t", "pk", _node.Path, _target, "-o", $"ro,identity={other.IdentityFile}"]);
        Assert.True(wrongKey.ExitCode == 32, $"expected exit 32: {wrongKey}");
        Assert.StartsWith("pk: error: ", wrongKey.Stderr);
        Assert.Empty(MountEntries());
    }

    [Fact]
    public void SloppyMount_IgnoresOptionsItDoesNotKnow()
    {
        PkResult mounted = PkProcess.Run("mount", ["-s", "-t", "pk", _node.Path, _target, "-o", $"ro,identity={Identity},uid=0"]);
        Assert.True(mounted.ExitCode == 0, $"mount -s: {mounted}");
        Assert.Single(MountEntries());
        Assert.Equal(0, PkProcess.Run("umount", [_target]).ExitCode);
    }

    // The kernel's mount table lines for the target: source, target, type, options.
    private string[][] MountEntries() =>
        File.ReadAllLines("/proc/self/mounts").Select(l => l.Split(' ')).Where(f => f[1] == _target).ToArray();

    private static bool WaitUntil(Func<bool> condition, int seconds = 10)
    {
        for (int i = 0; i < seconds * 20 && !condition(); i++) Thread.Sleep(50);
        return condition();
    }

    public void Dispose()
    {
        if (MountEntries().Length > 0) PkProcess.Run("umount", ["-l", _target]);
        foreach (string link in HelperLinks)
            if (new FileInfo(link).LinkTarget == Installation.MountHelper) File.Delete(link);
        _node.Dispose();
    }
}
