using System.Buffers.Binary;
using System.Text;

namespace Polykey.Core.Storage;

/// <summary>
/// The data of a `polykey/index` member (docs/keynode-format.md §8.5): an open snapshot and a
/// name memo as the owner's own reader would keep them at the change before it, signed by the
/// owner. A reader holding neither cache takes them on that signature instead of replaying the
/// file, so a cold open costs what changed since the index, not what the keynode holds. This
/// class only frames the bytes; whether the signature holds and what the parts say is the
/// reader's to check.
/// </summary>
internal sealed class NameIndexMember
{
    public const string MemberName = "polykey/index";
    private static readonly byte[] Magic = Encoding.ASCII.GetBytes("polykey-index 1\n");
    private static readonly byte[] SignedMagic = Encoding.ASCII.GetBytes("polykey index signature 1\n");
    private const int KeynodeIdBytes = 32;
    private const int MaxSignatureBytes = 4096;

    /// <summary>The largest index a reader reads: past it (some 4 million histories) the slow path is taken.</summary>
    public const long MaxBytes = 1L << 30;

    public required string KeynodeId { get; init; }
    public required ReadOnlyMemory<byte> Snapshot { get; init; }
    public required ReadOnlyMemory<byte> Memo { get; init; }
    public required string Signature { get; init; }

    /// <summary>What the owner signs: the keynode and a digest of the framed parts, under a label no commit payload starts with.</summary>
    public ReadOnlySpan<byte> SignedPayload(ReadOnlySpan<byte> body) => PayloadOf(KeynodeId, body);

    private static byte[] PayloadOf(string keynodeId, ReadOnlySpan<byte> body) =>
        [.. SignedMagic, .. Encoding.ASCII.GetBytes(keynodeId), (byte)'\n', .. Digests.Sha256(body)];

    /// <summary>The member's data: the parts framed, then the owner's signature made by <paramref name="sign"/> over them.</summary>
    public static byte[] Build(string keynodeId, byte[] snapshot, byte[] memo, Func<byte[], string> sign)
    {
        var body = new MemoryStream();
        body.Write(Magic);
        body.Write(Encoding.ASCII.GetBytes(keynodeId));
        WritePart(body, snapshot);
        WritePart(body, memo);
        byte[] signature = Encoding.ASCII.GetBytes(sign(PayloadOf(keynodeId, body.GetBuffer().AsSpan(0, (int)body.Length))));
        WritePart(body, signature);
        return body.ToArray();
    }

    /// <summary>The parts of <paramref name="data"/> and the bytes its signature covers; null when it is not framed as an index of <paramref name="keynodeId"/>.</summary>
    public static (NameIndexMember Index, ReadOnlyMemory<byte> SignedBody)? TryParse(ReadOnlyMemory<byte> data, string keynodeId)
    {
        ReadOnlySpan<byte> span = data.Span;
        if (span.Length < Magic.Length + KeynodeIdBytes || !span.StartsWith(Magic)) return null;
        int position = Magic.Length;
        if (Encoding.ASCII.GetString(span.Slice(position, KeynodeIdBytes)) != keynodeId) return null;
        position += KeynodeIdBytes;
        if (ReadPart(data, ref position, int.MaxValue) is not { } snapshot || ReadPart(data, ref position, int.MaxValue) is not { } memo) return null;
        int bodyEnd = position;
        if (ReadPart(data, ref position, MaxSignatureBytes) is not { } signature || position != span.Length) return null;
        if (signature.Span.ContainsAnyExceptInRange((byte)0x09, (byte)0x7e)) return null;
        return (new NameIndexMember
        {
            KeynodeId = keynodeId,
            Snapshot = snapshot,
            Memo = memo,
            Signature = Encoding.ASCII.GetString(signature.Span),
        }, data[..bodyEnd]);
    }

    private static void WritePart(Stream output, byte[] part)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, part.Length);
        output.Write(length);
        output.Write(part);
    }

    // A length-prefixed part, bounded by what is left of the member and by limit; null past either.
    private static ReadOnlyMemory<byte>? ReadPart(ReadOnlyMemory<byte> data, ref int position, int limit)
    {
        if (data.Length - position < 4) return null;
        int length = BinaryPrimitives.ReadInt32LittleEndian(data.Span.Slice(position, 4));
        position += 4;
        if (length < 0 || length > limit || length > data.Length - position) return null;
        ReadOnlyMemory<byte> part = data.Slice(position, length);
        position += length;
        return part;
    }
}
