using System.Buffers.Binary;
using Polykey.Core.Git;

namespace Polykey.Core.Storage;

/// <summary>
/// Where each git object of a keynode lies, as one sorted run of fixed-width records (object
/// id, data offset, size) searched in place: a reader resuming from an open snapshot finds any
/// of 300,000 objects without building a dictionary of them. Only a hint: every object read is
/// checked against its name (its SHA-1), so a wrong place reads as damage, never as a value.
/// The size's top bit marks an object inside a pack (the offset is then its pack entry's).
/// </summary>
internal sealed class ObjectTable
{
    public const int RecordLength = ObjectIdLength + 8 + 4;
    private const int ObjectIdLength = 20;
    private const uint PackedFlag = 0x8000_0000;

    /// <summary>A place's size field: its length, the top bit set for a packed object; null when it cannot be recorded (2 GiB or more).</summary>
    public static uint? SizeField(TarMember member) =>
        member.Size >= PackedFlag || member.Inline is not null ? null : (uint)member.Size | (member.IsPackedObject ? PackedFlag : 0);

    /// <summary>The place a record describes.</summary>
    public static TarMember Place(ObjectId id, long offset, uint sizeField) =>
        new(id.LoosePath, offset, sizeField & ~PackedFlag, (sizeField & PackedFlag) != 0 ? TarMember.PackedObject : TarHeader.RegularFile);

    private readonly ReadOnlyMemory<byte> _records;

    private ObjectTable(ReadOnlyMemory<byte> records) => _records = records;

    public int Count => _records.Length / RecordLength;

    /// <summary>A table over <paramref name="records"/>; null when they are not one (see <see cref="SortedRecords.IsRun"/>).</summary>
    public static ObjectTable? Over(ReadOnlyMemory<byte> records, bool checkOrder = true) =>
        SortedRecords.IsRun(records.Span, RecordLength, ObjectIdLength, checkOrder) ? new ObjectTable(records) : null;

    /// <summary>Records for every object, sorted by id; false when one cannot be recorded (a member of 2 GiB or more).</summary>
    public static bool TryWrite(IEnumerable<KeyValuePair<ObjectId, TarMember>> objects, Stream output)
    {
        var sorted = new List<(byte[] Id, long Offset, uint Size)>();
        foreach ((ObjectId id, TarMember member) in objects)
        {
            if (SizeField(member) is not { } size) return false;
            sorted.Add((id.ToBytes(), member.DataOffset, size));
        }
        sorted.Sort((a, b) => a.Id.AsSpan().SequenceCompareTo(b.Id));
        Span<byte> record = stackalloc byte[RecordLength];
        foreach ((byte[] id, long offset, uint size) in sorted)
        {
            id.CopyTo(record);
            BinaryPrimitives.WriteInt64LittleEndian(record[ObjectIdLength..], offset);
            BinaryPrimitives.WriteUInt32LittleEndian(record[(ObjectIdLength + 8)..], size);
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
        return Place(id, BinaryPrimitives.ReadInt64LittleEndian(record[ObjectIdLength..]),
            BinaryPrimitives.ReadUInt32LittleEndian(record[(ObjectIdLength + 8)..]));
    }

    private ReadOnlySpan<byte> Record(int index) => _records.Span.Slice(index * RecordLength, RecordLength);

    private ReadOnlySpan<byte> IdAt(int index) => Record(index)[..ObjectIdLength];
}
