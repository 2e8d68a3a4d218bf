using System.Buffers.Binary;
using System.Text;
using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core.Sync;

/// <summary>The payload of each frame, encoded and decoded with its exact length checked (docs/wire-protocol.md, "Messages").</summary>
public static class WireMessages
{
    public static byte[] Hello(ushort version)
    {
        byte[] payload = new byte[WireProtocol.Magic.Length + 2];
        WireProtocol.Magic.CopyTo(payload);
        BinaryPrimitives.WriteUInt16BigEndian(payload.AsSpan(WireProtocol.Magic.Length), version);
        return payload;
    }

    /// <summary>The version a hello names; anything else is not pk speaking.</summary>
    public static ushort DecodeHello(byte[] payload, string peer)
    {
        if (payload.Length != WireProtocol.Magic.Length + 2 || !payload.AsSpan().StartsWith(WireProtocol.Magic))
            throw new WireException($"{peer} did not greet as pk's wire protocol");
        return BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(WireProtocol.Magic.Length));
    }

    /// <summary>A refusal: the failure's kind (its exit code), message and hint.</summary>
    public static byte[] Error(FailureKind kind, string message, string? hint)
    {
        var payload = new MemoryStream();
        payload.WriteByte((byte)kind);
        WriteText(payload, message);
        WriteText(payload, hint ?? "");
        return payload.ToArray();
    }

    /// <summary>The peer's refusal as an exception to throw here; its text is the peer's, so it is cut and stripped of control characters.</summary>
    public static PolykeyException DecodeError(byte[] payload, string peer)
    {
        var input = new SpanReader(payload, "error", peer);
        byte code = input.Byte();
        var kind = Enum.IsDefined((FailureKind)code) ? (FailureKind)code : FailureKind.Failure;
        string message = input.Text();
        string hint = input.Text();
        input.End();
        return new PolykeyException(kind, $"{peer}: {message}", hint.Length > 0 ? hint : null);
    }

    public static byte[] Keynode(string keynodeId, byte[] ownerCertificate) => [.. Encoding.ASCII.GetBytes(keynodeId), .. ownerCertificate];

    public static (string KeynodeId, byte[] OwnerCertificate) DecodeKeynode(byte[] payload, string peer)
    {
        var input = new SpanReader(payload, "keynode", peer);
        string id = input.HistoryId();
        return (id, input.Rest());
    }

    public static byte[] Tip(string historyId, ObjectId tip) => [.. Encoding.ASCII.GetBytes(historyId), .. tip.ToBytes()];

    public static (string HistoryId, ObjectId Tip) DecodeTip(byte[] payload, string peer)
    {
        var input = new SpanReader(payload, "tip", peer);
        (string id, ObjectId tip) = (input.HistoryId(), input.ObjectId());
        input.End();
        return (id, tip);
    }

    /// <summary>A request for an object: with <paramref name="walk"/>, also what its history holds below it, down to <paramref name="have"/>.</summary>
    public static byte[] Want(ObjectId id, bool walk, ObjectId? have) =>
        [(byte)((walk ? 1 : 0) | (have is null ? 0 : 2)), .. id.ToBytes(), .. have?.ToBytes() ?? []];

    public static (ObjectId Id, bool Walk, ObjectId? Have) DecodeWant(byte[] payload, string peer)
    {
        var input = new SpanReader(payload, "want", peer);
        byte flags = input.Byte();
        if ((flags & ~3) != 0) throw input.Malformed();
        ObjectId id = input.ObjectId();
        ObjectId? have = (flags & 2) != 0 ? input.ObjectId() : null;
        input.End();
        return (id, (flags & 1) != 0, have);
    }

    public static (ObjectId Id, byte[] Stored) DecodeObject(byte[] payload, string peer)
    {
        if (payload.Length <= WireProtocol.ObjectIdBytes) throw new WireException($"{peer} sent a malformed object frame");
        return (Git.ObjectId.FromBytes(payload.AsSpan(0, WireProtocol.ObjectIdBytes)), payload[WireProtocol.ObjectIdBytes..]);
    }

    public static ObjectId DecodeMissing(byte[] payload, string peer)
    {
        var input = new SpanReader(payload, "missing", peer);
        ObjectId id = input.ObjectId();
        input.End();
        return id;
    }

    public static byte[] Ref(RefUpdate update) =>
        [.. Encoding.ASCII.GetBytes(update.HistoryId), .. update.Tip.ToBytes(), (byte)(update.Expected is null ? 0 : 1), .. update.Expected?.ToBytes() ?? []];

    public static RefUpdate DecodeRef(byte[] payload, string peer)
    {
        var input = new SpanReader(payload, "ref", peer);
        string id = input.HistoryId();
        ObjectId tip = input.ObjectId();
        ObjectId? expected = input.Byte() switch
        {
            0 => null,
            1 => input.ObjectId(),
            _ => throw input.Malformed(),
        };
        input.End();
        return new RefUpdate(id, tip, expected);
    }

    private static void WriteText(Stream output, string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        int length = Math.Min(bytes.Length, WireProtocol.MaxTextBytes);
        output.WriteByte((byte)(length >> 8));
        output.WriteByte((byte)length);
        output.Write(bytes, 0, length);
    }

    // Reads fields in order from a payload; any shortfall or leftover is a malformed frame.
    private ref struct SpanReader(ReadOnlySpan<byte> payload, string frame, string peer)
    {
        private ReadOnlySpan<byte> _rest = payload;

        public WireException Malformed() => new($"{peer} sent a malformed {frame} frame");

        private ReadOnlySpan<byte> Take(int count)
        {
            if (_rest.Length < count) throw Malformed();
            ReadOnlySpan<byte> taken = _rest[..count];
            _rest = _rest[count..];
            return taken;
        }

        public byte Byte() => Take(1)[0];

        public ObjectId ObjectId() => Git.ObjectId.FromBytes(Take(WireProtocol.ObjectIdBytes));

        public string HistoryId()
        {
            string id = Encoding.ASCII.GetString(Take(WireProtocol.HistoryIdBytes));
            return KeynodeLayout.IsHistoryId(id) ? id : throw Malformed();
        }

        public string Text()
        {
            int length = BinaryPrimitives.ReadUInt16BigEndian(Take(2));
            if (length > WireProtocol.MaxTextBytes) throw Malformed();
            string text = Encoding.UTF8.GetString(Take(length));
            return new string(text.Select(c => char.IsControl(c) ? '?' : c).ToArray());
        }

        public byte[] Rest()
        {
            byte[] rest = _rest.ToArray();
            _rest = [];
            return rest;
        }

        public void End()
        {
            if (_rest.Length != 0) throw Malformed();
        }
    }
}
