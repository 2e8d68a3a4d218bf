using System.Buffers.Binary;

namespace Polykey.Core.Git;

/// <summary>Where one whole object lies in a pack: its entry's offset from the pack's start and the entry's length.</summary>
internal readonly record struct PackedPlace(ObjectId Id, long Offset, long Length);

/// <summary>
/// Git's pack index, version 2: a fan-out table, the sorted object ids, their CRC-32s and
/// offsets (31-bit, or an index into a table of 64-bit ones), the pack's checksum and the
/// index's own. Every count and offset is read from a hostile file: each is bounded by the
/// bytes actually present before it is used, so a tiny member cannot claim 2^31 objects.
/// </summary>
internal static class PackIndex
{
    private static readonly byte[] Magic = [0xff, (byte)'t', (byte)'O', (byte)'c', 0, 0, 0, 2];
    private const int FanoutAt = 8;
    private const int TableAt = FanoutAt + 256 * 4;
    private const int IdBytes = 20;
    private const int PerObjectBytes = IdBytes + 4 + 4;
    private const int TrailerBytes = 2 * IdBytes;
    /// <summary>The smallest pack: "PACK", version and count (12 bytes), then its SHA-1 (20).</summary>
    public const int PackHeaderBytes = 12;
    public const int PackTrailerBytes = IdBytes;

