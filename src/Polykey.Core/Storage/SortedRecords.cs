namespace Polykey.Core.Storage;

/// <summary>
/// A run of fixed-width records sorted by the key that starts each one (the open snapshot's
/// tables): checked once, then searched in place.
/// </summary>
internal static class SortedRecords
{
    /// <summary>
    /// Whether <paramref name="records"/> is a whole run of records whose keys rise strictly; the
    /// order is not checked when <paramref name="checkOrder"/> is false (records this reader
    /// already found in order).
    /// </summary>
    public static bool IsRun(ReadOnlySpan<byte> records, int recordLength, int keyLength, bool checkOrder) =>
        records.Length % recordLength == 0 && (!checkOrder || AreSorted(records, recordLength, keyLength));

    /// <summary>Whether the keys (the first <paramref name="keyLength"/> bytes of each record) rise strictly.</summary>
    public static bool AreSorted(ReadOnlySpan<byte> records, int recordLength, int keyLength)
    {
        if (records.Length % recordLength != 0) return false;
        // Every open checks 400,000 keys at 100,000 secrets: the first 8 bytes, read as one
        // big-endian number, decide nearly every pair; the rest only on a tie.
        bool wide = keyLength >= sizeof(ulong);
        for (int at = recordLength; at < records.Length; at += recordLength)
        {
            if (wide)
            {
                ulong before = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(records.Slice(at - recordLength, sizeof(ulong)));
                ulong after = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(records.Slice(at, sizeof(ulong)));
                if (before < after) continue;
                if (before > after) return false;
            }
            if (records.Slice(at - recordLength, keyLength).SequenceCompareTo(records.Slice(at, keyLength)) >= 0) return false;
        }
        return true;
    }

    /// <summary>The index of the record whose key is <paramref name="key"/>, or -1.</summary>
    public static int Find(ReadOnlySpan<byte> records, int recordLength, ReadOnlySpan<byte> key)
    {
        int low = 0, high = records.Length / recordLength - 1;
        while (low <= high)
        {
            int middle = low + (high - low) / 2;
            int order = records.Slice(middle * recordLength, key.Length).SequenceCompareTo(key);
            if (order == 0) return middle;
            if (order < 0) low = middle + 1;
            else high = middle - 1;
        }
        return -1;
    }
}
