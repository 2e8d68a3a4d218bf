using System.Security.Cryptography;

namespace Polykey.Core.Storage;

/// <summary>A tar member of a committed change: its name and where its data lies in the file.</summary>
internal readonly record struct TarMember(string Name, long DataOffset, long Size);

/// <summary>One committed change: the members it added, in order.</summary>
internal sealed record Change(long Sequence, long Start, long End, IReadOnlyList<TarMember> Members, byte[] RecordHash);

/// <summary>Where the previous scan stopped: the end of the last committed change.</summary>
internal readonly record struct ScanPoint(long Offset, long Sequence, byte[] RecordHash)
{
    public static ScanPoint Origin => new(0, 0, new byte[32]);
}

/// <summary>The changes found, with the bytes they were read from (so small members need no second read).</summary>
internal sealed record ScanResult(IReadOnlyList<Change> Changes, ScanPoint End, string? TailWarning, byte[] Bytes, long BaseOffset)
{
    public ReadOnlySpan<byte> Data(TarMember member) => Bytes.AsSpan((int)(member.DataOffset - BaseOffset), (int)member.Size);
}

/// <summary>
/// Reads changes from raw keynode bytes. Stops at the last complete change: a torn or damaged
/// final change is ignored (it was never acknowledged), but damage followed by later changes
/// is corruption and fails loudly.
/// </summary>
internal static class ChangeScanner
{
    /// <param name="checkedUpTo">
    /// A change end this process (or an earlier one, through the cache) already hashed: changes
    /// ending at or before it are taken on their record chain alone. If the record found there
    /// is not the one remembered, the scan starts over with every hash checked.
    /// </param>
    public static ScanResult Scan(byte[] bytes, long baseOffset, ScanPoint from, string fileLabel, ScanPoint? checkedUpTo = null)
    {
        if (checkedUpTo is { } trusted && trusted.Offset > from.Offset)
        {
            try
            {
                ScanResult fast = ScanOnce(bytes, baseOffset, from, fileLabel, trusted);
                bool reached = fast.Changes.Any(c => c.End == trusted.Offset && c.Sequence == trusted.Sequence && c.RecordHash.AsSpan().SequenceEqual(trusted.RecordHash));
                if (reached) return fast;
            }
            catch (PolykeyException)
            {
                // Whatever is wrong, the full scan below finds it and says so.
            }
        }
        return ScanOnce(bytes, baseOffset, from, fileLabel, null);
    }

    private static ScanResult ScanOnce(byte[] bytes, long baseOffset, ScanPoint from, string fileLabel, ScanPoint? trusted)
    {
        var changes = new List<Change>();
        var members = new List<TarMember>();
        ScanPoint point = from;
        long pos = from.Offset;
        string? stopReason = null;

        while (true)
        {
            long rel = pos - baseOffset;
            if (rel + TarHeader.BlockSize > bytes.Length)
            {
                if (rel < bytes.Length || members.Count > 0) stopReason = "the file ends inside a change";
                break;
            }
            ReadOnlySpan<byte> block = bytes.AsSpan((int)rel, TarHeader.BlockSize);
            if (TarHeader.IsZeroBlock(block))
            {
                if (members.Count > 0) stopReason = "a change has no closing record";
                break;
            }
            TarHeader? header = TarHeader.TryParse(block);
            if (header is null) { stopReason = "a damaged tar header"; break; }
            long dataOffset = pos + TarHeader.BlockSize;
            long next = dataOffset + TarHeader.Padded(header.Value.Size);
            if (next - baseOffset > bytes.Length) { stopReason = "the file ends inside a member"; break; }

            if (header.Value.Name == TxnRecord.MemberName)
            {
                ReadOnlySpan<byte> recordBytes = bytes.AsSpan((int)(dataOffset - baseOffset), (int)header.Value.Size);
                TxnRecord? record = TxnRecord.TryParse(recordBytes);
                if (record is null || record.Start != point.Offset || record.Sequence != point.Sequence + 1
                    || !record.PreviousRecordHash.AsSpan().SequenceEqual(point.RecordHash)
                    || (next > (trusted?.Offset ?? 0) && !Digests.Sha256(bytes.AsSpan((int)(point.Offset - baseOffset), (int)(pos - point.Offset))).AsSpan().SequenceEqual(record.ContentHash)))
                {
                    stopReason = "a change whose checksum does not match";
                    break;
                }
                byte[] recordHash = TxnRecord.HashOf(recordBytes);
                changes.Add(new Change(record.Sequence, point.Offset, next, members.ToArray(), recordHash));
                members.Clear();
                point = new ScanPoint(next, record.Sequence, recordHash);
            }
            else
            {
                members.Add(new TarMember(header.Value.Name, dataOffset, header.Value.Size));
            }
            pos = next;
        }

        if (stopReason is not null && LaterRecordExists(bytes, baseOffset, pos))
            throw PolykeyException.Failed(
                $"keynode {fileLabel} is corrupt near byte {pos}: {stopReason}, and later changes follow it",
                "restore the file from a backup, or pull the secrets from another keynode");
        string? warning = stopReason is not null && stopReason.Contains("checksum")
            ? $"the last change in {fileLabel} (from byte {point.Offset}) is damaged and was ignored"
            : null;
        return new ScanResult(changes, point, warning, bytes, baseOffset);
    }

    // A closing record after the stop point means the damage is not just an unfinished append.
    private static bool LaterRecordExists(byte[] bytes, long baseOffset, long stop)
    {
        long first = TarHeader.Padded(stop - baseOffset + 1);
        for (long rel = first; rel + TarHeader.BlockSize <= bytes.Length; rel += TarHeader.BlockSize)
        {
            TarHeader? h = TarHeader.TryParse(bytes.AsSpan((int)rel, TarHeader.BlockSize));
            if (h is { Name: TxnRecord.MemberName }) return true;
        }
        return false;
    }
}
