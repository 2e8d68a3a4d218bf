namespace Polykey.Core.Git;

/// <summary>
/// The header of one pack entry: a type in bits 4-6 of the first byte and a size in little-endian
/// groups of 4, then 7, bits, each byte's high bit saying another follows. Only whole objects
/// (commit 1, tree 2, blob 3) are read: a keynode's packs hold no deltas (6, 7) and no tags (4).
/// </summary>
internal static class PackEntry
{
    // 4 + 7 * 9 bits cover any size a long can hold; more bytes is a malformed header.
    public const int MaxHeaderBytes = 10;

    public static byte[] Header(ObjectType type, long size)
    {
        var header = new List<byte>(MaxHeaderBytes);
        int code = type switch { ObjectType.Commit => 1, ObjectType.Tree => 2, _ => 3 };
        byte first = (byte)(code << 4 | (int)(size & 0x0f));
        size >>= 4;
        while (size > 0)
        {
            header.Add((byte)(first | 0x80));
            first = (byte)(size & 0x7f);
            size >>= 7;
        }
        header.Add(first);
        return header.ToArray();
    }

    /// <summary>The entry's kind and size, read a byte at a time from <paramref name="input"/>; null with <paramref name="refused"/> saying why.</summary>
    public static (ObjectType Type, long Size)? Read(Stream input, out string refused)
    {
        refused = "its pack entry header is malformed";
        int b = input.ReadByte();
        if (b < 0) return null;
        int code = b >> 4 & 7;
        long size = b & 0x0f;
        int shift = 4;
        for (int read = 1; (b & 0x80) != 0; read++)
        {
            if (read == MaxHeaderBytes || (b = input.ReadByte()) < 0) return null;
            if (shift > 56 && (b & 0x7f) >> (63 - shift) != 0) return null;
            size |= (long)(b & 0x7f) << shift;
            shift += 7;
        }
        ObjectType? type = code switch { 1 => ObjectType.Commit, 2 => ObjectType.Tree, 3 => ObjectType.Blob, _ => null };
        if (type is null)
        {
            refused = code is 6 or 7 ? "it is a delta entry; a keynode's packs hold whole objects only"
                : code == 4 ? "it is a tag entry; a keynode holds commits, trees and blobs only"
                : $"its pack entry has the unknown type {code}";
            return null;
        }
        return (type.Value, size);
    }
}
