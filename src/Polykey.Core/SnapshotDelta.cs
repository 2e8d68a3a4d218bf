using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core;

/// <summary>
/// What changed between a reader's open snapshot and a later change end it read: the histories
/// that moved (with what their new tips say, sealed like the name memo), the objects added, and
/// the new end. Written after every command that read or wrote something new, at a cost that
/// grows with what moved since the snapshot, not with the keynode, so a write into a keynode of
/// 100,000 secrets costs what a write into an empty one does; the snapshot itself is rewritten
/// only when the delta has grown large. Bound to its snapshot's change record: useless without it.
/// </summary>
internal sealed class SnapshotDelta
{
    private static readonly byte[] Magic = Encoding.ASCII.GetBytes("polykey-delta 2\n");
    private const int ChecksumBytes = 16;
    private const int NonceBytes = 12;
    private const int SealBytes = 16;

    private byte[] _sealed = [];

    public ScanPoint End { get; private init; }
    public long VerifiedLength { get; private init; }
    public string? AccessHistory { get; private init; }
    public List<KeyValuePair<string, ObjectId?>> Moved { get; } = new();
    public Dictionary<string, ObjectId> Conflicts { get; } = new(StringComparer.Ordinal);
    public List<KeyValuePair<ObjectId, TarMember>> Objects { get; } = new();

    public static string PathFor(string cacheDirectory, string keynodeId) => Path.Combine(cacheDirectory, "polykey", keynodeId + ".delta");

