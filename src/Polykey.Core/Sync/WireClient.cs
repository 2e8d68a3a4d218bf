using Polykey.Core.Crypto;
using Polykey.Core.Git;

namespace Polykey.Core.Sync;

/// <summary>
/// A keynode served by `pk serve` at the other end of two streams: the greeting and the
/// advertisement (id, owner, tips) are read when connecting; objects come in batches
/// (<see cref="Prefetch"/>) or one at a time; a push is one request answered by ok or a
/// refusal. Everything received is bounded as it is read and judged by the receiving keynode.
/// </summary>
public sealed class WireClient : IHistoryTarget, IPrefetchingHistorySource
{
    private readonly WireReader _reader;
    private readonly WireWriter _writer;
    private readonly Stream _toServer;
    private readonly Action? _closed;
    private readonly Dictionary<ObjectId, byte[]> _fetched = [];
    private readonly HashSet<ObjectId> _missing = [];
    private readonly Dictionary<string, ObjectId> _tips = new(StringComparer.Ordinal);
    private long _fetchedBytes;

    private WireClient(string location, Stream fromServer, Stream toServer, Action? closed)
    {
        Location = location;
        _reader = new WireReader(fromServer, location, WireProtocol.ReplyTimeout);
        _writer = new WireWriter(toServer, location);
        _toServer = toServer;
        _closed = closed;
    }

    public string Location { get; }
    public string KeynodeId { get; private set; } = "";
    public Identity Owner { get; private set; } = null!;
    public IReadOnlyDictionary<string, ObjectId> Tips => _tips;

    /// <summary>Greets the server and reads what it holds; <paramref name="closed"/> runs on dispose, after this side closed its stream.</summary>
    public static WireClient Connect(string location, Stream fromServer, Stream toServer, Action? closed = null, TimeSpan? timeout = null)
    {
        var client = new WireClient(location, fromServer, toServer, closed);
        if (timeout is { } t) client._reader.Timeout = t;
        try
        {
            client.Handshake();
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    private void Handshake()
    {
        _writer.Write(WireFrameType.Hello, WireMessages.Hello(WireProtocol.Version));
        _writer.Flush();
        ushort version = WireMessages.DecodeHello(_reader.Expect(WireFrameType.Hello), Location);
        if (version != WireProtocol.Version)
            throw PolykeyException.Failed($"{Location} speaks pk wire protocol {version}; this pk speaks {WireProtocol.Version}",
                "use the same pk release on both sides");
        (KeynodeId, byte[] certificate) = WireMessages.DecodeKeynode(_reader.Expect(WireFrameType.Keynode), Location);
        Owner = Identity.Load(certificate, $"the owner key {Location} sent");
        while (_reader.Read() is var (type, payload) && type != WireFrameType.End)
        {
            if (type != WireFrameType.Tip) throw new WireException($"{Location} sent a {type} frame among its tips");
            if (_tips.Count >= WireProtocol.MaxTips) throw new WireException($"{Location} advertises more than {WireProtocol.MaxTips} histories");
            (string id, ObjectId tip) = WireMessages.DecodeTip(payload, Location);
            if (!_tips.TryAdd(id, tip)) throw new WireException($"{Location} advertises history {id[..8]} twice");
        }
    }

    /// <summary>Asks for every history's objects below its tip, down to what this side holds, in one exchange.</summary>
    public void Prefetch(IReadOnlyList<HistoryWant> wants, IProgress<TransferProgress>? progress = null)
    {
        if (wants.Count == 0) return;
        foreach (HistoryWant want in wants) _writer.Write(WireFrameType.Want, WireMessages.Want(want.Tip, walk: true, want.Have));
        // The server walks the wants in order, each from its tip: a wanted tip arriving is one more history under way.
        var tips = wants.Select(w => w.Tip).ToHashSet();
        int started = 0;
        progress?.Report(new TransferProgress("downloading", 0, wants.Count));
        ReceiveObjects(id =>
        {
            if (tips.Remove(id)) progress?.Report(new TransferProgress("downloading", ++started, wants.Count));
        });
    }

    /// <summary>An object fetched in a batch (handed over once: the receiver keeps its own copy), else asked for alone.</summary>
    public byte[]? ReadStored(ObjectId id)
    {
        if (_fetched.Remove(id, out byte[]? stored))
        {
            _fetchedBytes -= stored.Length;
            return stored;
        }
        if (_missing.Contains(id)) return null;
        _writer.Write(WireFrameType.Want, WireMessages.Want(id, walk: false, have: null));
        ReceiveObjects();
        if (!_fetched.ContainsKey(id) && !_missing.Contains(id)) throw new WireException($"{Location} did not answer for object {id}");
        return ReadStored(id);
    }

    // Ends a request and reads the reply: object and missing frames up to End.
    private void ReceiveObjects(Action<ObjectId>? received = null)
    {
        _writer.Write(WireFrameType.End, []);
        _writer.Flush();
        int count = 0, missing = 0;
        while (_reader.Read() is var (type, payload) && type != WireFrameType.End)
        {
            if (++count > WireProtocol.MaxObjectsPerMessage) throw new WireException($"{Location} sent more than {WireProtocol.MaxObjectsPerMessage} objects at once");
            if (type == WireFrameType.Missing)
            {
                // Each is remembered, so their number is kept to what a request can name.
                if (++missing > WireProtocol.MaxTips) throw new WireException($"{Location} says more than {WireProtocol.MaxTips} objects are missing at once");
                _missing.Add(WireMessages.DecodeMissing(payload, Location));
                continue;
            }
            if (type == WireFrameType.Error) throw WireMessages.DecodeError(payload, Location);
            if (type != WireFrameType.Object) throw new WireException($"{Location} sent a {type} frame among objects");
            (ObjectId id, byte[] stored) = WireMessages.DecodeObject(payload, Location);
            if (_fetched.TryGetValue(id, out byte[]? earlier)) _fetchedBytes -= earlier.Length;
            _fetched[id] = stored;
            received?.Invoke(id);
            if ((_fetchedBytes += stored.Length) > Limits.MaxTransferBytes)
                throw PolykeyException.Failed($"{Location} offers more than {Limits.MaxTransferBytes >> 30} GiB in one transfer",
                    "pull fewer secrets at a time: name patterns after the remote");
        }
    }

    /// <summary>Sends a push as one request; the server lands it only if every ref still stands where this side saw it.</summary>
    public void Write(OutgoingChange change)
    {
        if (change.Refs.Count == 0) return;
        _writer.Write(WireFrameType.Write, []);
        foreach ((ObjectId id, byte[] stored) in change.Objects) _writer.Write(WireFrameType.Object, id.ToBytes(), stored);
        foreach (RefUpdate update in change.Refs) _writer.Write(WireFrameType.Ref, WireMessages.Ref(update));
        _writer.Write(WireFrameType.End, []);
        _writer.Flush();
        _reader.Expect(WireFrameType.Ok);
    }

    public void Dispose()
    {
        try
        {
            _toServer.Dispose(); // the server sees the end of its input and exits
        }
        catch (IOException)
        {
            // It is gone already.
        }
        _closed?.Invoke();
    }
}
