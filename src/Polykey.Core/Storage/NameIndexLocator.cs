using Microsoft.Win32.SafeHandles;

namespace Polykey.Core.Storage;

/// <summary>
/// Finds the newest `polykey/index` member without reading the file from its start: from the
/// last change record back, record by record (each names where its change starts, and the
/// record before lies just before that), looking only at each change's first member. Costs what
/// was appended since the index. Only a file as pk writes it is walked (records of one block,
/// changes end to end, the end-of-archive zeros last): anything else, or a chain whose records
/// do not hash each other, finds nothing, and the reader replays the file as it would anyway.
/// What it finds is only a candidate; the reader checks the owner's signature and that the
/// change record before it is the one the index names.
/// </summary>
internal static class NameIndexLocator
{
    private const int Block = TarHeader.BlockSize;
    // The end-of-archive marker pk writes, and what a failed append may leave of it: only zeros, looked at up to this far.
    private const int TailLimit = 64 * 1024;

    /// <summary>The newest index member, and the record (offset, sequence, hash) of the change before it; null when none is found.</summary>
    public static (TarMember Member, ScanPoint Before)? FindLast(SafeFileHandle file)
    {
        long length = RandomAccess.GetLength(file);
        if (length < 4 * Block) return null;
        if (LastRecordHeader(file, length) is not { } headerAt) return null;
        if (RecordAt(file, headerAt) is not { } current) return null;
        while (current.Record.Start >= 2 * Block)
        {
            long start = current.Record.Start;
            byte[] first = ReadBlock(file, start);
            if (TarHeader.TryParse(first) is not { } header) return null;
            // The record before this change lies just before it (a gap between them: not walked).
            if (RecordAt(file, start - 2 * Block) is not { } previous
                || previous.Record.Sequence != current.Record.Sequence - 1
                || !previous.Hash.AsSpan().SequenceEqual(current.Record.PreviousRecordHash))
                return null;
            if (header.Name == NameIndexMember.MemberName && header.Type == TarHeader.RegularFile
                && start + Block + TarHeader.Padded(header.Size) == current.HeaderAt)
                return (new TarMember(header.Name, start + Block, header.Size), new ScanPoint(start, previous.Record.Sequence, previous.Hash));
            current = previous;
        }
        return null;
    }

    /// <summary>
    /// The first owner's key as the first change holds it (its second member, after the format
    /// header, as every writer puts it), read with its data; null when it is not there.
    /// </summary>
    public static TarMember? FirstOwnerKey(SafeFileHandle file)
    {
        if (TarHeader.TryParse(ReadBlock(file, 0)) is not { Name: KeynodeLayout.HeaderMember, Size: > 0 and <= Block }) return null;
        const long keyHeaderAt = 2 * Block;
        if (TarHeader.TryParse(ReadBlock(file, keyHeaderAt)) is not { Name: KeynodeLayout.OwnerPublicKeyMember, Type: TarHeader.RegularFile } header
            || header.Size is <= 0 or > Limits.MaxSmallMemberBytes)
            return null;
        byte[] data = new byte[header.Size];
        if (RandomAccess.Read(file, data, keyHeaderAt + Block) != data.Length) return null;
        return new TarMember(header.Name, keyHeaderAt + Block, header.Size, TarHeader.RegularFile, data);
    }

    // Where the last record's header lies: the block before the last non-zero block, with only zeros after it.
    private static long? LastRecordHeader(SafeFileHandle file, long length)
    {
        long tailStart = Math.Max(0, length - TailLimit) / Block * Block;
        byte[] tail = new byte[length - tailStart];
        if (RandomAccess.Read(file, tail, tailStart) != tail.Length) return null;
        int lastNonZero = tail.AsSpan().LastIndexOfAnyExcept((byte)0);
        if (lastNonZero < Block) return null;
        return tailStart + lastNonZero / Block * Block - Block;
    }

    private static (TxnRecord Record, byte[] Hash, long HeaderAt)? RecordAt(SafeFileHandle file, long headerAt)
    {
        if (headerAt < 0) return null;
        byte[] blocks = new byte[2 * Block];
        if (RandomAccess.Read(file, blocks, headerAt) != blocks.Length) return null;
        if (TarHeader.TryParse(blocks) is not { Name: TxnRecord.MemberName, Type: TarHeader.RegularFile, Size: > 0 and <= Block } header) return null;
        ReadOnlySpan<byte> data = blocks.AsSpan(Block, (int)header.Size);
        if (TxnRecord.TryParse(data) is not { } record || record.Start < 0 || record.Start >= headerAt) return null;
        return (record, TxnRecord.HashOf(data), headerAt);
    }

    private static byte[] ReadBlock(SafeFileHandle file, long offset)
    {
        byte[] block = new byte[Block];
        return RandomAccess.Read(file, block, offset) == Block ? block : [];
    }
}