    /// <summary>The delta of the snapshot that ends at <paramref name="snapshot"/>, or null (none, another snapshot's, or <paramref name="damaged"/>).</summary>
    public static SnapshotDelta? Load(string path, string keynodeId, ScanPoint snapshot, out bool damaged)
    {
        damaged = false;
        byte[] data;
        try
        {
            if (!File.Exists(path)) return null;
            data = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        try
        {
            var reader = new Reader(data);
            if (!reader.Bytes(Magic.Length).SequenceEqual(Magic) || Encoding.ASCII.GetString(reader.Bytes(32)) != keynodeId) return null;
            if (reader.Int64() != snapshot.Offset || !reader.Bytes(32).SequenceEqual(snapshot.RecordHash)) return null;
            int clearEnd = reader.Int32();
            if (clearEnd < reader.Position || clearEnd + ChecksumBytes > data.Length
                || !XxHash128.Hash(data.AsSpan(0, clearEnd)).AsSpan().SequenceEqual(data.AsSpan(clearEnd, ChecksumBytes)))
            {
                damaged = true;
                return null;
            }
            var delta = new SnapshotDelta
            {
                End = new ScanPoint(reader.Int64(), reader.Int64(), reader.Bytes(32).ToArray(), reader.Bytes(32).ToArray()),
                VerifiedLength = reader.Int64(),
                AccessHistory = reader.Byte() == 1 ? Convert.ToHexStringLower(reader.Bytes(16)) : null,
            };
            for (int i = reader.Count(37); i > 0; i--)
            {
                string id = Convert.ToHexStringLower(reader.Bytes(16));
                bool present = reader.Byte() == 1;
                ObjectId tip = ObjectId.FromBytes(reader.Bytes(20));
                delta.Moved.Add(new(id, present ? tip : null));
            }
            for (int i = reader.Count(36); i > 0; i--) delta.Conflicts[Convert.ToHexStringLower(reader.Bytes(16))] = ObjectId.FromBytes(reader.Bytes(20));
            for (int i = reader.Count(32); i > 0; i--)
            {
                var id = ObjectId.FromBytes(reader.Bytes(20));
                delta.Objects.Add(new(id, ObjectTable.Place(id, reader.Int64(), reader.UInt32())));
            }
            if (reader.Position != clearEnd) throw new FormatException();
            delta._sealed = data[(clearEnd + ChecksumBytes)..];
            return delta;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or IndexOutOfRangeException or OverflowException)
        {
            damaged = true;
            return null;
        }
    }

    /// <summary>What the moved histories' tips say, for this reader; null when sealed for another, or damaged.</summary>
    public List<(string Id, ObjectId Tip, IndexEntry? Entry)>? Names(SecretIdentity reader, string keynodeId)
    {
        if (_sealed.Length < NonceBytes + SealBytes) return null;
        byte[] key = reader.DeriveLocalKey("polykey delta 1", keynodeId);
        byte[] plain = [];
        try
        {
            plain = NameMemo.Unseal(key, _sealed.AsSpan(0, NonceBytes), _sealed.AsSpan(NonceBytes), [.. Magic, .. Encoding.ASCII.GetBytes(keynodeId)]);
            return NameMemo.Decode(plain);
        }
        catch (Exception e) when (e is Org.BouncyCastle.Crypto.InvalidCipherTextException or FormatException or ArgumentException or IndexOutOfRangeException or DecoderFallbackException)
        {
            return null;
        }
        finally
        {
            Array.Clear(key);
            Array.Clear(plain);
        }
    }

    public static bool Save(string path, string keynodeId, ScanPoint snapshot, ScanPoint end, long verifiedLength, string? accessHistory,
        IReadOnlyCollection<KeyValuePair<string, ObjectId?>> moved, IReadOnlyDictionary<string, ObjectId> conflicts,
        IReadOnlyCollection<KeyValuePair<ObjectId, TarMember>> objects, SecretIdentity reader, IEnumerable<(string Id, ObjectId Tip, IndexEntry? Entry)> names)
    {
        if (end.Layout is null || objects.Any(o => ObjectTable.SizeField(o.Value) is null)) return false;
        var output = new MemoryStream();
        byte[] number = new byte[8];
        void Int64(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(number, value);
            output.Write(number);
        }
        void Int32(int value)
        {
            BinaryPrimitives.WriteInt32LittleEndian(number, value);
            output.Write(number, 0, 4);
        }
        output.Write(Magic);
        output.Write(Encoding.ASCII.GetBytes(keynodeId));
        Int64(snapshot.Offset);
        output.Write(snapshot.RecordHash);
        long clearEndAt = output.Position;
        Int32(0);
        Int64(end.Offset);
        Int64(end.Sequence);
        output.Write(end.RecordHash);
        output.Write(end.Layout);
        Int64(verifiedLength);
        output.WriteByte(accessHistory is null ? (byte)0 : (byte)1);
        if (accessHistory is not null) output.Write(Convert.FromHexString(accessHistory));
        Int32(moved.Count);
        foreach ((string id, ObjectId? tip) in moved)
        {
            output.Write(Convert.FromHexString(id));
            output.WriteByte(tip is null ? (byte)0 : (byte)1);
            output.Write(tip?.ToBytes() ?? new byte[20]);
        }
        Int32(conflicts.Count);
        foreach ((string id, ObjectId tip) in conflicts)
        {
            output.Write(Convert.FromHexString(id));
            output.Write(tip.ToBytes());
        }
        Int32(objects.Count);
        foreach ((ObjectId id, TarMember member) in objects)
        {
            output.Write(id.ToBytes());
            Int64(member.DataOffset);
            BinaryPrimitives.WriteUInt32LittleEndian(number, ObjectTable.SizeField(member)!.Value);
            output.Write(number, 0, 4);
        }
        int clearEnd = (int)output.Position;
        output.Position = clearEndAt;
        Int32(clearEnd);
        output.Position = clearEnd;
        output.Write(XxHash128.Hash(output.GetBuffer().AsSpan(0, clearEnd)));

        byte[] key = reader.DeriveLocalKey("polykey delta 1", keynodeId);
        byte[] plain = NameMemo.Encode(names);
        try
        {
            byte[] nonce = Crypto.RandomBytes.Get(NonceBytes);
            output.Write(nonce);
            output.Write(NameMemo.Seal(key, nonce, plain, [.. Magic, .. Encoding.ASCII.GetBytes(keynodeId)]));
            return PrivateFile.TryReplace(path, output.GetBuffer().AsSpan(0, (int)output.Length));
        }
        finally
        {
            Array.Clear(key);
            Array.Clear(plain);
        }
    }

    public static void Remove(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A delta bound to a snapshot that is gone is never used anyway.
        }
    }

    private sealed class Reader(byte[] data)
    {
        public int Position { get; private set; }

        public ReadOnlySpan<byte> Bytes(int count)
        {
            if (count < 0 || count > data.Length - Position) throw new FormatException();
            var span = data.AsSpan(Position, count);
            Position += count;
            return span;
        }

        public byte Byte() => Bytes(1)[0];

        public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Bytes(4));

        public uint UInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4));

        public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Bytes(8));

        // A count of records of this size that must fit in what is left.
        public int Count(int recordBytes)
        {
            int count = Int32();
            if (count < 0 || count > (data.Length - Position) / recordBytes) throw new FormatException();
            return count;
        }
    }
}
