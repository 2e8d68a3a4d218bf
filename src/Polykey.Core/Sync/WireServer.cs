using Polykey.Core.Git;

namespace Polykey.Core.Sync;

/// <summary>
/// The far side of the wire (`pk serve`): greets, opens the keynode with no key, advertises its
/// id, owner and tips, then answers requests for objects and lands pushes through
/// <see cref="KeynodeArchive.Write"/> until the client closes its end.
/// </summary>
public static class WireServer
{
    public static void Serve(Func<KeynodeArchive> open, Stream fromClient, Stream toClient)
    {
        var reader = new WireReader(fromClient, "the client", WireProtocol.RequestTimeout);
        var writer = new WireWriter(toClient, "the client");
        writer.Write(WireFrameType.Hello, WireMessages.Hello(WireProtocol.Version));
        writer.Flush();
        ushort version = WireMessages.DecodeHello(reader.Expect(WireFrameType.Hello), reader.Peer);
        if (version != WireProtocol.Version)
        {
            // The client is told why; pk serve itself fails too, so ssh's exit status says so.
            var refusal = PolykeyException.Failed($"pk serve speaks wire protocol {WireProtocol.Version}, not {version}",
                "use the same pk release on both sides");
            Refuse(writer, refusal);
            throw refusal;
        }
        KeynodeArchive archive;
        try
        {
            archive = open();
        }
        catch (PolykeyException e)
        {
            Refuse(writer, e);
            throw;
        }
        using (archive)
        {
            Advertise(archive, writer);
            while (reader.ReadOrEnd() is { } request)
            {
                if (request.Type == WireFrameType.Want) SendObjects(archive, request.Payload, reader, writer);
                else if (request.Type == WireFrameType.Write) Receive(archive, reader, writer);
                else throw new WireException($"the client sent a {request.Type} frame where a request belongs");
            }
        }
    }

    private static void Refuse(WireWriter writer, PolykeyException e)
    {
        writer.Write(WireFrameType.Error, WireMessages.Error(e.Kind, e.Message, e.Hint));
        writer.Flush();
    }

    private static void Advertise(KeynodeArchive archive, WireWriter writer)
    {
        writer.Write(WireFrameType.Keynode, WireMessages.Keynode(archive.KeynodeId, archive.Owner.ToBinary()));
        foreach ((string id, ObjectId tip) in archive.Tips) writer.Write(WireFrameType.Tip, WireMessages.Tip(id, tip));
        writer.Write(WireFrameType.End, []);
        writer.Flush();
    }

    // The first want arrived as the frame that started this request; the rest follow up to End.
    private static void SendObjects(KeynodeArchive archive, byte[] first, WireReader reader, WireWriter writer)
    {
        var wants = new List<(ObjectId Id, bool Walk, ObjectId? Have)>();
        byte[] payload = first;
        while (true)
        {
            wants.Add(WireMessages.DecodeWant(payload, reader.Peer));
            if (wants.Count > WireProtocol.MaxTips) throw new WireException($"the client asked for more than {WireProtocol.MaxTips} objects at once");
            (WireFrameType type, payload) = reader.Read();
            if (type == WireFrameType.End) break;
            if (type != WireFrameType.Want) throw new WireException($"the client sent a {type} frame inside a request");
        }
        new HistoryWalk(archive, writer, wants.Where(w => w.Have is not null).Select(w => w.Have!.Value)).Send(wants);
        writer.Write(WireFrameType.End, []);
        writer.Flush();
    }

    private static void Receive(KeynodeArchive archive, WireReader reader, WireWriter writer)
    {
        var objects = new List<(ObjectId, byte[])>();
        var refs = new List<RefUpdate>();
        long bytes = 0;
        PolykeyException? refused = null;
        while (reader.Read() is var (type, payload) && type != WireFrameType.End)
        {
            if (type == WireFrameType.Object && refs.Count == 0)
            {
                (ObjectId id, byte[] stored) = WireMessages.DecodeObject(payload, reader.Peer);
                refused ??= CheckNamed(id, stored);
                if (objects.Count >= WireProtocol.MaxObjectsPerMessage || (bytes += stored.Length) > Limits.MaxTransferBytes)
                    throw new WireException($"the client pushes more than one transfer may carry ({Limits.MaxTransferBytes >> 30} GiB)");
                objects.Add((id, stored));
            }
            else if (type == WireFrameType.Ref)
            {
                if (refs.Count >= WireProtocol.MaxTips) throw new WireException($"the client pushes more than {WireProtocol.MaxTips} refs");
                refs.Add(WireMessages.DecodeRef(payload, reader.Peer));
            }
            else throw new WireException($"the client sent a {type} frame inside a push");
        }
        try
        {
            if (refused is not null) throw refused;
            archive.Write(new OutgoingChange(objects, refs));
        }
        catch (PolykeyException e)
        {
            Refuse(writer, e);
            return;
        }
        writer.Write(WireFrameType.Ok, []);
        writer.Flush();
    }

    // Readers would refuse an object that is not what its name says; it is not written here in the first place.
    // The push is read to its end either way, so the refusal arrives where the client expects the answer.
    private static PolykeyException? CheckNamed(ObjectId id, byte[] stored)
    {
        try
        {
            using Git.ObjectStream stream = Git.ObjectStream.Open(id, new MemoryStream(stored, writable: false), stored.LongLength, Git.LooseObject.MaxObjectBytes(ObjectType.Blob));
            stream.CopyTo(Stream.Null);
            stream.Finish();
            return null;
        }
        catch (PolykeyException e)
        {
            return PolykeyException.Failed($"the push holds an object that is not what its name says ({e.Message}); nothing was written");
        }
    }
}
