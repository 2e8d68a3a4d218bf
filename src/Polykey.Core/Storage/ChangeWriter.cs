using System.Formats.Tar;

namespace Polykey.Core.Storage;

/// <summary>A member a change will add: a regular file, or a directory when Data is null.</summary>
internal sealed record PendingMember(string Name, byte[]? Data)
{
    public static PendingMember Directory(string name) => new(name, null);

    /// <summary>For a loose commit or tree built here: its id and content, so reading back the change just written needs no inflating.</summary>
    public (Git.ObjectId Id, Git.ObjectType Type, byte[] Content)? Built { get; init; }
}

/// <summary>
/// Lays out one change as tar bytes: its members, then the closing <see cref="TxnRecord"/>,
/// then the two zero blocks that end a tar archive (overwritten by the next change).
/// </summary>
internal static class ChangeWriter
{
    public const int EndOfArchiveLength = 2 * TarHeader.BlockSize;

    /// <param name="start">Where the change begins: the end of <paramref name="at"/>, or later when bytes that belong to no change lie there.</param>
    public static (byte[] Bytes, Change Change) Build(ScanPoint at, long start, IReadOnlyList<PendingMember> members, DateTimeOffset time)
    {
        // The exact length the tar writer will produce, so the bytes are never copied while the buffer grows.
        long length = members.Sum(m => TarHeader.BlockSize + TarHeader.Padded(m.Data?.Length ?? 0)) + 2 * TarHeader.BlockSize + EndOfArchiveLength;
        using var buffer = new MemoryStream(checked((int)length));
        var written = new List<TarMember>(members.Count);
        Change change;
        // Disposing the writer appends the two zero blocks that end the archive.
        using (var tar = new TarWriter(buffer, TarEntryFormat.Ustar, leaveOpen: true))
        {
            foreach (PendingMember member in members)
            {
                long headerAt = buffer.Position;
                tar.WriteEntry(Entry(member, time));
                written.Add(new TarMember(member.Name, start + headerAt + TarHeader.BlockSize, member.Data?.Length ?? 0));
            }
            byte[] contentHash = Digests.Sha256(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
            var record = new TxnRecord(at.Sequence + 1, start, contentHash, at.RecordHash);
            byte[] recordBytes = record.Serialize();
            tar.WriteEntry(Entry(new PendingMember(TxnRecord.MemberName, recordBytes), time));
            change = new Change(record.Sequence, start, start + buffer.Length, written, TxnRecord.HashOf(recordBytes));
        }
        if (buffer.Length != change.End - start + EndOfArchiveLength)
            throw new InvalidOperationException("the tar writer did not end the archive with two zero blocks");
        return (buffer.Length == buffer.Capacity ? buffer.GetBuffer() : buffer.ToArray(), change);
    }

    private static UstarTarEntry Entry(PendingMember member, DateTimeOffset time)
    {
        var entry = member.Data is null
            ? new UstarTarEntry(TarEntryType.Directory, member.Name)
            : new UstarTarEntry(TarEntryType.RegularFile, member.Name) { DataStream = new MemoryStream(member.Data, writable: false) };
        entry.Mode = member.Data is null
            ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            : UnixFileMode.UserRead | UnixFileMode.UserWrite;
        entry.ModificationTime = time;
        return entry;
    }
}
