namespace Polykey.Cli.Tests;

/// <summary>
/// Issue 12: a mount's files can belong to a service user (--owner, --group, --mode), the kernel
/// enforces those bits for a real second user, a chmod changes what is shown and enforced until
/// unmount, and a chown to another owner fails with EPERM, never "0 and ignored".
/// </summary>
public sealed class MountOwnershipTests : IDisposable
{
    private const string AppUser = "pk-test-app";
    private readonly TestKeynode _node = new TestKeynode().Init();

    public MountOwnershipTests()
    {
        Assert.True(Environment.UserName == "root", "these tests create a system user and run programs as it: run them as root (CI does)");
        if (PkProcess.Run("id", ["-u", AppUser]).ExitCode != 0)
            Pk.Ok(PkProcess.Run("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", AppUser]));
        // The other users must be able to reach the mount point inside the test's directory.
        File.SetUnixFileMode(_node.Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
    }

    public void Dispose() => _node.Dispose();

    private static PkResult Sh(string script) => PkProcess.Run("sh", ["-c", script]);

    private static PkResult As(string user, string script) => PkProcess.Run("runuser", ["-u", user, "--", "sh", "-c", script]);

    private static string Stat(string path) => Pk.Ok(Sh($"stat -c '%U %G %a' '{path}'")).Text.Trim();

    [Fact]
    public void OwnerAndMode_AreShownAndEnforced_ForARealServiceUser_AndChmodChownAreHonest()
    {
        Pk.Ok(_node.Set("app/db-password", "hunter2"));
        Pk.Ok(_node.Set("app/api-key", "k-1"));
        using var mount = new TestMount(_node, "--owner", AppUser, "--mode", "0440");

        Assert.Equal($"{AppUser} {AppUser} 440", Stat(mount["app/db-password"]));
        Assert.Equal($"{AppUser} {AppUser} 550", Stat(mount["app"]));
        Assert.Equal($"{AppUser} {AppUser} 550", Stat(mount.Path));
        // Files of another user are useless unless that user may enter: --owner implies allow_other.
        string options = File.ReadAllLines("/proc/self/mounts").Single(l => l.Split(' ')[1] == mount.Path).Split(' ')[3];
        Assert.Contains("allow_other", options.Split(','));
        Assert.Contains("default_permissions", options.Split(','));
        Assert.Contains("noatime", options.Split(','));

        // The service user reads its secrets, but 0440 lets it write nothing.
        Assert.Equal("hunter2", Pk.Ok(As(AppUser, $"cat '{mount["app/db-password"]}'")).Text);
        Assert.Equal("app/api-key\napp/db-password\n", Pk.Ok(As(AppUser, $"cd '{mount.Path}' && find app -type f | sort")).Text);
        PkResult write = As(AppUser, $"echo stolen > '{mount["app/db-password"]}'");
        Assert.NotEqual(0, write.ExitCode);
        Assert.Contains("Permission denied", write.Stderr);
        // Anyone else is kept out by the kernel.
        PkResult other = As("nobody", $"cat '{mount["app/db-password"]}'");
        Assert.NotEqual(0, other.ExitCode);
        Assert.Contains("Permission denied", other.Stderr);
        Assert.Equal("hunter2", System.Text.Encoding.UTF8.GetString(_node.Get("app/db-password")));

        // chown to what is shown is a no-op; to anyone else, EPERM (owners are the mount's).
        Pk.Ok(Sh($"chown {AppUser}:{AppUser} '{mount["app/db-password"]}'"));
        PkResult chown = Sh($"chown root '{mount["app/db-password"]}'");
        Assert.NotEqual(0, chown.ExitCode);
        Assert.Contains("Operation not permitted", chown.Stderr);
        Assert.Equal($"{AppUser} {AppUser} 440", Stat(mount["app/db-password"]));
        // The service user owns the files, yet may not chmod them (u+w would let it write secrets).
        PkResult ownChmod = As(AppUser, $"chmod 0640 '{mount["app/db-password"]}'");
        Assert.NotEqual(0, ownChmod.ExitCode);
        Assert.Contains("Operation not permitted", ownChmod.Stderr);
        Assert.Equal($"{AppUser} {AppUser} 440", Stat(mount["app/db-password"]));
        // chmod by the mounting user (root here) changes what is shown, and the kernel enforces it, until unmount.
        Pk.Ok(Sh($"chmod 0555 '{mount.Path}' '{mount["app"]}' && chmod 0444 '{mount["app/db-password"]}'"));
        Assert.Equal($"{AppUser} {AppUser} 444", Stat(mount["app/db-password"]));
        Assert.Equal($"{AppUser} {AppUser} 555", Stat(mount["app"]));
        Assert.Equal("hunter2", Pk.Ok(As("nobody", $"cat '{mount["app/db-password"]}'")).Text);
        Pk.Ok(Sh($"chmod 0440 '{mount["app/db-password"]}'"));
        Assert.Contains("Permission denied", As("nobody", $"cat '{mount["app/db-password"]}'").Stderr);

        // The admin (root) still writes; the service user reads the new version.
        Pk.Ok(Sh($"printf hunter3 > '{mount["app/db-password"]}'"));
        Assert.Equal("hunter3", Pk.Ok(As(AppUser, $"cat '{mount["app/db-password"]}'")).Text);
        Assert.Equal("hunter3", System.Text.Encoding.UTF8.GetString(_node.Get("app/db-password")));
    }

