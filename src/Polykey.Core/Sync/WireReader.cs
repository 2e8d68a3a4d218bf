using System.Buffers.Binary;

namespace Polykey.Core.Sync;

/// <summary>
/// Reads frames from a peer that is not trusted: a frame's type and length are checked against
/// <see cref="WireProtocol.MaxPayload"/> before its payload is read, the payload grows only as
/// bytes arrive (a lying length costs nothing), everything received is counted against
/// <see cref="WireProtocol.MaxSessionBytes"/>, and a peer that sends nothing for
/// <see cref="Timeout"/> is given up on.
/// </summary>
public sealed class WireReader(Stream input, string peer, TimeSpan timeout)
{
    private const int Chunk = 1 << 20;
    private readonly byte[] _header = new byte[WireProtocol.HeaderBytes];
    // Frame headers are five bytes: read through a buffer, not one system call each.
    private readonly BufferedStream _input = new(input, 1 << 16);

    public string Peer => peer;
    public TimeSpan Timeout { get; set; } = timeout;
    public long Received { get; private set; }

    /// <summary>The next frame, or null when the peer closed the stream cleanly between frames.</summary>
    public (WireFrameType Type, byte[] Payload)? ReadOrEnd()
    {
        int first = Fill(_header, 0, _header.Length);
        if (first == 0) return null;
        if (first < _header.Length) throw new WireException($"{peer} closed the connection in the middle of a frame");
        byte code = _header[0];
        if (!Enum.IsDefined((WireFrameType)code)) throw new WireException($"{peer} sent a frame of unknown type {code}");
        var type = (WireFrameType)code;
        uint length = BinaryPrimitives.ReadUInt32BigEndian(_header.AsSpan(1));
        if (length > WireProtocol.MaxPayload(type))
            throw new WireException($"{peer} sent a {type} frame of {length} bytes; at most {WireProtocol.MaxPayload(type)} are allowed");
        Received += _header.Length + (long)length;
        if (Received > WireProtocol.MaxSessionBytes)
            throw new WireException($"{peer} sent more than {WireProtocol.MaxSessionBytes >> 20} MiB in one session");
        return (type, ReadPayload((int)length));
    }

    /// <summary>The next frame; the end of the stream here is an error.</summary>
    public (WireFrameType Type, byte[] Payload) Read() =>
        ReadOrEnd() ?? throw new WireException($"{peer} closed the connection");

    /// <summary>The next frame, which must be of <paramref name="type"/> (an error frame is the peer's refusal, thrown as it said).</summary>
    public byte[] Expect(WireFrameType type)
    {
        (WireFrameType got, byte[] payload) = Read();
        if (got == type) return payload;
        if (got == WireFrameType.Error) throw WireMessages.DecodeError(payload, peer);
        throw new WireException($"{peer} sent a {got} frame where a {type} frame belongs");
    }

    // Grows with what actually arrives, so a length that lies about a short stream allocates little.
    private byte[] ReadPayload(int length)
    {
        byte[] payload = new byte[Math.Min(length, Chunk)];
        int filled = 0;
        while (filled < length)
        {
            if (filled == payload.Length) Array.Resize(ref payload, (int)Math.Min(length, (long)payload.Length * 2));
            int read = Fill(payload, filled, payload.Length - filled);
            if (read < payload.Length - filled) throw new WireException($"{peer} closed the connection in the middle of a frame");
            filled += read;
        }
        return payload;
    }

    // Reads until count bytes or the end of the stream; returns how many arrived.
    private int Fill(byte[] buffer, int offset, int count)
    {
        int total = 0;
        while (total < count)
        {
            int read = ReadSome(buffer, offset + total, count - total);
            if (read == 0) break;
            total += read;
        }
        return total;
    }

    private int ReadSome(byte[] buffer, int offset, int count)
    {
        try
        {
            if (Timeout == System.Threading.Timeout.InfiniteTimeSpan) return _input.Read(buffer, offset, count);
            Task<int> read = _input.ReadAsync(buffer, offset, count);
            if (!read.IsCompleted && !((IAsyncResult)read).AsyncWaitHandle.WaitOne(Timeout))
                throw new WireException($"{peer} sent nothing for {Timeout.TotalSeconds:0} s");
            return read.GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException and not WireException || e is ObjectDisposedException)
        {
            throw new WireException($"{peer}: the connection broke ({e.GetType().Name})");
        }
    }
}
