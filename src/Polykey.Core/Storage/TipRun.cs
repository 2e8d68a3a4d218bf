using Polykey.Core.Git;

namespace Polykey.Core.Storage;

/// <summary>
/// History tips as one sorted run of fixed-width records (16-byte history id, 20-byte commit
/// id), searched in place: what an open snapshot recorded, usable without building a
/// dictionary of 100,000 entries.
/// </summary>
internal sealed class TipRun
{
    public const int RecordLength = HistoryIdLength + 20;
    private const int HistoryIdLength = 16;

    private readonly ReadOnlyMemory<byte> _records;

    private TipRun(ReadOnlyMemory<byte> records) => _records = records;

    public static readonly TipRun Empty = new(ReadOnlyMemory<byte>.Empty);

    public int Count => _records.Length / RecordLength;

    /// <summary>A run over <paramref name="records"/>; null when they are not one (see <see cref="SortedRecords.IsRun"/>).</summary>
    public static TipRun? Over(ReadOnlyMemory<byte> records, bool checkOrder = true) =>
        SortedRecords.IsRun(records.Span, RecordLength, HistoryIdLength, checkOrder) ? new TipRun(records) : null;

    public static void Write(IEnumerable<KeyValuePair<string, ObjectId>> tips, Stream output)
    {
        var sorted = tips.Select(t => (Id: Convert.FromHexString(t.Key), Tip: t.Value.ToBytes())).ToList();
        sorted.Sort((a, b) => a.Id.AsSpan().SequenceCompareTo(b.Id));
        foreach ((byte[] id, byte[] tip) in sorted)
        {
            output.Write(id);
            output.Write(tip);
        }
    }

    public bool TryGet(string historyId, out ObjectId tip)
    {
        tip = default;
        Span<byte> wanted = stackalloc byte[HistoryIdLength];
        if (historyId.Length != 2 * HistoryIdLength || Convert.FromHexString(historyId, wanted, out _, out _) != System.Buffers.OperationStatus.Done)
            return false;
        int found = SortedRecords.Find(_records.Span, RecordLength, wanted);
        if (found < 0) return false;
        tip = ObjectId.FromBytes(_records.Span.Slice(found * RecordLength + HistoryIdLength, RecordLength - HistoryIdLength));
        return true;
    }

    /// <summary>
    /// The history ids of this run whose record <paramref name="other"/> does not hold byte for
    /// byte (absent there, or at another tip): one merge of the two sorted runs, comparing raw
    /// records, so two runs of 100,000 that differ in a few cost no string per history.
    /// </summary>
    public List<string> NotIdenticalIn(TipRun other)
    {
        var differing = new List<string>();
        ReadOnlySpan<byte> mine = _records.Span, theirs = other._records.Span;
        int i = 0, j = 0, count = Count, otherCount = other.Count;
        while (i < count)
        {
            ReadOnlySpan<byte> record = mine.Slice(i * RecordLength, RecordLength);
            int order = j < otherCount ? record[..HistoryIdLength].SequenceCompareTo(theirs.Slice(j * RecordLength, HistoryIdLength)) : -1;
            if (order > 0)
            {
                j++;
                continue;
            }
            if (order < 0 || !record.SequenceEqual(theirs.Slice(j * RecordLength, RecordLength)))
                differing.Add(Convert.ToHexStringLower(record[..HistoryIdLength]));
            i++;
            if (order == 0) j++;
        }
        return differing;
    }

    public IEnumerable<KeyValuePair<string, ObjectId>> All()
    {
        for (int i = 0; i < Count; i++)
        {
            ReadOnlySpan<byte> record = _records.Span.Slice(i * RecordLength, RecordLength);
            yield return new(Convert.ToHexStringLower(record[..HistoryIdLength]), ObjectId.FromBytes(record[HistoryIdLength..]));
        }
    }
}