    /// <summary>
    /// The places an index names in a pack of <paramref name="packLength"/> bytes, sorted by
    /// offset, each entry's length running to the next (the last to the pack's checksum); null
    /// with <paramref name="refused"/> saying why when anything does not add up. The entries
    /// must cover the pack from its header to its checksum, with nothing between them.
    /// </summary>
    public static List<PackedPlace>? TryRead(ReadOnlySpan<byte> index, long packLength, out byte[] packChecksum, out string refused)
    {
        packChecksum = [];
        refused = "";
        if (index.Length < TableAt + TrailerBytes || !index[..Magic.Length].SequenceEqual(Magic))
        {
            refused = "not a version 2 pack index";
            return null;
        }
        uint previous = 0;
        for (int b = 0; b < 256; b++)
        {
            uint count = BinaryPrimitives.ReadUInt32BigEndian(index[(FanoutAt + 4 * b)..]);
            if (count < previous)
            {
                refused = "its fan-out table decreases";
                return null;
            }
            previous = count;
        }
        // Bounded by the bytes present before anything is sized by it.
        long objects = previous;
        long rest = index.Length - TableAt - TrailerBytes - objects * PerObjectBytes;
        if (objects == 0 || objects > Limits.MaxPackObjects || rest < 0 || rest % 8 != 0 || rest / 8 > objects)
        {
            refused = $"it claims {objects} objects, which its {index.Length} bytes cannot hold (or none, or more than {Limits.MaxPackObjects})";
            return null;
        }
        int n = (int)objects, large = (int)(rest / 8);
        if (!Digests.Sha1(index[..^IdBytes]).AsSpan().SequenceEqual(index[^IdBytes..]))
        {
            refused = "its checksum does not match";
            return null;
        }
        if (packLength < PackHeaderBytes + PackTrailerBytes + n)
        {
            refused = $"its pack ({packLength} bytes) is too short for {n} objects";
            return null;
        }
        ReadOnlySpan<byte> ids = index.Slice(TableAt, n * IdBytes);
        ReadOnlySpan<byte> offsets = index.Slice(TableAt + n * (IdBytes + 4), n * 4);
        ReadOnlySpan<byte> largeOffsets = index.Slice(TableAt + n * PerObjectBytes, large * 8);
        var places = new List<PackedPlace>(n);
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<byte> id = ids.Slice(i * IdBytes, IdBytes);
            if (i > 0 && id.SequenceCompareTo(ids.Slice((i - 1) * IdBytes, IdBytes)) <= 0)
            {
                refused = "its object ids are not sorted and distinct";
                return null;
            }
            int first = id[0];
            uint below = first == 0 ? 0 : BinaryPrimitives.ReadUInt32BigEndian(index[(FanoutAt + 4 * (first - 1))..]);
            uint upTo = BinaryPrimitives.ReadUInt32BigEndian(index[(FanoutAt + 4 * first)..]);
            if (i < below || i >= upTo)
            {
                refused = "its fan-out table does not match its object ids";
                return null;
            }
            uint small = BinaryPrimitives.ReadUInt32BigEndian(offsets[(i * 4)..]);
            long offset = small;
            if ((small & 0x8000_0000) != 0)
            {
                uint k = small & 0x7fff_ffff;
                ulong wide = k < large ? BinaryPrimitives.ReadUInt64BigEndian(largeOffsets[(int)(k * 8)..]) : ulong.MaxValue;
                offset = wide > long.MaxValue ? -1 : (long)wide;
            }
            if (offset < PackHeaderBytes || offset >= packLength - PackTrailerBytes)
            {
                refused = $"object {i} lies outside its pack";
                return null;
            }
            places.Add(new PackedPlace(ObjectId.FromBytes(id), offset, 0));
        }
        places.Sort((a, b) => a.Offset.CompareTo(b.Offset));
        if (places[0].Offset != PackHeaderBytes)
        {
            refused = "its first object does not follow the pack header";
            return null;
        }
        for (int i = 0; i < n; i++)
        {
            long end = i + 1 < n ? places[i + 1].Offset : packLength - PackTrailerBytes;
            if (end <= places[i].Offset)
            {
                refused = "two of its objects share an offset";
                return null;
            }
            places[i] = places[i] with { Length = end - places[i].Offset };
        }
        packChecksum = index.Slice(index.Length - TrailerBytes, IdBytes).ToArray();
        return places;
    }

    /// <summary>The index of a pack whose entries are <paramref name="entries"/> (any order).</summary>
    public static byte[] Write(IReadOnlyList<(ObjectId Id, long Offset, uint Crc)> entries, ReadOnlySpan<byte> packChecksum)
    {
        var sorted = entries.Select(e => (Id: e.Id.ToBytes(), e.Offset, e.Crc)).ToList();
        sorted.Sort((a, b) => a.Id.AsSpan().SequenceCompareTo(b.Id));
        int n = sorted.Count;
        int large = sorted.Count(e => e.Offset > int.MaxValue);
        byte[] index = new byte[TableAt + n * PerObjectBytes + large * 8 + TrailerBytes];
        Magic.CopyTo(index, 0);
        int[] counts = new int[256];
        foreach (var e in sorted) counts[e.Id[0]]++;
        uint running = 0;
        for (int b = 0; b < 256; b++)
        {
            running += (uint)counts[b];
            BinaryPrimitives.WriteUInt32BigEndian(index.AsSpan(FanoutAt + 4 * b), running);
        }
        int nextLarge = 0;
        for (int i = 0; i < n; i++)
        {
            sorted[i].Id.CopyTo(index, TableAt + i * IdBytes);
            BinaryPrimitives.WriteUInt32BigEndian(index.AsSpan(TableAt + n * IdBytes + i * 4), sorted[i].Crc);
            uint small = (uint)sorted[i].Offset;
            if (sorted[i].Offset > int.MaxValue)
            {
                BinaryPrimitives.WriteUInt64BigEndian(index.AsSpan(TableAt + n * PerObjectBytes + nextLarge * 8), (ulong)sorted[i].Offset);
                small = 0x8000_0000 | (uint)nextLarge++;
            }
            BinaryPrimitives.WriteUInt32BigEndian(index.AsSpan(TableAt + n * (IdBytes + 4) + i * 4), small);
        }
        packChecksum.CopyTo(index.AsSpan(index.Length - TrailerBytes));
        Digests.Sha1(index.AsSpan(0, index.Length - IdBytes)).CopyTo(index, index.Length - IdBytes);
        return index;
    }
}
