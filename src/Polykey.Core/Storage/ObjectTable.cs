using System.Buffers.Binary;
using Polykey.Core.Git;

namespace Polykey.Core.Storage;

/// <summary>
/// Where each git object of a keynode lies, as one sorted run of fixed-width records (object
/// id, data offset, size) searched in place: a reader resuming from an open snapshot finds any
/// of 300,000 objects without building a dictionary of them. Only a hint: every object read is
/// checked against its name (its SHA-1), so a wrong place reads as damage, never as a value.
/// </summary>
internal sealed class ObjectTable
{
    public const int RecordLength = ObjectIdLength + 8 + 4;
    private const int ObjectIdLength = 20;

    private readonly ReadOnlyMemory<byte> _records;

    private ObjectTable(ReadOnlyMemory<byte> records) => _records = records;

    public int Count => _records.Length / RecordLength;

    /// <summary>A table over <paramref name="records"/>; null when its records are not sorted and distinct.</summary>
    public static ObjectTable? Over(ReadOnlyMemory<byte> records)
    {
        return SortedRecords.AreSorted(records.Span, RecordLength, ObjectIdLength) ? new ObjectTable(records) : null;
    }

    /// <summary>Records for every object, sorted by id; false when one cannot be recorded (a member larger than 4 GiB).</summary>
    public static bool TryWrite(IEnumerable<KeyValuePair<ObjectId, TarMember>> objects, Stream output)
    {
        var sorted = new List<(byte[] Id, long Offset, long Size)>();
        foreach ((ObjectId id, TarMember member) in objects)
        {
            if (member.Size > uint.MaxValue || member.Inline is not null) return false;
            sorted.Add((id.ToBytes(), member.DataOffset, member.Size));
        }
        sorted.Sort((a, b) => a.Id.AsSpan().SequenceCompareTo(b.Id));
        Span<byte> record = stackalloc byte[RecordLength];
        foreach ((byte[] id, long offset, long size) in sorted)
        {
            id.CopyTo(record);
            BinaryPrimitives.WriteInt64LittleEndian(record[ObjectIdLength..], offset);
            BinaryPrimitives.WriteUInt32LittleEndian(record[(ObjectIdLength + 8)..], (uint)size);
            output.Write(record);
        }
        return true;
    }

    public bool TryGet(ObjectId id, out TarMember member)
    {
        Span<byte> wanted = stackalloc byte[ObjectIdLength];
        if (Convert.FromHexString(id.Hex, wanted, out _, out int written) != System.Buffers.OperationStatus.Done || written != ObjectIdLength)
        {
            member = default;
            return false;
        }
        int found = SortedRecords.Find(_records.Span, RecordLength, wanted);
        member = found < 0 ? default : MemberAt(id, found);
        return found >= 0;
    }

    public bool Contains(ObjectId id) => TryGet(id, out _);

    public IEnumerable<KeyValuePair<ObjectId, TarMember>> All()
    {
        for (int i = 0; i < Count; i++)
        {
            var id = ObjectId.FromBytes(IdAt(i));
            yield return new(id, MemberAt(id, i));
        }
    }

    private TarMember MemberAt(ObjectId id, int index)
    {
        ReadOnlySpan<byte> record = Record(index);
        return new TarMember(id.LoosePath, BinaryPrimitives.ReadInt64LittleEndian(record[ObjectIdLength..]),
            BinaryPrimitives.ReadUInt32LittleEndian(record[(ObjectIdLength + 8)..]));
    }

    private ReadOnlySpan<byte> Record(int index) => _records.Span.Slice(index * RecordLength, RecordLength);

    private ReadOnlySpan<byte> IdAt(int index) => Record(index)[..ObjectIdLength];
}
