namespace Polykey.Core.Sync;

/// <summary>The kinds of frame on the wire (docs/wire-protocol.md, "Messages").</summary>
public enum WireFrameType : byte
{
    Hello = 1,
    Error = 2,
    Keynode = 3,
    Tip = 4,
    End = 5,
    Want = 6,
    Object = 7,
    Missing = 8,
    Write = 9,
    Ref = 10,
    Ok = 11,
}

/// <summary>
/// The constants of the pk wire protocol: what `pk serve` and a client speak over ssh's
/// stdin/stdout. Every bound a reader checks before it trusts a length is here.
/// </summary>
public static class WireProtocol
{
    /// <summary>The one version this pk speaks; a peer speaking another is refused at the greeting.</summary>
    public const ushort Version = 1;

    /// <summary>The first bytes of every hello: a stray shell banner or another program is told apart from pk.</summary>
    public static ReadOnlySpan<byte> Magic => "polykey-wire"u8;

    /// <summary>Frame header: type (1 byte) and payload length (4 bytes, big-endian).</summary>
    public const int HeaderBytes = 5;

    /// <summary>Object ids travel as 20 raw bytes; history and keynode ids as their 32 hex digits.</summary>
    public const int ObjectIdBytes = 20;

    public const int HistoryIdBytes = 32;

    /// <summary>Error messages and hints are cut to this many bytes each.</summary>
    public const int MaxTextBytes = 1024;

    /// <summary>The most any frame but an object frame may carry.</summary>
    public const int MaxControlFrameBytes = Limits.MaxSmallMemberBytes + 1024;

    /// <summary>
    /// The most a stored (zlib) object may take: the largest object any kind may hold, plus
    /// deflate's worst-case growth on incompressible bytes, with room to spare.
    /// </summary>
    public const long MaxStoredObjectBytes = Limits.MaxValueBytes + Limits.MaxMetadataObjectBytes + (Limits.MaxValueBytes >> 6) + 4096;

    /// <summary>Histories one keynode may advertise; ids asked for in one request; refs in one push.</summary>
    public const int MaxTips = 1 << 20;

    /// <summary>Object frames in one reply or one push (each is also counted against the byte bound).</summary>
    public const int MaxObjectsPerMessage = 1 << 24;

    /// <summary>
    /// Everything one side may send in a session: the objects of one transfer plus room for
    /// the frames that name them (a million tips is about 60 MB).
    /// </summary>
    public const long MaxSessionBytes = Limits.MaxTransferBytes + (256L << 20);

    /// <summary>How long a client waits for the next bytes of a reply before giving up on a stalled peer.</summary>
    public static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(120);

    /// <summary>How long `pk serve` waits for the client's next request (the client checks what it received in between).</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromMinutes(30);

    /// <summary>The bound of a frame's payload by type, checked before the payload is read.</summary>
    public static long MaxPayload(WireFrameType type) => type switch
    {
        WireFrameType.Object => ObjectIdBytes + MaxStoredObjectBytes,
        WireFrameType.Hello => 64,
        WireFrameType.End or WireFrameType.Write or WireFrameType.Ok => 0,
        WireFrameType.Tip => HistoryIdBytes + ObjectIdBytes,
        WireFrameType.Want => 1 + 2 * ObjectIdBytes,
        WireFrameType.Missing => ObjectIdBytes,
        WireFrameType.Ref => HistoryIdBytes + 1 + 2 * ObjectIdBytes,
        WireFrameType.Error => 1 + 2 * (2 + MaxTextBytes),
        _ => MaxControlFrameBytes,
    };
}

/// <summary>
/// The wire broke: the peer closed, stalled, or sent what the protocol does not allow. An I/O
/// failure, not a refusal of one history: it ends the whole push or pull with nothing landed.
/// </summary>
public sealed class WireException(string message) : IOException(message);
