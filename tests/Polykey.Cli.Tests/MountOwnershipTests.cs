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

    [Fact]
    public void Chmod_ByANonRootMounter_ChangesItsOwnFiles_ButNotFilesShownAsAnothers()
    {
        // default_permissions makes the kernel check a chmod before the mount hears of it: only the
        // file's owner or root may. So a non-root user who mounts with --owner naming someone else
        // cannot chmod, while root can. Tried as a real non-root mounter, in a private mount
        // namespace: there the test's own /dev/fuse (0666; the machine's is 0600) and fuse.conf
        // (user_allow_other, which allow_other needs) stand in for the machine's, which stay as they are.
        Pk.Ok(_node.Set("s", "v"));
        string home = Directory.CreateDirectory(Path.Combine(_node.Directory, "mounter")).FullName;
        foreach (string place in new[] { "dev", "own", "other" }) Directory.CreateDirectory(Path.Combine(home, place));
        File.Copy(_node.Path, Path.Combine(home, "n.keynode"));
        File.Copy(_node.IdentityFile!, Path.Combine(home, "key"));
        File.WriteAllText(Path.Combine(home, "fuse.conf"), "user_allow_other\n");
        Pk.Ok(PkProcess.Run("chown", ["-R", $"{AppUser}:", home]));
        Pk.Ok(PkProcess.Run("chmod", ["0755", home]));

        string script = $$"""
            set -u
            home='{{home}}'
            mount -t tmpfs -o size=16k,mode=0755 tmpfs "$home/dev"
            mknod -m 0666 "$home/dev/fuse" c 10 229
            mount --bind "$home/dev/fuse" /dev/fuse
            mount --bind "$home/fuse.conf" /etc/fuse.conf
            export HOME="$home" XDG_CACHE_HOME="$home/cache" XDG_STATE_HOME="$home/state"
            mounter() { runuser -u {{AppUser}} -- "$@"; }
            pk() { mounter '{{Installation.Pk}}' -k "$home/n.keynode" --identity-file "$home/key" "$@"; }
            trap 'pk unmount "$home/own"; pk unmount "$home/other"' EXIT
            pk mount "$home/own" || exit 1
            pk mount "$home/other" --owner nobody --mode 0644 || exit 1
            echo "other options: $(grep " $home/other " /proc/self/mounts | cut -d' ' -f4)"
            shown() { echo "$1: $(mounter stat -c '%U %a' "$2")"; } # root is not let into the mount without allow_other
            tried() { if out=$("$@" 2>&1); then echo ok; else echo "${out##*: }"; fi; }
            shown "own" "$home/own/s"
            echo "own, chmod by the mounter: $(tried mounter chmod 0640 "$home/own/s")"
            shown "own after" "$home/own/s"
            shown "other" "$home/other/s"
            echo "other, chmod by the mounter: $(tried mounter chmod 0600 "$home/other/s")"
            echo "other, chmod by the owner: $(tried runuser -u nobody -- chmod 0600 "$home/other/s")"
            shown "other after" "$home/other/s"
            echo "other, chmod by root: $(tried chmod 0640 "$home/other/s")"
            shown "other by root" "$home/other/s"
            """;
        PkResult run = PkProcess.Run("unshare", ["--mount", "--propagation", "private", "sh", "-c", script]);
        try
        {
            Assert.True(run.ExitCode == 0, $"the non-root mounter's script: {run}");
            var said = run.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(": ", 2))
                .ToDictionary(pair => pair[0], pair => pair[1]);
            Assert.Contains("allow_other", said["other options"].Split(','));
            Assert.Contains($"user_id={Pk.Ok(PkProcess.Run("id", ["-u", AppUser])).Text.Trim()}", said["other options"].Split(','));

            // The mounter's own files: its chmod reaches the mount and is kept.
            Assert.Equal($"{AppUser} 600", said["own"]);
            Assert.Equal("ok", said["own, chmod by the mounter"]);
            Assert.Equal($"{AppUser} 640", said["own after"]);
            // Files shown as nobody's: the kernel refuses the mounter (not the owner), the mount refuses
            // the owner (a service user must not widen its own access), root passes.
            Assert.Equal("nobody 644", said["other"]);
            Assert.Equal("Operation not permitted", said["other, chmod by the mounter"]);
            Assert.Equal("Operation not permitted", said["other, chmod by the owner"]);
            Assert.Equal("nobody 644", said["other after"]);
            Assert.Equal("ok", said["other, chmod by root"]);
            Assert.Equal("nobody 640", said["other by root"]);
        }
        finally
        {
            // The trap unmounted both; a serving process left behind would be this test's: end it by its id.
            for (int i = 0; i < 100 && Serving(home).Length > 0; i++) Thread.Sleep(50);
            foreach (string pid in Serving(home)) PkProcess.Run("kill", [pid]);
        }
        Assert.Empty(Serving(home));
        // Modes are the mount's: nothing of them reached the keynode.
        Assert.Equal(File.ReadAllBytes(_node.Path), File.ReadAllBytes(Path.Combine(home, "n.keynode")));
    }

    // Ids of pk processes serving a mount under this directory.
    private static string[] Serving(string directory) =>
        PkProcess.Run("pgrep", ["-f", $"mount {directory}/"]).Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

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
