using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Polykey.Core.Git;

namespace Polykey.Core.Storage;

/// <summary>
/// What one reader took from a keynode up to a change end: the file's state there (header,
/// owner key members, every object's place) and the tips it accepted. A later open that finds
/// the same change record at that end resumes from it and reads only what was appended since,
/// so opening costs what changed, not what the keynode holds. Everything in it is what the
/// file shows in the clear (ids, tips, offsets), so it is not encrypted; a checksum over it
/// catches damage, and a snapshot that does not read back whole is ignored (the open then
/// reads the file from byte 0, as without it). The file is mapped, not read: a lookup touches
/// only the pages it needs.
/// </summary>
internal sealed class OpenSnapshot : IDisposable
{
    private static readonly byte[] Magic = Encoding.ASCII.GetBytes("polykey-open 3\n");

    /// <summary>Whether <paramref name="bytes"/> start as a snapshot of this reader's version (an older or newer one is no damage: it is not read).</summary>
    public static bool IsThisVersion(ReadOnlySpan<byte> bytes) => bytes.StartsWith(Magic);
    private const int HistoryIdBytes = 16;
    private const int DigestBytes = 32;
    private const int ChecksumBytes = 16;

    private readonly MappedFile _file;

    private OpenSnapshot(MappedFile file) => _file = file;

    public string KeynodeId { get; private init; } = "";
    public int FormatVersion { get; private init; }
    public ScanPoint End { get; private init; }
    public TarMember OwnerPublicKey { get; private init; }
    public TarMember? OwnerSealedKey { get; private init; }
    public string? AccessHistory { get; private init; }
    public long VerifiedLength { get; private init; }
    public TipRun Accepted { get; private init; } = TipRun.Empty;
    public IReadOnlyDictionary<string, ObjectId> Conflicts { get; private init; } = new Dictionary<string, ObjectId>();
    public ObjectTable Objects { get; private init; } = null!;

    public static string PathFor(string cacheDirectory, string keynodeId) => Path.Combine(cacheDirectory, "polykey", keynodeId + ".open");

    /// <summary>Where a snapshot of a keynode read as an archive (a remote a pull reads, a file pk serve serves) is kept: its raw refs, not accepted tips.</summary>
    public static string ArchivePathFor(string cacheDirectory, string keynodeId) => Path.Combine(cacheDirectory, "polykey", keynodeId + ".archive");

    /// <summary>
    /// The snapshot stored at <paramref name="path"/>, or null when there is none; <paramref name="damaged"/>
    /// when there is one of this format that does not read back whole (a file of another format is no damage).
    /// </summary>
    public static OpenSnapshot? Load(string path, string keynodeId, out bool damaged)
    {
        damaged = false;
        if (MappedFile.TryOpen(path) is not { } file) return null;
        ReadOnlySpan<byte> start = file.Span[..Math.Min(file.Length, Magic.Length)];
        damaged = Magic.AsSpan().StartsWith(start) || start.SequenceEqual(Magic);
        try
        {
            if (Parse(file, keynodeId, path) is { } snapshot)
            {
                damaged = false;
                return snapshot;
            }
        }
        catch (Exception e) when (e is ArgumentException or FormatException or IndexOutOfRangeException or OverflowException)
        {
        }
        ((IDisposable)file).Dispose();
        return null;
    }

