namespace Polykey.Cli.Tests;

/// <summary>
/// Issue 13: scripts/package.sh builds a .deb of the installed binary that lintian passes,
/// apt installs on this machine, and apt-get purge removes without a trace.
/// </summary>
[Collection(SystemFiles.Collection)]
public sealed class PackageTests
{
    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "scripts", "package.sh"))) return directory.FullName;
        throw new InvalidOperationException("scripts/package.sh not found above " + AppContext.BaseDirectory);
    }

    private static string InstalledBinary()
    {
        string which = Pk.Ok(PkProcess.Run("sh", ["-c", $"command -v '{PkProcess.Binary}'"])).Text.Trim();
        return Path.GetFullPath(which);
    }

    [Fact]
    public void Deb_PassesLintian_Installs_Runs_AndPurgesCleanly()
    {
        Assert.True(Environment.UserName == "root", "installing a package needs root (CI runs as root)");
        Assert.NotEqual(0, PkProcess.Run("dpkg", ["-s", "pk"]).ExitCode); // no pk package before the test
        string root = RepositoryRoot();
        PkResult built = Pk.Ok(PkProcess.Run(Path.Combine(root, "scripts", "package.sh"), [], env: new Dictionary<string, string> { ["PK_BINARY"] = InstalledBinary() }, cwd: root));
        string deb = Path.Combine(root, built.Text.Trim());
        Assert.Matches(@"artifacts/pk_[0-9.]+(\+git\.[0-9a-f]{12})?_amd64\.deb$", deb);

        string fields = Pk.Ok(PkProcess.Run("dpkg-deb", ["-f", deb, "Package", "Architecture", "Depends"])).Text;
        Assert.Contains("Package: pk", fields);
        Assert.Contains("Architecture: amd64", fields);
        Assert.Contains("fuse3", fields);

        // lintian: no error (E:) and nothing it cannot parse; warnings are printed for the log.
        PkResult lint = PkProcess.Run("lintian", ["--tag-display-limit", "0", deb], timeoutSeconds: 300);
        Assert.True(lint.ExitCode is 0 or 2, $"lintian failed to run: {lint}");
        Assert.DoesNotContain("\nE: ", "\n" + lint.Text);
        Assert.DoesNotContain("no-manual-page", lint.Text); // pk(1), and mount.pk(8) for both helper names

        try
        {
            Pk.Ok(PkProcess.Run("apt-get", ["install", "-y", "-q", "--no-install-recommends", deb], env: NonInteractive, timeoutSeconds: 300));
            string version = Pk.Ok(PkProcess.Run("/usr/bin/pk", ["--version"])).Text.Trim();
            Assert.Equal(Pk.Ok(PkProcess.Run(PkProcess.Binary, ["--version"])).Text.Trim(), version);
            string[] files = Pk.Ok(PkProcess.Run("dpkg", ["-L", "pk"])).Text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Where(File.Exists).ToArray();
            Assert.Contains("/usr/bin/pk", files);
            Assert.Contains("/usr/share/doc/pk/copyright", files);
            Assert.Contains("/usr/lib/systemd/system/pk-mount@.service", files);
            Assert.Contains("/usr/lib/systemd/system/pk-pull@.timer", files);
            Assert.Contains("/usr/sbin/mount.pk", files);
            Assert.Contains("/usr/sbin/mount.fuse.pk", files);
            Assert.Contains("/usr/share/man/man1/pk.1.gz", files);
            Assert.Contains("/usr/share/man/man8/mount.pk.8.gz", files);
            Assert.Contains("/usr/share/man/man8/mount.fuse.pk.8.gz", files);
            Assert.Contains("/usr/share/bash-completion/completions/pk", files);
            Assert.Contains("/usr/share/zsh/vendor-completions/_pk", files);
            Assert.Contains("/usr/share/fish/vendor_completions.d/pk.fish", files);
            // The packaged page renders (a minimal image may exclude /usr/share/man through dpkg's path-exclude).
            string manual = Pk.Ok(PkProcess.Run("sh", ["-c", "MANWIDTH=80 man -l -P cat /usr/share/man/man1/pk.1.gz"])).Text;
            Assert.Contains("PK(1)", manual);
            Assert.Contains("pk mount", manual);
            Assert.Contains("MOUNT.PK(8)", Pk.Ok(PkProcess.Run("sh", ["-c", "MANWIDTH=80 man -l -P cat /usr/share/man/man8/mount.fuse.pk.8.gz"])).Text);

            Pk.Ok(PkProcess.Run("apt-get", ["purge", "-y", "-q", "pk"], env: NonInteractive, timeoutSeconds: 300));
            Assert.Empty(files.Where(File.Exists));
            Assert.False(Directory.Exists("/usr/share/doc/pk"));
            Assert.NotEqual(0, PkProcess.Run("dpkg", ["-s", "pk"]).ExitCode);
        }
        finally
        {
            PkProcess.Run("dpkg", ["--purge", "pk"], env: NonInteractive);
        }
    }

    private static readonly Dictionary<string, string> NonInteractive = new() { ["DEBIAN_FRONTEND"] = "noninteractive" };
}
