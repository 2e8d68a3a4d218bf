using System.Security.Cryptography;
using Polykey.Cli.Native;
using Polykey.Core;

namespace Polykey.Cli;

/// <summary>
/// A private directory on a memory-backed filesystem (tmpfs), for an editor to work in
/// without decrypted bytes reaching a disk. Wipes and deletes everything on dispose.
/// </summary>
internal sealed class MemoryDirectory : IDisposable
{
    private MemoryDirectory(string path) => Path = path;

    public string Path { get; }

    public static MemoryDirectory Create()
    {
        string[] candidates = [Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") ?? "", "/dev/shm", "/run/shm"];
        foreach (string root in candidates.Where(c => c.Length > 0 && Directory.Exists(c)))
        {
            if (!LibC.IsInMemoryFileSystem(root)) continue;
            string path = System.IO.Path.Combine(root, "pk-edit-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)));
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return new MemoryDirectory(path);
        }
        throw PolykeyException.Failed("no memory-backed directory (tmpfs) to edit in: neither $XDG_RUNTIME_DIR nor /dev/shm is tmpfs",
            "pk edit refuses to put a decrypted secret on disk; use 'pk get' and 'pk set' instead");
    }

    public void Dispose()
    {
        if (!Directory.Exists(Path)) return;
        foreach (string file in Directory.EnumerateFiles(Path, "*", SearchOption.AllDirectories))
        {
            try
            {
                long length = new FileInfo(file).Length;
                using (var stream = new FileStream(file, FileMode.Open, FileAccess.Write))
                    stream.Write(new byte[length]);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        Directory.Delete(Path, recursive: true);
    }
}
