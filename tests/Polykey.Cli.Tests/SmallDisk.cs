namespace Polykey.Cli.Tests;

/// <summary>
/// A full disk for write tests: a tiny tmpfs holding a copy of a keynode and a filler file that
/// leaves only <c>free</c> bytes. Needs root (as CI is); elsewhere <see cref="TryCreate"/> gives null.
/// </summary>
internal sealed class SmallDisk : IDisposable
{
    private readonly string _mount;

    private SmallDisk(string mount, string keynode, string filler)
    {
        _mount = mount;
        Keynode = keynode;
        Filler = filler;
    }

    public string Keynode { get; }
    public string Filler { get; }

    public static SmallDisk? TryCreate(string directory, string keynode, int sizeKiB, long free)
    {
        string mount = Path.Combine(directory, "small");
        Directory.CreateDirectory(mount);
        if (!ReadOnlyMount.TryTmpfs(mount, $"{sizeKiB}k"))
        {
            Assert.NotEqual("root", Environment.UserName); // only a non-root developer may skip this
            return null;
        }
        string copy = Path.Combine(mount, Path.GetFileName(keynode));
        File.Copy(keynode, copy);
        string filler = Path.Combine(mount, "filler");
        File.WriteAllBytes(filler, new byte[sizeKiB * 1024L - new FileInfo(copy).Length - free]);
        return new SmallDisk(mount, copy, filler);
    }

    public void Dispose() => ReadOnlyMount.Unmount(_mount);
}
