namespace Polykey.Core.Storage;

/// <summary>
/// A tar member of a committed change: its name, type and where its data lies; small members
/// carry their data (so do pack indexes and packed-refs, bounded), a pack its first 12 and last
/// 20 bytes in <paramref name="PackEnds"/>. A git object inside a pack is a place of type
/// <see cref="PackedObject"/>: its pack entry (header and zlib stream) in the file.
/// </summary>
internal readonly record struct TarMember(string Name, long DataOffset, long Size, char Type = TarHeader.RegularFile, byte[]? Inline = null, byte[]? PackEnds = null)
{
    public const char PackedObject = 'P';

    public bool IsPackedObject => Type == PackedObject;
}

/// <summary>
/// One committed change: the members it added, in order. <paramref name="Layout"/> chains a
/// SHA-256 over every header, small member and record read up to its end: what a scan that
/// takes changes on their record chain alone still reads, and can still check.
/// </summary>
internal sealed record Change(long Sequence, long Start, long End, IReadOnlyList<TarMember> Members, byte[] RecordHash, byte[]? Layout = null);

/// <summary>Where the previous scan stopped: the end of the last committed change (and its layout digest, when known).</summary>
internal readonly record struct ScanPoint(long Offset, long Sequence, byte[] RecordHash, byte[]? Layout = null)
{
    public static ScanPoint Origin => new(0, 0, new byte[32], new byte[32]);
}

/// <summary>
/// The changes found after a point. <see cref="WriteAt"/> is where the next change may start:
/// the end of the last change when only zeros follow it, else past every non-zero byte, so a
/// writer never overwrites what it cannot account for. <see cref="Gaps"/> (between changes, for
/// good) and <see cref="Tail"/> (after the last one, until a write passes it) name bytes that
/// belong to no change, for verify to report.
/// </summary>
internal sealed record ScanResult(IReadOnlyList<Change> Changes, ScanPoint End, long WriteAt, IReadOnlyList<string> Warnings, IReadOnlyList<string> Gaps, string? Tail = null)
{
    /// <summary>Reads the same file's changes up to a point this scan started after (what a state resumed there did not read).</summary>
    public Func<ScanPoint, ScanResult>? Earlier { get; init; }
}

/// <summary>
/// Reads changes from a keynode file. A change counts when its closing record chains to the
/// previous one and its hash matches. After the last counted change, the rest is searched for
/// change records at any byte: a record that continues the chain further on means the bytes in
/// between belong to no change (a gap, reported); any other record means damage followed by
/// later changes, which is corruption and fails loudly; no record at all is an unfinished
/// append (a crash or a cut copy), which reads as the last counted change.
/// </summary>
internal static class ChangeScanner
{
    private const int MaxRecordBytes = 4096;
    // A partial member at the end is completed with zeros before the next change (so tar stays in step) only up to this much.
    private const long MaxZeroFill = 64L << 20;

    /// <param name="checkedUpTo">
    /// A change end this process (or an earlier one, through the cache) already hashed: changes
    /// ending at or before it are taken on their record chain alone. If the record found there
    /// is not the one remembered, the scan starts over with every hash checked.
    /// </param>
    public static ScanResult Scan(BlockReader reader, ScanPoint from, string fileLabel, ScanPoint? checkedUpTo = null)
    {
        if (checkedUpTo is { } trusted && trusted.Offset > from.Offset)
        {
            try
            {
                ScanResult fast = ScanOnce(reader, from, fileLabel, trusted);
                // The layout digest covers what the fast scan read without hashing: names, sizes, refs, records.
                bool reached = fast.Changes.Any(c => c.End == trusted.Offset && c.Sequence == trusted.Sequence && c.RecordHash.AsSpan().SequenceEqual(trusted.RecordHash)
                    && (trusted.Layout is null || c.Layout is not null && c.Layout.AsSpan().SequenceEqual(trusted.Layout)));
                if (reached) return fast;
            }
            catch (PolykeyException)
            {
                // Whatever is wrong, the full scan below finds it and says so.
            }
        }
        return ScanOnce(reader, from, fileLabel, null);
    }

