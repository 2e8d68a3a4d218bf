using System.IO.Compression;
using System.Text;

namespace Polykey.Cli.Tests;

/// <summary>
/// pk(1): `pk man` prints a page groff renders without a warning, naming every command; and
/// mount.pk(8), the helper's hand-written page. install.sh installs both.
/// </summary>
public sealed class ManPageTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("pk-man-").FullName;

    [Fact]
    public void Page_RendersWithoutWarnings()
    {
        string page = WritePage();
        PkResult result = PkProcess.Run("groff", ["-man", "-Tutf8", "-ww", "-z", page]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public void Page_NamesEveryCommand_WithItsOptions()
    {
        string text = Render(WritePage());
        List<string> commands = HelpListing.AllCommandPaths();
        Assert.Contains("pk identity show", commands);
        Assert.All(commands, command => Assert.Contains(command, text));
        Assert.DoesNotContain("pk serve", text); // hidden: ssh runs it, people don't
        foreach (string option in new[] { "--keynode", "--identity-file", "--theirs", "--pin-versions", "--max-size" })
            Assert.Contains(option, text);
        Assert.Contains("EXIT STATUS", text);
        Assert.Contains("NO_COLOR", text);
    }

    [Fact]
    public void InstallScript_PutsThePageAndCompletionsBesideTheBinary()
    {
        // PK_BIN is what scripts/install.sh installed: PREFIX/bin/pk.
        string binary = PkProcess.Binary.Contains('/') ? Path.GetFullPath(PkProcess.Binary) : Which("pk");
        string prefix = Path.GetDirectoryName(Path.GetDirectoryName(binary))!;
        string installed = Path.Combine(prefix, "share", "man", "man1", "pk.1.gz");
        Assert.True(File.Exists(installed), $"no {installed}: run scripts/install.sh");
        using (var gzip = new GZipStream(File.OpenRead(installed), CompressionMode.Decompress))
        using (var reader = new StreamReader(gzip, Encoding.UTF8))
            Assert.Equal(Pk.Ok(PkProcess.Pk(["man"])).Text, reader.ReadToEnd());
        // man finds it by name in that tree, as `man pk` does when PREFIX/bin is on PATH.
        PkResult man = PkProcess.Run("man", ["-M", Path.Combine(prefix, "share", "man"), "pk"], env: new Dictionary<string, string> { ["MANPAGER"] = "cat", ["MANWIDTH"] = "100" });
        Assert.True(man.ExitCode == 0, man.ToString());
        Assert.Contains("pk identity export", man.Text);
        Assert.Equal(Pk.Ok(PkProcess.Pk(["completion", "bash"])).Text, File.ReadAllText(Path.Combine(prefix, "share", "bash-completion", "completions", "pk")));
        Assert.Equal(Pk.Ok(PkProcess.Pk(["completion", "zsh"])).Text, File.ReadAllText(Path.Combine(prefix, "share", "zsh", "site-functions", "_pk")));
        Assert.Equal(Pk.Ok(PkProcess.Pk(["completion", "fish"])).Text, File.ReadAllText(Path.Combine(prefix, "share", "fish", "vendor_completions.d", "pk.fish")));
    }

    [Fact]
    public void MountHelperPage_RendersWithoutWarnings_NamesEveryOptionTheHelperKnows_AndIsInstalled()
    {
        string page = Installation.RepositoryFile("packaging/mount.pk.8");
        string text = Render(page);
        Assert.Contains("MOUNT.PK(8)", text);
        // The helper's own list of options (its `known=` line), each named in the page.
        string known = File.ReadLines(Installation.RepositoryFile("packaging/mount.pk")).Single(l => l.StartsWith("known=\""));
        string[] options = known["known=\"".Length..^1].Split(", ").Select(o => o.Split('=')[0]).ToArray();
        Assert.Contains("identity", options);
        Assert.All(options, option => Assert.Contains(option, text));

        // install.sh puts it beside pk(1), under both names the helper has, where man finds it.
        string man8 = Path.Combine(Installation.Prefix, "share", "man", "man8");
        using (var gzip = new GZipStream(File.OpenRead(Path.Combine(man8, "mount.pk.8.gz")), CompressionMode.Decompress))
        using (var reader = new StreamReader(gzip, Encoding.UTF8))
            Assert.Equal(File.ReadAllText(page), reader.ReadToEnd());
        Assert.Equal("mount.pk.8.gz", new FileInfo(Path.Combine(man8, "mount.fuse.pk.8.gz")).LinkTarget);
        PkResult man = PkProcess.Run("man", ["-M", Path.Combine(Installation.Prefix, "share", "man"), "8", "mount.fuse.pk"],
            env: new Dictionary<string, string> { ["MANPAGER"] = "cat", ["MANWIDTH"] = "100" });
        Assert.True(man.ExitCode == 0, man.ToString());
        Assert.Contains("pin_versions", man.Text);
    }

    private string WritePage()
    {
        string path = Path.Combine(_directory, "pk.1");
        File.WriteAllBytes(path, Pk.Ok(PkProcess.Pk(["man"])).Stdout);
        return path;
    }

    // Plain text: no bold or underline by overstriking or escape sequences (grotty -c -b -u).
    private static string Render(string page)
    {
        PkResult result = PkProcess.Run("groff", ["-man", "-Tutf8", "-ww", "-P-c", "-P-b", "-P-u", page]);
        Assert.True(result.ExitCode == 0 && result.Stderr.Length == 0, result.ToString());
        return result.Text;
    }

    private static string Which(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, program)).First(File.Exists);

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