    [Fact]
    public void GroupAndMode_LetAGroupRead_AndOthersNot()
    {
        Pk.Ok(_node.Set("shared", "for-the-group"));
        using var mount = new TestMount(_node, "--group", AppUser, "--mode", "640");
        Assert.Equal($"root {AppUser} 640", Stat(mount["shared"]));
        Assert.Equal($"root {AppUser} 750", Stat(mount.Path));
        Assert.Equal("for-the-group", Pk.Ok(As(AppUser, $"cat '{mount["shared"]}'")).Text);
        Assert.Contains("Permission denied", As("nobody", $"cat '{mount["shared"]}'").Stderr);
    }

    [Fact]
    public void Chmod_LastsUntilUnmount_FollowsRenames_AndNewVersions()
    {
        Pk.Ok(_node.Set("f", "x"));
        Pk.Ok(_node.Set("d/g", "y"));
        using (var mount = new TestMount(_node))
        {
            Assert.Equal("root root 600", Stat(mount["f"]));
            Assert.Equal("root root 700", Stat(mount["d"]));
            Pk.Ok(Sh($"chmod 640 '{mount["f"]}' && chmod 750 '{mount["d"]}' && chmod 604 '{mount["d/g"]}'"));
            Assert.Equal("root root 640", Stat(mount["f"]));
            Assert.Equal("root root 750", Stat(mount["d"]));
            // A new version keeps the mode; so does a rename, of the file or of its directory.
            Pk.Ok(Sh($"printf x2 > '{mount["f"]}' && mv '{mount["f"]}' '{mount["f2"]}' && mv '{mount["d"]}' '{mount["e"]}'"));
            Assert.Equal("root root 640", Stat(mount["f2"]));
            Assert.Equal("root root 750", Stat(mount["e"]));
            Assert.Equal("root root 604", Stat(mount["e/g"]));
            // A name made anew starts from the mount's mode.
            Pk.Ok(Sh($"rm '{mount["f2"]}' && printf z > '{mount["f2"]}'"));
            Assert.Equal("root root 600", Stat(mount["f2"]));
            // Without allow_other, no other user gets in at all, whatever the bits say.
            Assert.Contains("Permission denied", As("nobody", $"ls '{mount.Path}'").Stderr);
        }
        // The keynode keeps no modes: a new mount shows the mount's own again.
        using (var again = new TestMount(_node))
        {
            Assert.Equal("root root 700", Stat(again["e"]));
            Assert.Equal("root root 600", Stat(again["e/g"]));
        }
    }

    [Fact]
    public void OwnerGivenAsAUid_BringsThatUsersGroup_OrKeepsTheMountersWhenNoUserHasIt()
    {
        Pk.Ok(_node.Set("s", "v"));
        string uid = Pk.Ok(PkProcess.Run("id", ["-u", AppUser])).Text.Trim();
        string gid = Pk.Ok(PkProcess.Run("id", ["-g", AppUser])).Text.Trim();
        using (var mount = new TestMount(_node, "--owner", uid))
            Assert.Equal($"{uid} {gid} 600", Pk.Ok(Sh($"stat -c '%u %g %a' '{mount["s"]}'")).Text.Trim());

        const string Unknown = "54321"; // an id from another machine: no passwd entry, so no group of its own
        Assert.NotEqual(0, PkProcess.Run("getent", ["passwd", Unknown]).ExitCode);
        using (var mount = new TestMount(_node, "--owner", Unknown))
            Assert.Equal($"{Unknown} 0 600", Pk.Ok(Sh($"stat -c '%u %g %a' '{mount["s"]}'")).Text.Trim());
    }

    [Theory]
    [InlineData("--mode", "0999", "--mode: '0999' is not an octal mode")]
    [InlineData("--mode", "1777", "--mode: '1777' is not an octal mode")]
    [InlineData("--owner", "no-such-user-here", "--owner: no user named 'no-such-user-here'")]
    [InlineData("--group", "no-such-group-here", "--group: no group named 'no-such-group-here'")]
    public void BadOwnershipOptions_AreUsageErrors_AndMountNothing(string option, string value, string message)
    {
        string target = Path.Combine(_node.Directory, "mnt");
        Directory.CreateDirectory(target);
        PkResult result = _node.Run("mount", target, option, value);
        Pk.Fails(result, 2, message);
        Assert.False(TestMount.IsMounted(target));
    }
}
