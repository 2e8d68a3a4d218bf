using Polykey.Fs.Linux;

namespace Polykey.Fs.Tests;

/// <summary>
/// One temp directory and one real mount of a <see cref="MemoryTree"/> per test. Dispose
/// unmounts and fails the test if the mount is still in the mount table afterwards.
/// </summary>
public sealed class TestMount : IDisposable
{
    private readonly string _root;
    private readonly (int Id, string Device)? _mountId;

    public TestMount(MemoryTree? tree = null, FuseMountOptions? options = null, string directoryName = "mnt")
    {
        Tree = tree ?? new MemoryTree();
        _root = Directory.CreateTempSubdirectory("pk-fs-test-").FullName;
        Path = System.IO.Path.Combine(_root, directoryName);
        Directory.CreateDirectory(Path);
        try
        {
            Mount = FuseMount.Start(Tree, Path, options ?? new FuseMountOptions { FsName = "pk-test" });
        }
        catch
        {
            Directory.Delete(_root, recursive: true);
            throw;
        }
        try
        {
            Mount.WaitUntilReady();
            _mountId = HangReport.MountAt(Path);
        }
        catch
        {
            // Unmount first: deleting the directory would wait forever on a mount nobody serves.
            Mount.Dispose();
            if (!IsMounted(Path)) Directory.Delete(_root, recursive: true);
            throw;
        }
    }

    public MemoryTree Tree { get; }
    public FuseMount Mount { get; }
    public string Path { get; }

    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    public ShellResult Run(string script) => Shell.Run(script, Path);
    public string Ok(string script) => Shell.Ok(script, Path);
    public void Fails(string script, string message) => Shell.Fails(script, Path, message);

    public static bool IsMounted(string path) => File.ReadLines("/proc/self/mountinfo").Any(line => line.Split(' ')[4] == path.Replace(" ", "\\040"));

    public void Dispose()
    {
        // An unmount that has to wait means something still holds the mount: say what, while it does.
        var hangReport = new Timer(_ => Console.Error.WriteLine(HangReport.For(Path, mount: _mountId)), null, TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan);
        try
        {
            Mount.Dispose();
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException(e.Message + HangReport.For(Path, mount: _mountId), e);
        }
        finally
        {
            hangReport.Dispose();
        }
        var leftBehind = IsMounted(Path);
        if (!leftBehind)
            Directory.Delete(_root, recursive: true);
        Assert.False(leftBehind, $"{Path} is still mounted after Dispose");
    }
}
