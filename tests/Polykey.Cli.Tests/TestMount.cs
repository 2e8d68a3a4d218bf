namespace Polykey.Cli.Tests;

/// <summary>A real `pk mount` of a test keynode on a fresh directory; unmounted (and checked gone) on dispose.</summary>
public sealed class TestMount : IDisposable
{
    public TestMount(TestKeynode node, params string[] options)
    {
        Path = System.IO.Path.Combine(node.Directory, "mnt-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path);
        Pk.Ok(PkProcess.Pk(node.Args(["mount", Path, .. options])));
        Assert.True(IsMounted(Path), $"{Path} is not mounted after pk mount returned");
    }

    /// <summary>The default (write-back) mount, or one with --pin-versions.</summary>
    public static TestMount InMode(TestKeynode node, bool pinVersions) => pinVersions ? new TestMount(node, "--pin-versions") : new TestMount(node);

    public string Path { get; }

    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    public static bool IsMounted(string path) =>
        File.ReadAllLines("/proc/self/mounts").Any(l => l.Split(' ')[1] == path.Replace(" ", "\\040"));

    public void Dispose()
    {
        PkResult result = PkProcess.Pk(["unmount", Path]);
        for (int i = 0; i < 100 && IsMounted(Path); i++) Thread.Sleep(50);
        if (IsMounted(Path))
        {
            PkProcess.Run("fusermount3", ["-u", "-z", Path]);
            Assert.Fail($"pk unmount left {Path} mounted: {result}");
        }
        // The daemon has saved everything by the time it exits; give it a moment.
        for (int i = 0; i < 100 && PkProcess.Run("pgrep", ["-f", $"mount {Path}"]).ExitCode == 0; i++) Thread.Sleep(50);
    }
}
