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

    /// <summary>
    /// Inflates and checks an object; throws when it is not the object its name says. The size
    /// its header declares is checked before anything is inflated: at most
    /// <paramref name="maxContent"/>, and at most what its stored size can honestly hold (pk
    /// stores ciphertext and short text, which zlib barely shrinks), so a small member cannot
    /// inflate into gigabytes.
    /// </summary>
    public static (ObjectType Type, byte[] Content) Decode(ObjectId expected, byte[] compressed, long maxContent)
    {
        long honest = Math.Max(MinInflateAllowance, compressed.LongLength * MaxInflateRatio);
        try
        {
            using var input = new ZLibStream(new MemoryStream(compressed, writable: false), CompressionMode.Decompress);
            byte[] header = ReadHeader(input) ?? throw Damaged(expected, "its header is malformed");
            (ObjectType type, long size) = ParseHeader(header) ?? throw Damaged(expected, "its header is malformed");
            if (size > maxContent || size > honest)
                throw Damaged(expected, $"it claims {size} bytes, more than an object of its kind and stored size may hold");
            byte[] content = new byte[size];
            input.ReadExactly(content);
            if (input.ReadByte() != -1) throw Damaged(expected, "it is longer than its header says");
            using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
            sha1.AppendData(header);
            sha1.AppendData(content);
            if (ObjectId.FromBytes(sha1.GetHashAndReset()) != expected) throw Damaged(expected, "its hash does not match its name");
            return (type, content);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            throw Damaged(expected, "it does not inflate");
        }
    }

    /// <summary>Decodes with the largest bound any object may have (a blob of the largest value).</summary>
    public static (ObjectType Type, byte[] Content) Decode(ObjectId expected, byte[] compressed) =>
        Decode(expected, compressed, MaxObjectBytes(ObjectType.Blob));

    /// <summary>The most an object of a kind may hold: a value plus its message overhead, or a few KiB of text.</summary>
    public static long MaxObjectBytes(ObjectType type) =>
        type == ObjectType.Blob ? Limits.MaxValueBytes + Limits.MaxMetadataObjectBytes : Limits.MaxMetadataObjectBytes;

    private const long MinInflateAllowance = 64 << 10;
    private const long MaxInflateRatio = 8;
    private const int MaxHeaderLength = 32;

    // "type size\0", read a byte at a time so nothing past it is inflated yet.
    private static byte[]? ReadHeader(Stream input)
    {
        var header = new List<byte>(MaxHeaderLength);
        while (header.Count < MaxHeaderLength)
        {
            int b = input.ReadByte();
            if (b < 0) return null;
            header.Add((byte)b);
            if (b == 0) return header.ToArray();
        }
        return null;
    }

    private static (ObjectType, long)? ParseHeader(byte[] header)
    {
        string text = Encoding.ASCII.GetString(header, 0, header.Length - 1);
        int space = text.IndexOf(' ');
        if (space < 0) return null;
        ObjectType? type = text[..space] switch
        {
            "blob" => ObjectType.Blob,
            "tree" => ObjectType.Tree,
            "commit" => ObjectType.Commit,
            _ => null,
        };
        string digits = text[(space + 1)..];
        if (type is null || digits.Length is 0 or > 18 || (digits.Length > 1 && digits[0] == '0')
            || !long.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long size))
            return null;
        return (type.Value, size);
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
