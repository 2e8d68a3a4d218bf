using System.Text;
using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core.Tests;

/// <summary>
/// Scenario S9's hand-made appends: whoever writes bytes into the file, a reader accepts a
/// history's move only if every new commit is signed by a key allowed to write and the move
/// goes forward. Refusals are reported; the good history stays readable.
/// </summary>
public sealed class WriteEnforcementTests : IDisposable
{
    private readonly TestFiles _files = new();
    private readonly string _path;
    private readonly string _secretId;
    private readonly ObjectId _firstTip, _goodTip;

    public WriteEnforcementTests()
    {
        using Keynode node = _files.Create();
        node.Set("prod/db/password", "first"u8);
        node.Set("prod/db/password", "second"u8);
        _path = node.Path;
        SecretInfo info = node.List().Single();
        _secretId = info.Id;
        _goodTip = new ObjectId(info.Tip);
        _firstTip = node.Log("prod/db/password").Select(v => new ObjectId(v.CommitId)).First();
    }

    [Fact]
    public void UnsignedCommit_IsRefused()
    {
        Commit good = ReadCommit(_goodTip);
        var forged = new Commit(good.Tree, _goodTip, TestFiles.Owner.Public.Fingerprint, DateTimeOffset.UtcNow, new HistoryBinding(_secretId, RawKeynode.Id(_path), 3).Message());
        (ObjectId id, byte[] compressed) = LooseObject.Encode(ObjectType.Commit, forged.Payload());
        HandAppend([new PendingMember(id.LoosePath, compressed), RefUpdate(id)]);
        AssertRefusedAndGoodHistoryReadable("is not signed");
    }

    [Fact]
    public void CommitSignedByAnotherKey_IsRefused()
    {
        SecretIdentity intruder = SecretIdentity.Generate("intruder");
        (_, List<PendingMember> members) = VersionBuilder.Build(_secretId, RawKeynode.Id(_path), _goodTip, 3, "prod/db/password", "evil"u8,
            VersionKind.Value, DateTimeOffset.UtcNow, intruder, [TestFiles.Owner.Public]);
        HandAppend(members);
        AssertRefusedAndGoodHistoryReadable("not signed by a key allowed to write");
    }

    [Fact]
    public void OlderVersionReplayed_IsRefused()
    {
        HandAppend([RefUpdate(_firstTip)]);
        AssertRefusedAndGoodHistoryReadable("does not descend");
    }

    [Fact]
    public void AfterARefusal_TheOwnerCanStillWrite()
    {
        HandAppend([RefUpdate(_firstTip)]);
        using (Keynode node = Keynode.Open(_path, TestFiles.OwnerCredential))
            node.Set("prod/db/password", "third"u8);
        using Keynode reopened = Keynode.Open(_path, TestFiles.OwnerCredential);
        Assert.Equal("third"u8.ToArray(), reopened.Get("prod/db/password").Span.ToArray());
        Assert.Equal(3, reopened.Log("prod/db/password").Count);
    }

    private void AssertRefusedAndGoodHistoryReadable(string reason)
    {
        using Keynode node = Keynode.Open(_path, TestFiles.OwnerCredential);
        string warning = Assert.Single(node.Warnings);
        Assert.Contains("refused a change to secret history", warning);
        Assert.Contains(reason, warning);
        Assert.Equal("second"u8.ToArray(), node.Get("prod/db/password").Span.ToArray());
        Assert.Equal(2, node.Log("prod/db/password").Count);
        VerifyReport report = node.Verify();
        Assert.False(report.Ok);
        Assert.Contains(report.Problems, p => p.Contains(reason));
    }

    private PendingMember RefUpdate(ObjectId tip) =>
        new(KeynodeLayout.SecretRefPrefix + _secretId, Encoding.ASCII.GetBytes(tip.Hex + "\n"));

    private void HandAppend(IReadOnlyList<PendingMember> members)
    {
        RawKeynode.Append(_path, members);
    }

    private Commit ReadCommit(ObjectId id)
    {
        return RawKeynode.ReadCommit(_path, id);
    }

    public void Dispose() => _files.Dispose();
}

public sealed class VerifiedCommitCacheTests : IDisposable
{
    private readonly TestFiles _files = new();

    [Fact]
    public void OwnerSignedCommits_AreRemembered_ForeignOnesNever()
    {
        string cache = _files.PathOf("cache");
        string id;
        using (Keynode node = Keynode.Create(_files.PathOf("n.keynode"), "t", TestFiles.OwnerCredential, cache))
        {
            node.Set("a", "1"u8);
            node.Set("a", "2"u8);
            id = node.Id;
        }
        string file = Path.Combine(cache, "polykey", id + ".verified");
        Assert.Equal(2, File.ReadAllLines(file).Length);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        using (Keynode reopened = Keynode.Open(_files.PathOf("n.keynode"), TestFiles.OwnerCredential, cache))
            Assert.Equal("2"u8.ToArray(), reopened.Get("a").Span.ToArray());
        using (Keynode fresh = Keynode.Open(_files.PathOf("n.keynode"), TestFiles.OwnerCredential, _files.PathOf("other-cache")))
            Assert.Equal(2, fresh.Log("a").Count);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(_files.PathOf("other-cache"), "polykey", id + ".verified")).Length);
    }

    public void Dispose() => _files.Dispose();
}