    private static OpenSnapshot? Parse(MappedFile file, string keynodeId, string path)
    {
        ReadOnlySpan<byte> data = file.Span;
        if (data.Length < Magic.Length + ChecksumBytes || !data[..Magic.Length].SequenceEqual(Magic)) return null;
        int bodyEnd = data.Length - ChecksumBytes;
        // Hashing and ordering 13 MB at 100,000 secrets was ~6.5% of a warm `pk get`: done once per file.
        bool checkedBefore = CheckReceipt.Holds(path, file.Stamp, data[bodyEnd..]);
        if (!checkedBefore && !XxHash128.Hash(data[..bodyEnd]).AsSpan().SequenceEqual(data[bodyEnd..])) return null;
        var reader = new Cursor(file.Memory, Magic.Length, bodyEnd);
        if (Encoding.ASCII.GetString(reader.Bytes(32).Span) != keynodeId) return null;
        int format = reader.Int32();
        var end = new ScanPoint(reader.Int64(), reader.Int64(), reader.Bytes(DigestBytes).ToArray(), reader.Bytes(DigestBytes).ToArray());
        long verifiedLength = reader.Int64();
        TarMember ownerKey = reader.Member(KeynodeLayout.OwnerPublicKeyMember);
        TarMember? sealedKey = reader.Byte() == 1 ? reader.Member(KeynodeLayout.OwnerSealedKeyMember) : null;
        string? access = reader.Byte() == 1 ? Convert.ToHexStringLower(reader.Bytes(HistoryIdBytes).Span) : null;
        TipRun? accepted = TipRun.Over(reader.Bytes(checked(reader.Int32() * TipRun.RecordLength)), checkOrder: !checkedBefore);
        TipRun? conflicts = TipRun.Over(reader.Bytes(checked(reader.Int32() * TipRun.RecordLength)), checkOrder: !checkedBefore);
        int objects = reader.Int32();
        ObjectTable? table = ObjectTable.Over(reader.Bytes(checked(objects * ObjectTable.RecordLength)), checkOrder: !checkedBefore);
        if (reader.Position != bodyEnd || accepted is null || conflicts is null || table is null) return null;
        if (!checkedBefore) CheckReceipt.Write(path, file.Stamp, data[bodyEnd..]);
        return new OpenSnapshot(file)
        {
            KeynodeId = keynodeId,
            FormatVersion = format,
            End = end,
            OwnerPublicKey = ownerKey,
            OwnerSealedKey = sealedKey,
            AccessHistory = access,
            VerifiedLength = verifiedLength,
            Accepted = accepted,
            Conflicts = conflicts.All().ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal),
            Objects = table,
        };
    }

    /// <summary>Writes a snapshot, atomically (a temporary file renamed into place); false when it could not.</summary>
    public static bool TrySave(string path, string keynodeId, int formatVersion, ScanPoint end, TarMember ownerPublicKey, TarMember? ownerSealedKey,
        string? accessHistory, IReadOnlyDictionary<string, ObjectId> accepted, IReadOnlyDictionary<string, ObjectId> conflicts,
        IEnumerable<KeyValuePair<ObjectId, TarMember>> objects, long verifiedLength) =>
        Encode(keynodeId, formatVersion, end, ownerPublicKey, ownerSealedKey, accessHistory, accepted, conflicts, objects, verifiedLength) is { } bytes
        && PrivateFile.TryReplace(path, bytes);

    /// <summary>A snapshot's bytes, as <see cref="TrySave"/> writes them; null when one cannot be recorded.</summary>
    public static byte[]? Encode(string keynodeId, int formatVersion, ScanPoint end, TarMember ownerPublicKey, TarMember? ownerSealedKey,
        string? accessHistory, IReadOnlyDictionary<string, ObjectId> accepted, IReadOnlyDictionary<string, ObjectId> conflicts,
        IEnumerable<KeyValuePair<ObjectId, TarMember>> objects, long verifiedLength)
    {
        if (end.Layout is null || ownerPublicKey.Inline is null || ownerSealedKey is { Inline: null }) return null;
        var body = new MemoryStream();
        body.Write(Magic);
        body.Write(Encoding.ASCII.GetBytes(keynodeId));
        WriteInt32(body, formatVersion);
        WriteInt64(body, end.Offset);
        WriteInt64(body, end.Sequence);
        body.Write(end.RecordHash);
        body.Write(end.Layout);
        WriteInt64(body, verifiedLength);
        WriteMember(body, ownerPublicKey);
        body.WriteByte(ownerSealedKey is null ? (byte)0 : (byte)1);
        if (ownerSealedKey is { } sealedKey) WriteMember(body, sealedKey);
        body.WriteByte(accessHistory is null ? (byte)0 : (byte)1);
        if (accessHistory is not null) body.Write(Convert.FromHexString(accessHistory));
        WriteInt32(body, accepted.Count);
        TipRun.Write(accepted, body);
        WriteInt32(body, conflicts.Count);
        TipRun.Write(conflicts, body);
        long countAt = body.Position;
        WriteInt32(body, 0);
        long tableAt = body.Position;
        if (!ObjectTable.TryWrite(objects, body)) return null;
        long count = (body.Position - tableAt) / ObjectTable.RecordLength;
        body.Position = countAt;
        WriteInt32(body, (int)count);
        body.Position = body.Length;
        body.Write(XxHash128.Hash(body.GetBuffer().AsSpan(0, (int)body.Length)));
        return body.ToArray();
    }

    private static void WriteMember(Stream output, TarMember member)
    {
        WriteInt64(output, member.DataOffset);
        WriteInt32(output, member.Inline!.Length);
        output.Write(member.Inline);
    }

    private static void WriteInt32(Stream output, int value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        output.Write(bytes);
    }

    private static void WriteInt64(Stream output, long value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        output.Write(bytes);
    }

    public void Dispose() => ((IDisposable)_file).Dispose();

    /// <summary>Reads the body in order; any read past its end throws (the snapshot is then ignored).</summary>
    private sealed class Cursor(ReadOnlyMemory<byte> data, int position, int end)
    {
        public int Position => position;

        public ReadOnlyMemory<byte> Bytes(int count)
        {
            if (count < 0 || count > end - position) throw new FormatException();
            ReadOnlyMemory<byte> slice = data.Slice(position, count);
            position += count;
            return slice;
        }

        public byte Byte() => Bytes(1).Span[0];

        public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Bytes(4).Span);

        public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Bytes(8).Span);

        public TarMember Member(string name)
        {
            long offset = Int64();
            int length = Int32();
            if (length < 0 || length > Limits.MaxSmallMemberBytes) throw new FormatException();
            return new TarMember(name, offset, length, TarHeader.RegularFile, Bytes(length).ToArray());
        }
    }
}
