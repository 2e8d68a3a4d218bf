using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace Polykey.Core.Git;

public enum ObjectType { Blob, Tree, Commit }

/// <summary>Git's loose-object encoding: zlib("type size\0content"), named by the SHA-1 of the uncompressed bytes.</summary>
internal static class LooseObject
{
    public static (ObjectId Id, byte[] Compressed) Encode(ObjectType type, ReadOnlySpan<byte> content)
    {
        byte[] header = Encoding.ASCII.GetBytes($"{Name(type)} {content.Length}\0");
        byte[] raw = new byte[header.Length + content.Length];
        header.CopyTo(raw, 0);
        content.CopyTo(raw.AsSpan(header.Length));
        var id = ObjectId.FromBytes(Digests.Sha1(raw));
        using var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            z.Write(raw);
        return (id, compressed.ToArray());
    }

    /// <summary>Inflates and checks an object; throws when it is not the object its name says.</summary>
    public static (ObjectType Type, byte[] Content) Decode(ObjectId expected, byte[] compressed)
    {
        byte[] raw;
        try
        {
            using var input = new ZLibStream(new MemoryStream(compressed), CompressionMode.Decompress);
            using var output = new MemoryStream();
            input.CopyTo(output);
            raw = output.ToArray();
        }
        catch (InvalidDataException)
        {
            throw Damaged(expected, "it does not inflate");
        }
        if (ObjectId.FromBytes(Digests.Sha1(raw)) != expected) throw Damaged(expected, "its hash does not match its name");
        int nul = Array.IndexOf(raw, (byte)0);
        int space = Array.IndexOf(raw, (byte)' ');
        if (nul < 0 || space < 0 || space > nul) throw Damaged(expected, "its header is malformed");
        ObjectType type = Encoding.ASCII.GetString(raw, 0, space) switch
        {
            "blob" => ObjectType.Blob,
            "tree" => ObjectType.Tree,
            "commit" => ObjectType.Commit,
            _ => throw Damaged(expected, "it has an unknown type"),
        };
        return (type, raw[(nul + 1)..]);
    }

    private static string Name(ObjectType type) => type switch
    {
        ObjectType.Blob => "blob",
        ObjectType.Tree => "tree",
        _ => "commit",
    };

    private static PolykeyException Damaged(ObjectId id, string why) =>
        PolykeyException.Failed($"git object {id} in the keynode is damaged: {why}", "run 'pk verify' for a full report");
}