public sealed class ScanPointCacheTests : IDisposable
{
    private readonly TestFiles _files = new();

    [Fact]
    public void RememberedScanPoint_IsUsedOnlyWhileTheRecordThereMatches()
    {
        string cache = _files.PathOf("cache"), path = _files.PathOf("n.keynode");
        using (Keynode node = Keynode.Create(path, "t", TestFiles.OwnerCredential, cache))
        {
            node.Set("a", "1"u8);
            node.Set("b", "2"u8);
        }
        byte[] whole = File.ReadAllBytes(path);
        // A cut copy under the same id: the remembered point lies beyond its end, so everything is hashed.
        File.WriteAllBytes(path, whole[..(whole.Length - 1024 - 600)]);
        using (Keynode cut = Keynode.Open(path, TestFiles.OwnerCredential, cache))
            Assert.Equal(["a"], cut.List().Select(s => s.Path));
        File.WriteAllBytes(path, whole);
        using (Keynode again = Keynode.Open(path, TestFiles.OwnerCredential, cache))
            Assert.Equal(["a", "b"], again.List().Select(s => s.Path));

        // Damage inside an already-hashed change: the cached open finds it when the object is
        // read; an open without the cache (pk verify) finds it from the change checksum.
        byte[] damaged = (byte[])whole.Clone();
        int blob = System.Text.Encoding.ASCII.GetString(damaged).IndexOf("objects/", 3000, StringComparison.Ordinal);
        damaged[blob + 512 + 30] ^= 0xFF;
        File.WriteAllBytes(path, damaged);
        // The scan point alone, without the open snapshot (which does not read those headers again at all).
        foreach (string snapshot in Directory.GetFiles(Path.Combine(cache, "polykey"), "*.open")) File.Delete(snapshot);
        Assert.Throws<PolykeyException>(() =>
        {
            using Keynode k = Keynode.Open(path, TestFiles.OwnerCredential, cache);
            foreach (SecretInfo secret in k.List()) k.Get(secret.Path).Dispose();
        });
        Assert.Contains("corrupt", Assert.Throws<PolykeyException>(() => Keynode.Open(path, TestFiles.OwnerCredential)).Message);
    }

    [Fact]
    public void Refresh_OfAFileThatDidNotGrow_TakesNoLock_AndLaterSeesNewChanges()
    {
        string path = _files.PathOf("n.keynode");
        using Keynode node = Keynode.Create(path, "t", TestFiles.OwnerCredential);
        node.Set("a", "1"u8);
        using (var other = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
        using (FileLock.Exclusive(other.SafeFileHandle))
        {
            // A writer holds the lock but has appended nothing: nothing to wait for.
            Assert.True(Task.Run(node.Refresh).Wait(TimeSpan.FromSeconds(5)), "Refresh waited for the lock of an unchanged file");
        }
        using (Keynode writer = Keynode.Open(path, TestFiles.OwnerCredential))
            writer.Set("b", "2"u8);
        node.Refresh();
        Assert.Equal(["a", "b"], node.List().Select(s => s.Path));
    }

    [Fact]
    public void ScanPoint_IsOneFixedLengthRecord_WrittenAtMostOnceASecond_AndAtClose()
    {
        string cache = _files.PathOf("cache"), path = _files.PathOf("n.keynode");
        var node = Keynode.Create(path, "t", TestFiles.OwnerCredential, cache);
        string scan = Path.Combine(cache, "polykey", node.Id + ".scan");
        long Recorded()
        {
            byte[] record = File.ReadAllBytes(scan);
            Assert.Equal(256, record.Length);
            Assert.Equal((byte)'\n', record[^1]);
            string[] fields = System.Text.Encoding.ASCII.GetString(record).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(64, fields[2].Trim().Length);
            return long.Parse(fields[0]);
        }
        // The change ends where the archive's two closing blocks begin.
        long End() => new FileInfo(path).Length - 1024;

        node.Set("a", "value"u8);
        long first = Recorded();
        Thread.Sleep(1100);
        node.Set("b", "value"u8); // a second after the last write: written at once
        Assert.Equal(End(), Recorded());
        Assert.True(Recorded() > first);
        long afterB = Recorded();
        node.Set("c", "value"u8); // within the second: kept in memory (a mount commits many times a second)
        Assert.Equal(afterB, Recorded());
        node.Dispose();
        Assert.Equal(End(), Recorded());

        // A handle that opens a keynode its cache already knows writes its first change's record at once.
        Thread.Sleep(1100);
        using Keynode again = Keynode.Open(path, TestFiles.OwnerCredential, cache);
        again.Set("d", "value"u8);
        Assert.Equal(End(), Recorded());
    }

    public void Dispose() => _files.Dispose();
}
