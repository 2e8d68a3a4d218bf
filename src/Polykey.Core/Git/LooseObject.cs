using System.IO.Compression;
using System.Text;

namespace Polykey.Core.Git;

public enum ObjectType { Blob, Tree, Commit }

/// <summary>Git's loose-object encoding: zlib("type size\0content"), named by the SHA-1 of the uncompressed bytes.</summary>
public static class LooseObject
{
    public static (ObjectId Id, byte[] Compressed) Encode(ObjectType type, ReadOnlySpan<byte> content)
    {
        byte[] header = Header(type, content.Length);
        // Ciphertext does not shrink: room for all of it up front, so a large value is not copied while the stream grows.
        using var compressed = new MemoryStream(header.Length + content.Length + content.Length / 64 + 256);
        using (var z = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            z.Write(header);
            z.Write(content);
        }
        return (IdOf(type, content), compressed.ToArray());
    }

    /// <summary>As <see cref="Encode"/>, for content that cannot shrink (a value's ciphertext): stored, not deflated.</summary>
    public static (ObjectId Id, byte[] Stored) EncodeStored(ObjectType type, ReadOnlySpan<byte> content) =>
        (IdOf(type, content), StoredZlib.Wrap(Header(type, content.Length), content));

    private static byte[] Header(ObjectType type, int length) => HeaderOf(type, length);

    /// <summary>Git's "type size\0": what an object's name hashes before its content, loose or packed.</summary>
    internal static byte[] HeaderOf(ObjectType type, long length) =>
        Encoding.ASCII.GetBytes($"{Name(type)} {length.ToString(System.Globalization.CultureInfo.InvariantCulture)}\0");

    /// <summary>An object's name alone, without compressing it.</summary>
    public static ObjectId IdOf(ObjectType type, ReadOnlySpan<byte> content)
    {
        byte[] header = Header(type, content.Length);
        using Digests.Incremental sha1 = Digests.Sha1Of(header.Length + content.Length);
        sha1.Append(header);
        sha1.Append(content);
        return ObjectId.FromBytes(sha1.Finish());
    }

    /// <summary>
    /// Inflates and checks an object; throws when it is not the object its name says. The size
    /// its header declares is checked before anything is inflated (see <see cref="ObjectStream"/>),
    /// so a small member cannot inflate into gigabytes.
    /// </summary>
    public static (ObjectType Type, byte[] Content) Decode(ObjectId expected, byte[] compressed, long maxContent)
    {
        using ObjectStream stream = ObjectStream.Open(expected, new MemoryStream(compressed, writable: false), compressed.LongLength, maxContent);
        byte[] content = new byte[stream.ContentLength];
        stream.ReadExactly(content);
        stream.Finish();
        return (stream.Type, content);
    }

    /// <summary>
    /// An object's kind and declared size, from its header alone (bounded as in
    /// <see cref="Decode(ObjectId, byte[], long)"/>); the content is neither inflated nor checked.
    /// </summary>
    public static (ObjectType Type, long Size) Header(ObjectId expected, byte[] compressed)
    {
        using ObjectStream stream = ObjectStream.Open(expected, new MemoryStream(compressed, writable: false), compressed.LongLength, MaxObjectBytes(ObjectType.Blob));
        return (stream.Type, stream.ContentLength);
    }

    /// <summary>Decodes with the largest bound any object may have (a blob of the largest value).</summary>
    public static (ObjectType Type, byte[] Content) Decode(ObjectId expected, byte[] compressed) =>
        Decode(expected, compressed, MaxObjectBytes(ObjectType.Blob));

    /// <summary>The most an object of a kind may hold: a value plus its message overhead, or a few KiB of text.</summary>
    public static long MaxObjectBytes(ObjectType type) =>
        type == ObjectType.Blob ? Limits.MaxValueBytes + Limits.MaxMetadataObjectBytes : Limits.MaxMetadataObjectBytes;

    private static string Name(ObjectType type) => type switch
    {
        ObjectType.Blob => "blob",
        ObjectType.Tree => "tree",
        _ => "commit",
    };

}
