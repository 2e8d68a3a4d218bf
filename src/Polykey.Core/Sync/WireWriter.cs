using System.Buffers.Binary;

namespace Polykey.Core.Sync;

/// <summary>Writes frames: type, big-endian payload length, payload. Nothing reaches the peer before <see cref="Flush"/>.</summary>
public sealed class WireWriter(Stream output, string peer)
{
    private readonly BufferedStream _output = new(output, 1 << 16);
    private readonly byte[] _header = new byte[WireProtocol.HeaderBytes];

    public void Write(WireFrameType type, ReadOnlySpan<byte> payload) => Write(type, payload, []);

    /// <summary>A frame whose payload is two parts (an id and an object), written without joining them.</summary>
    public void Write(WireFrameType type, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        long length = (long)first.Length + second.Length;
        if (length > WireProtocol.MaxPayload(type)) throw PolykeyException.Failed($"a {type} frame of {length} bytes is more than the wire protocol allows");
        _header[0] = (byte)type;
        BinaryPrimitives.WriteUInt32BigEndian(_header.AsSpan(1), (uint)length);
        try
        {
            _output.Write(_header);
            _output.Write(first);
            _output.Write(second);
        }
        catch (IOException)
        {
            throw new WireException($"{peer} closed the connection");
        }
    }

    public void Flush()
    {
        try
        {
            _output.Flush();
        }
        catch (IOException)
        {
            throw new WireException($"{peer} closed the connection");
        }
    }
}
