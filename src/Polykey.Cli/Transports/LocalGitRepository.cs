using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Polykey.Core;

namespace Polykey.Cli.Transports;

/// <summary>
/// A bare git repository on this machine read straight from git's files: refs (loose files,
/// then packed-refs, as git's files backend keeps them) and loose objects. Anything else
/// (reftable refs, packed objects) is left to the git client. What it reads is as hostile as
/// anything a relay holds: every file is bounded before it is read, and nothing is trusted
/// (the receiver checks each object's name, kind, size and signature).
/// </summary>
internal static class LocalGitRepository
{
    private const int MaxLooseRefBytes = 4096;

    /// <summary>
    /// The repository a relay URL names when it is a bare repository on this machine that this
    /// process can read in place (file://PATH or an absolute path); null for anything else.
    /// </summary>
    public static string? Locate(string url)
    {
        string path;
        if (url.StartsWith("file://", StringComparison.Ordinal)) path = url["file://".Length..];
        else if (url.StartsWith('/')) path = url;
        else return null;
        // git reads file:// paths as they are written (no %-decoding, no host part): so does this.
        if (path.Length == 0 || path[0] != '/' || path.Contains('\0')) return null;
        path = path.TrimEnd('/');
        if (path.Length == 0) return null;
        bool bare = File.Exists(Path.Combine(path, "HEAD")) && Directory.Exists(Path.Combine(path, "objects"))
            && Directory.Exists(Path.Combine(path, "refs"));
        // A reftable repository keeps its refs in a format this reader does not parse.
        return bare && !Directory.Exists(Path.Combine(path, "reftable")) ? path : null;
    }

    /// <summary>
    /// Refs under <paramref name="prefixes"/> (each ending in '/' or naming one ref), as ref name
    /// to 40-hex object id, at most <see cref="GitRelay.MaxRefs"/>. A loose ref wins over its packed copy, as in git.
    /// </summary>
    public static Dictionary<string, string> ReadRefs(string gitDir, IReadOnlyList<string> prefixes, string location)
    {
        var refs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string prefix in prefixes)
        {
            string path = Path.Combine(gitDir, prefix);
            if (prefix.EndsWith('/'))
            {
                if (!Directory.Exists(path)) continue;
                foreach (string file in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories))
                {
                    string name = prefix + Path.GetRelativePath(path, file).Replace(Path.DirectorySeparatorChar, '/');
                    if (name.EndsWith(".lock", StringComparison.Ordinal)) continue; // a ref being written
                    if (ReadLooseRef(file, location) is { } hex) Add(refs, name, hex, location);
                }
            }
            else if (ReadLooseRef(path, location) is { } hex) Add(refs, prefix, hex, location);
        }
        // Read after the loose refs: git packs a ref before it deletes the loose file, so a ref
        // moving into packed-refs meanwhile is seen in one or the other.
        foreach ((string name, string hex) in PackedRefs(gitDir, location))
            if (prefixes.Any(p => p.EndsWith('/') ? name.StartsWith(p, StringComparison.Ordinal) : name == p) && !refs.ContainsKey(name))
                Add(refs, name, hex, location);
        return refs;
    }

    private static void Add(Dictionary<string, string> refs, string name, string hex, string location)
    {
        if (refs.Count >= GitRelay.MaxRefs && !refs.ContainsKey(name))
            throw GitRelay.TooManyRefs(location);
        refs[name] = hex;
    }

    // A loose ref: 40 hex and a newline. A symbolic ref ("ref: …") is no history of pk's, so it is not offered.
    private static string? ReadLooseRef(string file, string location)
    {
        // Null: deleted (packed or removed) since it was listed.
        if (ReadWhole(file, MaxLooseRefBytes, location, "a ref file") is not { } content) return null;
        string text = Encoding.ASCII.GetString(content).TrimEnd('\n');
        if (text.StartsWith("ref: ", StringComparison.Ordinal)) return null;
        if (!IsHex40(text)) throw PolykeyException.Failed($"{location}: a ref file pk cannot read");
        return text;
    }

    private static IEnumerable<(string Name, string Hex)> PackedRefs(string gitDir, string location)
    {
        if (ReadWhole(Path.Combine(gitDir, "packed-refs"), GitProcess.MaxOutputBytes, location, "packed-refs") is not { } content) yield break;
        foreach (string line in Encoding.UTF8.GetString(content).Split('\n'))
        {
            // "# pack-refs with: …" heads the file; "^<hex>" lines peel the tag above them.
            if (line.Length == 0 || line[0] is '#' or '^') continue;
            if (line.Length < 42 || line[40] != ' ' || !IsHex40(line[..40])) throw PolykeyException.Failed($"{location}: a packed ref pk cannot read");
            yield return (line[41..], line[..40]);
        }
    }

    /// <summary>
    /// A loose object's file as stored (zlib), or null when the object is not loose here (it may
    /// be packed). A file larger than <paramref name="maxStoredBytes"/> is an error.
    /// </summary>
    public static byte[]? ReadLooseObject(string gitDir, string hex, long maxStoredBytes, string location)
    {
        if (!IsHex40(hex)) throw new ArgumentException("an object id is 40 hex digits", nameof(hex));
        return ReadWhole(Path.Combine(gitDir, "objects", hex[..2], hex[2..]), maxStoredBytes, location, $"object {hex}");
    }

    /// <summary>
    /// A regular file's bytes, or null when it does not exist. Whoever writes the relay chooses
    /// what each name is: a symbolic link is refused (git makes none there), and a FIFO or
    /// device is refused without blocking (opened non-blocking, then found not seekable).
    /// </summary>
    private static byte[]? ReadWhole(string path, long maxBytes, string location, string what)
    {
        int fd = Native.LibC.open(path, Native.LibC.O_RDONLY | Native.LibC.O_NONBLOCK | Native.LibC.O_NOFOLLOW | Native.LibC.O_CLOEXEC);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno is Native.LibC.ENOENT or Native.LibC.ENOTDIR) return null;
            throw PolykeyException.Failed(errno == Native.LibC.ELOOP
                ? $"{location}: {what} is a symbolic link, which git never makes there"
                : $"{location}: cannot open {what} (errno {errno})");
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            using var stream = new FileStream(handle, FileAccess.Read, bufferSize: 0);
            if (!stream.CanSeek) throw PolykeyException.Failed($"{location}: {what} is not a regular file");
            if (stream.Length > maxBytes) throw PolykeyException.Failed($"{location}: {what} holds {stream.Length} bytes, more than a pk relay's may");
            byte[] content = new byte[stream.Length];
            stream.ReadExactly(content);
            return content;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw PolykeyException.Failed($"{location}: cannot read {what}", null, e);
        }
        finally
        {
            handle.Dispose();
        }
    }

    private static bool IsHex40(string text) => text.Length == 40 && !text.AsSpan().ContainsAnyExcept("0123456789abcdef");
}
