using Polykey.Core.Git;

namespace Polykey.Cli.Transports;

/// <summary>
/// Git's loose-object encoding on the transport side: zlib("type size\0content") as a file
/// objects/xx/yyyy of a repository. Objects leave a keynode in exactly this form, so a push
/// writes them into git's object store as they are.
/// </summary>
internal static class LooseObjectFile
{
    /// <summary>An object's name (the SHA-1 of its header and content) and its compressed form.</summary>
    public static (string Hex, byte[] Compressed) Encode(ObjectType type, ReadOnlySpan<byte> content)
    {
        (ObjectId id, byte[] compressed) = LooseObject.Encode(type, content);
        return (id.Hex, compressed);
    }

    /// <summary>As <see cref="Encode(ObjectType, ReadOnlySpan{byte})"/>, for git's name of a kind.</summary>
    public static (string Hex, byte[] Compressed) Encode(string type, ReadOnlySpan<byte> content) => Encode(type switch
    {
        "blob" => ObjectType.Blob,
        "tree" => ObjectType.Tree,
        "commit" => ObjectType.Commit,
        _ => throw new ArgumentException($"no pk history holds a git {type}", nameof(type)),
    }, content);

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