    private static ScanResult ScanOnce(BlockReader reader, ScanPoint from, string fileLabel, ScanPoint? trusted)
    {
        var changes = new List<Change>();
        var warnings = new List<string>();
        var gaps = new List<string>();
        ScanPoint point = from;
        long start = from.Offset;
        while (true)
        {
            int before = changes.Count;
            (long stopAt, string? reason) = ReadRun(reader, ref point, start, trusted, changes);
            if (reason is null) return new ScanResult(changes, point, point.Offset, warnings, gaps);
            if (point.Offset == 0 && !(reader.Length >= TarHeader.BlockSize && KeynodeLayout.StartsAsKeynode(reader.Read(0, TarHeader.BlockSize))))
                return new ScanResult(changes, point, point.Offset, warnings, gaps); // not a keynode: nothing to search
            if (start != point.Offset && changes.Count == before)
                throw Corrupt(fileLabel, stopAt, reason, start); // a continuation that was found but does not read

            Continuation next = FindContinuation(reader, point);
            if (next.CorruptAt is { } recordAt) throw Corrupt(fileLabel, stopAt, reason, recordAt);
            if (next.Start is { } gapEnd)
            {
                gaps.Add($"bytes {point.Offset} to {gapEnd} ({gapEnd - point.Offset} bytes) before change {point.Sequence + 1} belong to no change: an unfinished write, or bytes another program added; they are ignored");
                start = gapEnd;
                continue;
            }
            if (next.DamagedLast)
                warnings.Add($"the last change in {fileLabel} (from byte {point.Offset}) is damaged and was ignored");
            long dataEnd = reader.EndOfData(point.Offset);
            if (dataEnd == point.Offset) return new ScanResult(changes, point, point.Offset, warnings, gaps);
            string? tail = next.DamagedLast ? null
                : $"bytes {point.Offset} to {dataEnd} ({dataEnd - point.Offset} bytes) after the last change belong to no change: an unfinished write, or bytes another program appended; they are ignored";
            return new ScanResult(changes, point, WritePointAfter(reader, point.Offset, dataEnd), warnings, gaps, tail);
        }
    }

    /// <summary>Takes changes from <paramref name="start"/> while they count; returns where and why it stopped (null reason: a clean end).</summary>
    private static (long StopAt, string? Reason) ReadRun(BlockReader reader, ref ScanPoint point, long start, ScanPoint? trusted, List<Change> changes)
    {
        var members = new List<TarMember>();
        long pos = start;
        long changeStart = start;
        using Digests.Incremental layout = Digests.Sha256Of(0); // headers and small members: always little
        layout.Append(point.Layout ?? new byte[32]);
        while (true)
        {
            if (pos + TarHeader.BlockSize > reader.Length)
                return (pos, pos < reader.Length || members.Count > 0 ? "the file ends inside a change" : null);
            ReadOnlySpan<byte> block = reader.Read(pos, TarHeader.BlockSize);
            if (TarHeader.IsZeroBlock(block))
                return (pos, members.Count > 0 ? "a change has no closing record" : "the end-of-archive blocks");
            if (TarHeader.TryParse(block) is not { } header) return (pos, "a damaged tar header");
            AppendLayout(layout, header);
            long dataOffset = pos + TarHeader.BlockSize;
            if (TarHeader.Padded(header.Size) > reader.Length - dataOffset) return (pos, "the file ends inside a member");
            long next = dataOffset + TarHeader.Padded(header.Size);

            if (header.Name == TxnRecord.MemberName)
            {
                TxnRecord? record = ReadRecord(reader, header, dataOffset, out byte[]? recordBytes);
                bool counts = record is not null && record.Start == changeStart && record.Sequence == point.Sequence + 1
                    && record.PreviousRecordHash.AsSpan().SequenceEqual(point.RecordHash)
                    && (next <= (trusted?.Offset ?? 0) || reader.Sha256(changeStart, pos).AsSpan().SequenceEqual(record.ContentHash));
                if (!counts) return (pos, "a change whose record does not match");
                byte[] recordHash = TxnRecord.HashOf(recordBytes);
                layout.Append(recordBytes);
                byte[] digest = layout.Finish();
                layout.Append(digest);
                changes.Add(new Change(record!.Sequence, changeStart, next, members.ToArray(), recordHash, digest));
                members.Clear();
                point = new ScanPoint(next, record.Sequence, recordHash, digest);
                changeStart = next;
            }
            else
            {
                byte[]? inline = header.Size <= Limits.MaxSmallMemberBytes && !header.Name.StartsWith("objects/", StringComparison.Ordinal)
                    ? reader.Read(dataOffset, (int)header.Size).ToArray()
                    : PackLayout.ReadWhole(header.Name) is { } bound && header.Size <= bound ? ReadLarge(reader, dataOffset, header.Size) : null;
                if (inline is not null) layout.Append(inline);
                byte[]? packEnds = PackLayout.IsPack(header.Name) && header.Size >= PackLayout.EndsBytes ? PackEnds(reader, dataOffset, header.Size) : null;
                if (packEnds is not null) layout.Append(packEnds);
                members.Add(new TarMember(header.Name, dataOffset, header.Size, header.Type, inline, packEnds));
            }
            pos = next;
        }
    }

    // A member read whole, a buffer at a time (a pack index or packed-refs may exceed one buffer).
    private static byte[] ReadLarge(BlockReader reader, long offset, long size)
    {
        byte[] data = new byte[size];
        for (int done = 0; done < data.Length;)
        {
            int n = Math.Min(BlockReader.BufferSize, data.Length - done);
            reader.Read(offset + done, n).CopyTo(data.AsSpan(done));
            done += n;
        }
        return data;
    }

