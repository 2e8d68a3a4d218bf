using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace Polykey.Core.Git;

/// <summary>An object to pack: its name, kind and (uncompressed) content.</summary>
internal readonly record struct WholeObject(ObjectId Id, ObjectType Type, byte[] Content);

/// <summary>
/// Writes git packfiles (version 2) of whole objects, no deltas, with their version 2 index:
/// what git itself reads, verifies (`git verify-pack`, `git fsck`) and what a keynode's readers
/// take (docs/keynode-format.md §4.3). A pack is named by its checksum, as git names the packs it writes.
/// </summary>
internal static class PackWriter
{
    /// <summary>The pack and its index; each object once (the first of a name), in the order given.</summary>
    public static (string Name, byte[] Pack, byte[] Index) Write(IEnumerable<WholeObject> objects)
    {
        var seen = new HashSet<ObjectId>();
        var unique = objects.Where(o => seen.Add(o.Id)).ToList();
        if (unique.Count is 0 or > Limits.MaxPackObjects) throw new ArgumentOutOfRangeException(nameof(objects), "a pack holds 1 to MaxPackObjects objects");
        // Ciphertext does not shrink: room for all of it up front.
        using var pack = new MemoryStream(checked((int)Math.Min(Array.MaxLength, 64 + unique.Sum(o => (long)o.Content.Length + o.Content.Length / 64 + 32))));
        Span<byte> header = stackalloc byte[12];
        "PACK"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], 2);
        BinaryPrimitives.WriteUInt32BigEndian(header[8..], (uint)unique.Count);
        pack.Write(header);
        var entries = new List<(ObjectId, long, uint)>(unique.Count);
        foreach (WholeObject o in unique)
        {
            long at = pack.Position;
            pack.Write(PackEntry.Header(o.Type, o.Content.Length));
            using (var z = new ZLibStream(pack, CompressionLevel.Optimal, leaveOpen: true)) z.Write(o.Content);
            uint crc = Crc32.HashToUInt32(pack.GetBuffer().AsSpan((int)at, (int)(pack.Position - at)));
            entries.Add((o.Id, at, crc));
        }
        byte[] checksum = Digests.Sha1(pack.GetBuffer().AsSpan(0, (int)pack.Length));
        pack.Write(checksum);
        return (Convert.ToHexStringLower(checksum), pack.ToArray(), PackIndex.Write(entries, checksum));
    }
}
