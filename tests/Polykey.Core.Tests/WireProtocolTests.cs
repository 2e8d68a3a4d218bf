using System.Buffers.Binary;
using System.IO.Pipes;
using Polykey.Core.Access;
using Polykey.Core.Git;
using Polykey.Core.Sync;

namespace Polykey.Core.Tests;

/// <summary>
/// The wire protocol's codec against a peer that lies: every length is checked before it is
/// trusted, a short or endless stream is one clear error, and an unknown version is refused at
/// the greeting. The last tests run a real client and server over pipes.
/// </summary>
public sealed class WireProtocolTests : IDisposable
{
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(5);
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static byte[] Frame(WireFrameType type, byte[] payload, uint? claimedLength = null)
    {
        byte[] frame = new byte[WireProtocol.HeaderBytes + payload.Length];
        frame[0] = (byte)type;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), claimedLength ?? (uint)payload.Length);
        payload.CopyTo(frame, WireProtocol.HeaderBytes);
        return frame;
    }

    private static WireReader Reader(params byte[][] frames) => new(new MemoryStream(frames.SelectMany(f => f).ToArray()), "the peer", Quick);

    [Fact]
    public void Frames_RoundTrip_ThroughWriterAndReader()
    {
        var stream = new MemoryStream();
        var writer = new WireWriter(stream, "the peer");
        var id = new ObjectId(new string('a', 40));
        writer.Write(WireFrameType.Hello, WireMessages.Hello(WireProtocol.Version));
        writer.Write(WireFrameType.Tip, WireMessages.Tip(new string('1', 32), id));
        writer.Write(WireFrameType.Ref, WireMessages.Ref(new RefUpdate(new string('2', 32), id, null)));
        writer.Write(WireFrameType.Object, id.ToBytes(), [1, 2, 3]);
        writer.Flush();
        var reader = new WireReader(new MemoryStream(stream.ToArray()), "the peer", Quick);

        Assert.Equal(WireProtocol.Version, WireMessages.DecodeHello(reader.Expect(WireFrameType.Hello), "the peer"));
        Assert.Equal((new string('1', 32), id), WireMessages.DecodeTip(reader.Expect(WireFrameType.Tip), "the peer"));
        Assert.Equal(new RefUpdate(new string('2', 32), id, null), WireMessages.DecodeRef(reader.Expect(WireFrameType.Ref), "the peer"));
        (ObjectId got, byte[] stored) = WireMessages.DecodeObject(reader.Expect(WireFrameType.Object), "the peer");
        Assert.Equal(id, got);
        Assert.Equal([1, 2, 3], stored);
        Assert.Null(reader.ReadOrEnd());
    }

    [Theory]
    [InlineData(WireFrameType.Tip, 53u)]
    [InlineData(WireFrameType.Hello, 65u)]
    [InlineData(WireFrameType.End, 1u)]
    [InlineData(WireFrameType.Keynode, 1u << 20)]
    [InlineData(WireFrameType.Object, uint.MaxValue)]
    public void OversizeFrame_IsRefused_BeforeItsPayloadIsRead(WireFrameType type, uint length)
    {
        WireException e = Assert.Throws<WireException>(() => Reader(Frame(type, [], length)).Read());
        Assert.Contains($"{type} frame of {length} bytes", e.Message);
    }

    [Fact]
    public void LyingLength_OnAShortStream_IsOneClearError()
    {
        // Claims nearly a GiB, sends ten bytes: refused without allocating what was claimed.
        long before = GC.GetAllocatedBytesForCurrentThread();
        WireException e = Assert.Throws<WireException>(() => Reader(Frame(WireFrameType.Object, new byte[10], 1u << 30)).Read());
        Assert.Contains("closed the connection in the middle of a frame", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20);
    }

    [Fact]
    public void TruncatedHeader_AndEmptyStream_AreToldApart()
    {
        Assert.Null(Reader().ReadOrEnd());
        Assert.Contains("closed the connection", Assert.Throws<WireException>(() => Reader().Read()).Message);
        Assert.Contains("in the middle of a frame", Assert.Throws<WireException>(() => Reader([(byte)WireFrameType.Tip, 0, 0]).Read()).Message);
    }

    [Fact]
    public void UnknownFrameType_IsRefused()
    {
        Assert.Contains("unknown type 200", Assert.Throws<WireException>(() => Reader(Frame((WireFrameType)200, [])).Read()).Message);
    }

    [Fact]
    public void MalformedPayloads_AreRefused()
    {
        var id = new ObjectId(new string('b', 40));
        Assert.Throws<WireException>(() => WireMessages.DecodeTip(WireMessages.Tip(new string('1', 32), id)[..40], "p"));
        Assert.Throws<WireException>(() => WireMessages.DecodeTip([.. "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"u8, .. id.ToBytes()], "p"));
        byte[] reference = WireMessages.Ref(new RefUpdate(new string('2', 32), id, null));
        reference[52] = 7;
        Assert.Throws<WireException>(() => WireMessages.DecodeRef(reference, "p"));
        Assert.Throws<WireException>(() => WireMessages.DecodeWant([8, .. id.ToBytes()], "p"));
        Assert.Throws<WireException>(() => WireMessages.DecodeObject(id.ToBytes(), "p"));
        Assert.Throws<WireException>(() => WireMessages.DecodeHello("bash: hello"u8.ToArray(), "p"));
    }

    [Fact]
    public void ErrorFrame_BecomesThePeersRefusal_WithControlCharactersStripped()
    {
        byte[] payload = WireMessages.Error(FailureKind.Conflict, "moved\u001b[2J", "push again");
        PolykeyException e = Assert.Throws<PolykeyException>(() => Reader(Frame(WireFrameType.Error, payload)).Expect(WireFrameType.Ok));
        Assert.Equal(FailureKind.Conflict, e.Kind);
        Assert.Equal("the peer: moved?[2J", e.Message);
        Assert.Equal("push again", e.Hint);
    }

    [Fact]
    public void StalledPeer_IsGivenUpOn_AfterTheTimeout()
    {
        using var pipe = new AnonymousPipeServerStream(PipeDirection.In);
        using var writeEnd = new AnonymousPipeClientStream(PipeDirection.Out, pipe.ClientSafePipeHandle);
        var reader = new WireReader(pipe, "the peer", TimeSpan.FromMilliseconds(300));
        Assert.Contains("sent nothing", Assert.Throws<WireException>(() => reader.Read()).Message);
    }

    [Fact]
    public void UnknownVersion_FromTheServer_IsRefusedClearly()
    {
        var fromServer = new MemoryStream(Frame(WireFrameType.Hello, WireMessages.Hello(2)));
        PolykeyException e = Assert.Throws<PolykeyException>(() => WireClient.Connect("far", fromServer, new MemoryStream()));
        Assert.Equal("far speaks pk wire protocol 2; this pk speaks 1", e.Message);
    }

    [Fact]
    public void UnknownVersion_FromTheClient_IsAnsweredWithAnError()
    {
        var toServer = new MemoryStream(Frame(WireFrameType.Hello, WireMessages.Hello(9)));
        var fromServer = new MemoryStream();
        PolykeyException refused = Assert.Throws<PolykeyException>(() =>
            WireServer.Serve(() => throw new InvalidOperationException("must not open"), toServer, fromServer));
        Assert.Contains("not 9", refused.Message);
        WireReader reader = new(new MemoryStream(fromServer.ToArray()), "server", Quick);
        reader.Expect(WireFrameType.Hello);
        PolykeyException e = Assert.Throws<PolykeyException>(() => reader.Expect(WireFrameType.Keynode));
        Assert.Contains("speaks wire protocol 1, not 9", e.Message);
    }

    [Fact]
    public void NotPk_OnTheFarSide_IsRefusedAtTheGreeting()
    {
        var fromServer = new MemoryStream("Welcome to host!\n"u8.ToArray());
        Assert.Throws<WireException>(() => WireClient.Connect("far", fromServer, new MemoryStream()));
    }

    [Fact]
    public void ServerThatNeverEndsItsTips_IsStoppedByTheTipBound()
    {
        var frames = new MemoryStream();
        frames.Write(Frame(WireFrameType.Hello, WireMessages.Hello(WireProtocol.Version)));
        frames.Write(Frame(WireFrameType.Keynode, [.. "0123456789abcdef0123456789abcdef"u8, .. TestFiles.Owner.Public.ToBinary()]));
        var id = new ObjectId(new string('c', 40));
        frames.Write(Frame(WireFrameType.Tip, WireMessages.Tip(new string('1', 32), id)));
        frames.Write(Frame(WireFrameType.Tip, WireMessages.Tip(new string('1', 32), id)));
        frames.Position = 0;
        Assert.Contains("twice", Assert.Throws<WireException>(() => WireClient.Connect("far", frames, new MemoryStream())).Message);
    }

    [Fact]
    public void ClientAndServer_OverPipes_ServeTipsObjectsAndAPush()
    {
        string path = _files.PathOf("served.keynode");
        using (Keynode node = Keynode.Create(path, "served", TestFiles.OwnerCredential))
        {
            node.Set("prod/a", "one"u8);
            node.Set("prod/a", "two"u8);
        }
        using var pipes = new ServedOverPipes(path);
        (Stream toServer, Stream fromServer, Task server) = (pipes.ToServer, pipes.FromServer, pipes.Server);

        using (KeynodeArchive local = KeynodeArchive.Open(path))
        using (WireClient client = WireClient.Connect("far", fromServer, toServer))
        {
            Assert.Equal(local.KeynodeId, client.KeynodeId);
            Assert.Equal(local.Owner.Fingerprint, client.Owner.Fingerprint);
            Assert.Equal(local.Tips.OrderBy(t => t.Key), client.Tips.OrderBy(t => t.Key));
            var reports = new List<TransferProgress>();
            client.Prefetch(client.Tips.Values.Select(t => new HistoryWant(t, null)).ToList(), new SynchronousProgress(reports.Add));
            // The bar moves as histories arrive, and ends full.
            Assert.Equal(new TransferProgress("downloading", 0, client.Tips.Count), reports[0]);
            Assert.Equal(new TransferProgress("downloading", client.Tips.Count, client.Tips.Count), reports[^1]);
            foreach (ObjectId offered in client.Tips.Values) Assert.Equal(local.ReadStored(offered), client.ReadStored(offered));
            Assert.Null(client.ReadStored(new ObjectId(new string('d', 40))));

            // A push that names a stale tip is refused as a conflict, and nothing is written.
            (string history, ObjectId tip) = client.Tips.First();
            long size = new FileInfo(path).Length;
            PolykeyException e = Assert.Throws<PolykeyException>(() =>
                client.Write(new OutgoingChange([], [new RefUpdate(history, tip, new ObjectId(new string('e', 40)))])));
            Assert.Equal(FailureKind.Conflict, e.Kind);
            Assert.Equal(size, new FileInfo(path).Length);

            // An object that is not what its name says never reaches the file.
            var (_, stored) = LooseObject.Encode(ObjectType.Blob, "x"u8);
            Assert.Throws<PolykeyException>(() => client.Write(new OutgoingChange([(tip, stored)], [new RefUpdate(history, tip, tip)])));
            Assert.Equal(size, new FileInfo(path).Length);
        }
        Assert.True(server.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(t => t.IsCompletedSuccessfully).Result);
    }

    [Fact]
    public void Pull_OverTheWire_FetchesEveryHistoryInOneRequest()
    {
        string served = _files.PathOf("a.keynode");
        using (Keynode a = Keynode.Create(served, "a", TestFiles.OwnerCredential))
            foreach (string path in new[] { "p/one", "p/two", "p/three" })
                for (int version = 1; version <= 3; version++) a.Set(path, System.Text.Encoding.ASCII.GetBytes($"{path} {version}"));
        using Keynode b = Keynode.Create(_files.PathOf("b.keynode"), "b", TestFiles.OwnerCredential);
        (SyncReport report, int flushes) = PullOverPipes(b, served);
        Assert.Empty(report.Refused);

        // One flush greets, one sends the pull's only request; no object was asked for alone.
        Assert.Equal(2, flushes);
        using SecretBytes value = b.Get("p/two");
        Assert.Equal("p/two 3"u8.ToArray(), value.Span.ToArray());
        Assert.Equal(3, b.Log("p/two").Count);
    }

    // b pulls, as a remote, the keynode served over pipes; how many messages b sent, and the report.
    private static (SyncReport Report, int Flushes) PullOverPipes(Keynode b, string served)
    {
        using (KeynodeArchive archive = KeynodeArchive.Open(served)) b.AddRemote(new Remote("a", served, archive.KeynodeId), archive.Owner, []);
        using var pipes = new ServedOverPipes(served);
        var counted = new FlushCounter(pipes.ToServer);
        SyncReport report;
        using (WireClient client = WireClient.Connect("far", pipes.FromServer, counted)) report = b.Receive(client, []);
        Assert.True(pipes.Server.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(t => t.IsCompletedSuccessfully).Result);
        return (report, counted.Flushes);
    }

    [Fact]
    public void Pull_OverTheWire_OfAPrunedKeynode_TakesItsStatement_InOneRequest()
    {
        string served = _files.PathOf("a.keynode");
        using (Keynode a = Keynode.Create(served, "a", TestFiles.OwnerCredential))
        {
            for (int version = 1; version <= 4; version++) a.Set("p/one", System.Text.Encoding.ASCII.GetBytes($"one {version}"));
            a.Compact(new Retention(1, null));
        }
        using Keynode b = Keynode.Create(_files.PathOf("b.keynode"), "b", TestFiles.OwnerCredential);
        (SyncReport report, int flushes) = PullOverPipes(b, served);
        Assert.Empty(report.Refused);
        // The server said which values it lacks: none was asked for alone.
        Assert.Equal(2, flushes);
        Assert.Equal([true, true, true, false], b.Log("p/one").Select(v => v.Pruned));
        VerifyReport verify = b.Verify();
        Assert.True(verify.Ok, string.Join("; ", verify.Problems));
        Assert.Equal(3, verify.Pruned);
    }

    // `pk serve` of a keynode file at the far end of two pipes, as ssh would carry it.
    private sealed class ServedOverPipes : IDisposable
    {
        private readonly AnonymousPipeServerStream _toServer = new(PipeDirection.Out);
        private readonly AnonymousPipeServerStream _fromServer = new(PipeDirection.In);
        private readonly AnonymousPipeClientStream _serverIn;
        private readonly AnonymousPipeClientStream _serverOut;

        public ServedOverPipes(string path)
        {
            _serverIn = new AnonymousPipeClientStream(PipeDirection.In, _toServer.ClientSafePipeHandle);
            _serverOut = new AnonymousPipeClientStream(PipeDirection.Out, _fromServer.ClientSafePipeHandle);
            Server = Task.Run(() =>
            {
                try { WireServer.Serve(() => KeynodeArchive.Open(path), _serverIn, _serverOut); }
                finally { _serverOut.Dispose(); }
            });
        }

        public Stream ToServer => _toServer;
        public Stream FromServer => _fromServer;
        public Task Server { get; }

        public void Dispose()
        {
            _toServer.Dispose();
            _serverIn.Dispose();
            _fromServer.Dispose();
            _serverOut.Dispose();
        }
    }

    // Counts the client's messages: the wire writer flushes once per message it sends.
    private sealed class FlushCounter(Stream inner) : Stream
    {
        public int Flushes { get; private set; }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush()
        {
            Flushes++;
            inner.Flush();
        }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}

/// <summary>Reports as they happen, on the reporting thread (Progress&lt;T&gt; would post them later).</summary>
internal sealed class SynchronousProgress(Action<TransferProgress> report) : IProgress<TransferProgress>
{
    public void Report(TransferProgress value) => report(value);
}