    // A pack's header (count) and checksum: what pairing it with its index needs, without reading it whole.
    private static byte[] PackEnds(BlockReader reader, long offset, long size)
    {
        byte[] ends = new byte[PackLayout.EndsBytes];
        reader.Read(offset, Git.PackIndex.PackHeaderBytes).CopyTo(ends);
        reader.Read(offset + size - Git.PackIndex.PackTrailerBytes, Git.PackIndex.PackTrailerBytes).CopyTo(ends.AsSpan(Git.PackIndex.PackHeaderBytes));
        return ends;
    }

    // What a reader takes from a header: its name, size and type (mode, owner and times it ignores).
    private static void AppendLayout(Digests.Incremental layout, TarHeader header)
    {
        Span<byte> fixedPart = stackalloc byte[10];
        BitConverter.TryWriteBytes(fixedPart, header.Size);
        fixedPart[8] = (byte)header.Type;
        fixedPart[9] = (byte)Math.Min(header.Name.Length, 255);
        layout.Append(fixedPart);
        layout.Append(System.Text.Encoding.UTF8.GetBytes(header.Name));
    }

    private static TxnRecord? ReadRecord(BlockReader reader, TarHeader header, long dataOffset, out byte[] bytes)
    {
        bytes = [];
        if (header.Type != TarHeader.RegularFile || header.Size > MaxRecordBytes || header.Size > reader.Length - dataOffset) return null;
        bytes = reader.Read(dataOffset, (int)header.Size).ToArray();
        return TxnRecord.TryParse(bytes);
    }

    private readonly record struct Continuation(long? Start, long? CorruptAt, bool DamagedLast);

    /// <summary>
    /// Looks past the last counted change for change records at any byte offset (inserted bytes
    /// can break the 512-byte grid). The first record that continues the chain and reads whole
    /// ends the gap; a damaged record of the next change is skipped over; any other record is
    /// evidence of later changes behind damage.
    /// </summary>
    private static Continuation FindContinuation(BlockReader reader, ScanPoint point)
    {
        bool damaged = false;
        for (long hit = reader.Find(point.Offset, TxnRecord.MagicBytes); hit >= 0; hit = reader.Find(hit + 1, TxnRecord.MagicBytes))
        {
            long headerAt = hit - TarHeader.BlockSize;
            if (headerAt < point.Offset) continue;
            if (TarHeader.TryParse(reader.Read(headerAt, TarHeader.BlockSize)) is not { Name: TxnRecord.MemberName } header) continue;
            TxnRecord? record = ReadRecord(reader, header, hit, out _);
            if (record is null) continue;
            bool chains = record.Sequence == point.Sequence + 1 && record.PreviousRecordHash.AsSpan().SequenceEqual(point.RecordHash);
            if (!chains || record.Start < point.Offset || record.Start > headerAt) return new Continuation(null, headerAt, false);
            if (record.Start > point.Offset && ReadsWhole(reader, record, headerAt)) return new Continuation(record.Start, null, false);
            damaged = true;
        }
        return new Continuation(null, null, damaged);
    }

    // A change found after a gap counts only if its members lie end to end up to its record and its hash matches.
    private static bool ReadsWhole(BlockReader reader, TxnRecord record, long recordHeaderAt)
    {
        long pos = record.Start;
        while (pos < recordHeaderAt)
        {
            if (pos + TarHeader.BlockSize > recordHeaderAt) return false;
            if (TarHeader.TryParse(reader.Read(pos, TarHeader.BlockSize)) is not { } header) return false;
            pos += TarHeader.BlockSize + TarHeader.Padded(header.Size);
        }
        return pos == recordHeaderAt && reader.Sha256(record.Start, recordHeaderAt).AsSpan().SequenceEqual(record.ContentHash);
    }

    /// <summary>
    /// Where the next change goes when bytes follow the last one: past them on the 512-byte
    /// grid, and past the claimed end of a member cut short (so `tar -x` stays in step).
    /// </summary>
    private static long WritePointAfter(BlockReader reader, long end, long dataEnd)
    {
        long writeAt = end + TarHeader.Padded(dataEnd - end);
        for (long pos = end; pos + TarHeader.BlockSize <= reader.Length;)
        {
            if (TarHeader.TryParse(reader.Read(pos, TarHeader.BlockSize)) is not { } header) break;
            long next = pos + TarHeader.BlockSize + TarHeader.Padded(header.Size);
            if (next > reader.Length)
            {
                if (next - reader.Length <= MaxZeroFill) writeAt = Math.Max(writeAt, next);
                break;
            }
            pos = next;
        }
        return writeAt;
    }

    private static PolykeyException Corrupt(string fileLabel, long stopAt, string reason, long laterAt) =>
        PolykeyException.Failed(
            $"keynode {fileLabel} is corrupt at byte {stopAt}: {reason}, and a later change follows at byte {laterAt}",
            "restore the file from a backup, or pull the secrets from another keynode; nothing was changed");
}
