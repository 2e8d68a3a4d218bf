namespace Polykey.Cli.Tests;

/// <summary>
/// The systemd units in packaging/systemd: what install.sh installed is the repository's file
/// with only pk's path changed, `systemd-analyze verify` accepts it, and the settings that
/// make the units work are there (and the ones that would break the mount are not).
/// </summary>
public sealed class SystemdUnitTests
{
    public static TheoryData<string> Units => new() { "pk-mount@.service", "pk-pull@.service", "pk-pull@.timer" };

    [Theory]
    [MemberData(nameof(Units))]
    public void InstalledUnit_IsTheRepositorys_AndPassesSystemdAnalyzeVerify(string unit)
    {
        string installed = Path.Combine(Installation.UnitDirectory, unit);
        Assert.True(File.Exists(installed), $"install.sh did not install {installed}");
        string expected = File.ReadAllText(RepositoryUnit(unit)).Replace("\nExecStart=/usr/bin/pk ", $"\nExecStart={Installation.Pk} ");
        Assert.Equal(expected, File.ReadAllText(installed));

        // verify needs the binary ExecStart names to exist: the installed unit names the pk under test.
        string scratch = Directory.CreateTempSubdirectory("pk-verify-").FullName;
        try
        {
            PkResult result = PkProcess.Run("systemd-analyze", ["verify", "--man=no", installed], cwd: scratch);
            Assert.True(result.ExitCode == 0, $"systemd-analyze verify {unit}: {result}");
            Assert.Equal("", result.Text + result.Stderr); // warnings (an unknown key, say) exit 0 too
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    [Fact]
    public void MountUnit_NotifiesAndMountsReadOnly_WithTheKeynodeAndKeyOfItsInstance()
    {
        Dictionary<string, List<string>> unit = Settings("pk-mount@.service");
        Assert.Equal(["notify"], unit["Type"]);
        Assert.Equal(["/usr/bin/pk mount /run/pk/%i --foreground --read-only $PK_MOUNT_OPTIONS"], unit["ExecStart"]);
        Assert.Contains("PK_KEYNODE=/etc/pk/%i.keynode PK_MOUNT_OPTIONS=", unit["Environment"]);
        Assert.Equal(["-/etc/pk/%i.env"], unit["EnvironmentFile"]);
        Assert.Equal(["pk-identity:/etc/pk/%i.key"], unit["LoadCredential"]); // the name pk looks for in $CREDENTIALS_DIRECTORY
        Assert.Equal(["pk/%i"], unit["RuntimeDirectory"]);
        Assert.Equal(["yes"], unit["RuntimeDirectoryPreserve"]);
    }

    [Fact]
    public void MountUnit_IsHardenedOnlyInWaysThatKeepTheMountVisible()
    {
        Dictionary<string, List<string>> unit = Settings("pk-mount@.service");
        Assert.Equal(["CAP_SYS_ADMIN CAP_IPC_LOCK"], unit["CapabilityBoundingSet"]);
        Assert.Equal(["yes"], unit["NoNewPrivileges"]);
        Assert.Equal(["closed"], unit["DevicePolicy"]);
        Assert.Equal(["/dev/fuse rw"], unit["DeviceAllow"]);
        Assert.Equal(["AF_UNIX"], unit["RestrictAddressFamilies"]);
        Assert.Equal(["@system-service @mount"], unit["SystemCallFilter"]);
        Assert.Equal(["yes"], unit["MemoryDenyWriteExecute"]);
        Assert.Equal(["mnt"], unit["RestrictNamespaces"]); // fusermount3's auto_unmount after a crash clones one
        // Each of these gives the service a mount namespace of its own, and the mount would be seen only inside it.
        string[] ownNamespace =
        [
            "ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "PrivateMounts", "PrivateNetwork", "PrivateIPC",
            "ReadWritePaths", "ReadOnlyPaths", "InaccessiblePaths", "ExecPaths", "NoExecPaths", "BindPaths", "BindReadOnlyPaths",
            "TemporaryFileSystem", "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups",
            "ProtectProc", "ProcSubset", "MountFlags", "RootDirectory", "RootImage",
        ];
        Assert.DoesNotContain(unit.Keys, ownNamespace.Contains);
    }

    [Fact]
    public void PullUnit_PullsOnceIntoItsKeynode_AndMayWriteNothingElse()
    {
        Dictionary<string, List<string>> pull = Settings("pk-pull@.service");
        Dictionary<string, List<string>> mount = Settings("pk-mount@.service");
        Assert.Equal(["oneshot"], pull["Type"]);
        Assert.Equal(["/usr/bin/pk pull $PK_PULL_ARGS"], pull["ExecStart"]);
        Assert.Equal(mount["LoadCredential"], pull["LoadCredential"]);
        Assert.Equal(mount["EnvironmentFile"], pull["EnvironmentFile"]);
        // One place for pk's cache and trust pins, so the mount and the pull agree on what they trust.
        Assert.Contains("XDG_STATE_HOME=%S/pk XDG_CACHE_HOME=%C/pk", pull["Environment"]);
        Assert.Contains("XDG_STATE_HOME=%S/pk XDG_CACHE_HOME=%C/pk", mount["Environment"]);
        Assert.Equal(["strict"], pull["ProtectSystem"]);
        Assert.Equal(["/etc/pk/%i.keynode"], pull["ReadWritePaths"]);
        Assert.Equal(["yes"], pull["PrivateTmp"]);
        Assert.Equal([""], pull["CapabilityBoundingSet"]);
        Assert.Equal(["yes"], pull["MemoryDenyWriteExecute"]);
    }

    [Fact]
    public void PullTimer_RunsAfterBootAndAfterEachPull()
    {
        Dictionary<string, List<string>> timer = Settings("pk-pull@.timer");
        Assert.Equal(["1min"], timer["OnBootSec"]);
        Assert.Equal(["5min"], timer["OnUnitActiveSec"]);
        Assert.Equal(["timers.target"], timer["WantedBy"]);
        Assert.False(timer.ContainsKey("Unit"), "the timer starts pk-pull@ of its own instance, by name");
    }

    private static string RepositoryUnit(string unit) => Installation.RepositoryFile(Path.Combine("packaging", "systemd", unit));

    // Key=value lines of a unit file, every value of a key in order (comments and sections left out).
    private static Dictionary<string, List<string>> Settings(string unit)
    {
        var settings = new Dictionary<string, List<string>>();
        foreach (string line in File.ReadAllLines(RepositoryUnit(unit)))
        {
            if (line.StartsWith('#') || line.StartsWith('[') || line.IndexOf('=') is not (> 0 and var equals)) continue;
            string key = line[..equals];
            if (!settings.TryGetValue(key, out List<string>? values)) settings[key] = values = [];
            values.Add(line[(equals + 1)..]);
        }
        return settings;
    }
}
