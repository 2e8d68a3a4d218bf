using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace Polykey.Cli.Transports;

/// <summary>
/// Git's loose-object encoding on the transport side: zlib("type size\0content") as a file
/// objects/xx/yyyy of a repository. Objects leave a keynode in exactly this form, so a push
/// writes them into git's object store as they are.
/// </summary>
internal static class LooseObjectFile
{
    /// <summary>An object's name (the SHA-1 of its header and content) and its compressed form.</summary>
    public static (string Hex, byte[] Compressed) Encode(string type, ReadOnlySpan<byte> content)
    {
        byte[] header = Encoding.ASCII.GetBytes($"{type} {content.Length}\0");
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha1.AppendData(header);
        sha1.AppendData(content);
        using var compressed = new MemoryStream(header.Length + content.Length + 256);
        using (var z = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            z.Write(header);
            z.Write(content);
        }
        return (Convert.ToHexStringLower(sha1.GetHashAndReset()), compressed.ToArray());
    }

    /// <summary>Stores an object in a repository unless it is there loose already; written whole, then renamed into place.</summary>
    public static void Store(string gitDir, string hex, byte[] compressed)
    {
        string path = Path.Combine(gitDir, "objects", hex[..2], hex[2..]);
        if (File.Exists(path)) return;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temp = path + ".tmp-" + Environment.ProcessId;
        File.WriteAllBytes(temp, compressed);
        File.Move(temp, path, overwrite: true);
    }
}
