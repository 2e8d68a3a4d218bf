using System.Text;
using Polykey.Core.Access;
using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Storage;
using Polykey.Core.Sync;

namespace Polykey.Core.Tests;

/// <summary>
/// Histories moving between keynodes: only what the receiver may read and trusts the sender
/// for, only forward, conflicts kept, and everything a hostile sender offers checked.
/// </summary>
public sealed class SyncTests : IDisposable
{
    private static readonly Lazy<SecretIdentity> ServerKey = new(() => SecretIdentity.Generate("server-b"));
    private static readonly Lazy<SecretIdentity> MalloryKey = new(() => SecretIdentity.Generate("mallory"));
    private readonly TestFiles _files = new();
    private readonly Keynode _admin;
    private readonly Keynode _server;

    public SyncTests()
    {
        _admin = _files.Create("admin.keynode");
        _admin.Set("prod/db/password", "p1"u8);
        _admin.Set("prod/api/key", "k1"u8);
        _admin.Set("staging/db/password", "s1"u8);
        _admin.Grant(ServerKey.Value.Public, read: true, write: false, ["prod/**"]);
        _server = Keynode.Create(_files.PathOf("server.keynode"), "server-b", ServerCredential);
        _server.AddRemote(new Remote("admin", _admin.Path, _admin.Id), _admin.Owner, ["prod/**"]);
    }

    private static Credential ServerCredential => new Credential.KeyFile(ServerKey.Value, "server key");

    private SyncReport Pull(string? from = null, params string[] patterns)
    {
        using KeynodeArchive source = KeynodeArchive.Open(from ?? _admin.Path);
        return _server.Receive(source, patterns);
    }

    private SyncReport Push()
    {
        using KeynodeArchive target = KeynodeArchive.Open(_admin.Path);
        return _server.Send(target, []);
    }

    private static string Value(Keynode node, string path) => Encoding.UTF8.GetString(node.Get(path).Span);

    private Keynode Reopen(Keynode node, Credential credential)
    {
        Keynode reopened = Keynode.Open(node.Path, credential);
        Assert.Empty(reopened.Warnings);
        Assert.True(reopened.Verify().Ok, string.Join("; ", reopened.Verify().Problems));
        return reopened;
    }

    [Fact]
    public void Pull_TakesExactlyWhatTheReceiverMayReadAndTrusts_AsOneChange()
    {
        long changesBefore = _server.ChangeCount;
        SyncReport report = Pull();
        Assert.Empty(report.Refused);
        Assert.Equal(["prod/api/key", "prod/db/password"], _server.List().Select(s => s.Path));
        Assert.Equal("p1", Value(_server, "prod/db/password"));
        Assert.Equal(changesBefore + 1, _server.ChangeCount);

        // Not a byte of the staging secret's history: none of its objects.
        string stagingId = _admin.List().Single(s => s.Path == "staging/db/password").Id;
        KeynodeState admin = RawKeynode.State(_admin.Path), server = RawKeynode.State(_server.Path);
        Assert.DoesNotContain(stagingId, server.SecretRefs.Keys);
        foreach (ObjectId id in admin.ObjectIds.Where(id => !admin.SecretRefs.Where(r => r.Key != stagingId).Any(r => Reaches(_admin.Path, r.Value, id))))
            Assert.False(server.TryGetObject(id, out _), $"object {id} of another secret reached the server");

        using Keynode reopened = Reopen(_server, ServerCredential);
        Assert.Equal("k1", Value(reopened, "prod/api/key"));
    }

    // Whether an object belongs to the history ending at a tip.
    private static bool Reaches(string path, ObjectId tip, ObjectId id)
    {
        for (ObjectId? at = tip; at is { } c;)
        {
            Commit commit = RawKeynode.ReadCommit(path, c);
            if (c == id || commit.Tree == id || Tree.Decode(RawKeynode.ReadObject(path, commit.Tree)).Values.Contains(id)) return true;
            at = commit.Parent;
        }
        return false;
    }

    [Fact]
    public void AReceivedHistoryMovesWhole_VersionsFromBeforeTheGrantStayUnreadable()
    {
        Pull();
        IReadOnlyList<VersionInfo> log = _server.Log("prod/db/password");
        Assert.Equal([false, true], log.Select(v => v.Readable));
        Assert.True(_server.Verify().Ok, string.Join("; ", _server.Verify().Problems));
    }

    [Fact]
    public void RemovingARemote_KeepsTheTrust_SecretsTakenStayReadable()
    {
        Pull();
        _server.RemoveRemote("admin");
        Assert.Empty(_server.Access.Remotes);
        using Keynode reopened = Reopen(_server, ServerCredential);
        Assert.Equal("p1", Value(reopened, "prod/db/password"));
        Assert.NotNull(reopened.Access.OriginOf(_admin.Id));
    }

    [Fact]
    public void Pull_AgainIsANoOp_AndAnOlderCopyNeverRollsBack()
    {
        Pull();
        string older = _files.PathOf("admin-old.keynode");
        File.Copy(_admin.Path, older);
        _admin.Set("prod/db/password", "p2"u8);
        Assert.Single(Pull().Moved);
        Assert.Empty(Pull().Moved);

        long changes = _server.ChangeCount;
        SyncReport stale = Pull(older);
        Assert.Equal(1, stale.Older);
        Assert.Empty(stale.Moved);
        Assert.Equal(changes, _server.ChangeCount);
        Assert.Equal("p2", Value(_server, "prod/db/password"));
    }

    [Fact]
    public void Patterns_TakeOnlyMatchingSecrets()
    {
        Pull(null, "prod/api/**");
        Assert.Equal(["prod/api/key"], _server.List().Select(s => s.Path));
    }

    [Fact]
    public void WriteGrant_ServerWritesAndPushes_AdminAcceptsWithServerAsSigner()
    {
        _admin.Grant(ServerKey.Value.Public, read: true, write: true, ["prod/app/*"]);
        _admin.Set("prod/app/token", "t1"u8);
        Pull();
        _server.Set("prod/app/token", "t2"u8);
        _server.Set("prod/app/new", "n1"u8); // a new secret under the admin's paths belongs to the admin's keynode
        var denied = Assert.Throws<PolykeyException>(() => _server.Set("prod/db/password", "mine"u8));
        Assert.Equal(FailureKind.AccessDenied, denied.Kind);

        SyncReport pushed = Push();
        Assert.Equal(["prod/app/new", "prod/app/token"], pushed.Moved.Select(m => m.Path).Order());
        using Keynode admin = Reopen(_admin, TestFiles.OwnerCredential);
        Assert.Equal("t2", Value(admin, "prod/app/token"));
        Assert.Equal("n1", Value(admin, "prod/app/new"));
        Assert.Equal(ServerKey.Value.Public.Fingerprint, admin.Log("prod/app/token")[^1].Signer);
    }

    [Fact]
    public void Push_WhileTheTargetMoved_WritesNothing_AndSaysPushAgain()
    {
        _admin.Grant(ServerKey.Value.Public, read: true, write: true, ["prod/app/*"]);
        _admin.Set("prod/app/token", "t1"u8);
        Pull();
        _server.Set("prod/app/token", "t2"u8);
        using KeynodeArchive target = KeynodeArchive.Open(_admin.Path);   // sees the admin's tips now
        _admin.Set("prod/app/token", "t3"u8);                               // another writer moves one
        byte[] before = File.ReadAllBytes(_admin.Path);
        var raced = Assert.Throws<PolykeyException>(() => _server.Send(target, []));
        Assert.Equal(FailureKind.Conflict, raced.Kind);
        Assert.Contains("changed while pushing", raced.Message);
        Assert.Equal(before, File.ReadAllBytes(_admin.Path));
    }

    [Fact]
    public void EveryPush_CarriesASignedAsOfStatement_AndAStaleCopyShowsAnOlderOne()
    {
        using (KeynodeArchive target = KeynodeArchive.Open(_server.Path)) _admin.Send(target, []);
        _server.Refresh();
        DateTimeOffset first = _server.AsOf(_admin.Id) ?? throw new Xunit.Sdk.XunitException("no as-of statement arrived");
        Assert.True(DateTimeOffset.UtcNow - first < TimeSpan.FromMinutes(1));
        string stale = _files.PathOf("admin-stale.keynode");
        File.Copy(_admin.Path, stale);

        Thread.Sleep(1100); // statements are signed to the second
        using (KeynodeArchive target = KeynodeArchive.Open(_server.Path)) _admin.Send(target, []);
        _server.Refresh();
        DateTimeOffset second = _server.AsOf(_admin.Id)!.Value;
        Assert.True(second > first);

        // Another subscriber fed only the stale copy can tell how old its news is; no copy rolls a statement back.
        using Keynode other = Keynode.Create(_files.PathOf("other.keynode"), "other", new Credential.KeyFile(MalloryKey.Value, "other key"));
        other.AddRemote(new Remote("admin", stale, _admin.Id), _admin.Owner, []);
        using (KeynodeArchive source = KeynodeArchive.Open(stale)) other.Receive(source, []);
        Assert.Equal(first, other.AsOf(_admin.Id));
        Assert.Equal(1, Pull(stale).Older);
        Assert.Equal(second, _server.AsOf(_admin.Id));
    }

    [Fact]
    public void Conflict_KeepsBothTips_OthersStillSync_AndResolveSettlesIt()
    {
        _admin.Grant(ServerKey.Value.Public, read: true, write: true, ["prod/db/*"]);
        Pull();
        _admin.Set("prod/db/password", "admin's"u8);
        _admin.Set("prod/api/key", "k2"u8);
        _server.Set("prod/db/password", "server's"u8);
        _server.Set("prod/db/user", "u1"u8);

        SyncReport pushed = Push();
        Assert.Single(pushed.Conflicts);
        Assert.Contains("prod/db/user", pushed.Moved.Select(m => m.Path)); // the diverged secret holds back nothing else
        SyncReport pulled = Pull();
        SyncConflict conflict = Assert.Single(pulled.Conflicts);
        Assert.Equal("prod/db/password", conflict.Path);
        Assert.Equal("k2", Value(_server, "prod/api/key"));
        Assert.Equal("server's", Value(_server, "prod/db/password"));
        Assert.Equal("admin's", Encoding.UTF8.GetString(_server.GetTheirs("prod/db/password").Span));
        using (Keynode reopened = Reopen(_server, ServerCredential)) Assert.Single(reopened.Conflicts());

        _server.Resolve("prod/db/password", theirs: true);
        Assert.Empty(_server.Conflicts());
        Assert.Equal("admin's", Value(_server, "prod/db/password"));
        Assert.Empty(Pull().Conflicts);
        Assert.Single(Push().Moved);
        using Keynode admin = Reopen(_admin, TestFiles.OwnerCredential);
        Assert.Equal("admin's", Value(admin, "prod/db/password"));
        Assert.Equal(ServerKey.Value.Public.Fingerprint, admin.Log("prod/db/password")[^1].Signer);
    }

    [Fact]
    public void Revoked_ServerLearnsIt_ReceivesNothingNew_AndCannotWrite()
    {
        _admin.Grant(ServerKey.Value.Public, read: true, write: true, ["prod/**"]);
        Pull();
        _admin.Revoke(ServerKey.Value.Public, []);
        _admin.Set("prod/db/password", "after revocation"u8);
        Pull();
        Assert.NotEqual("after revocation", Value(_server, "prod/db/password"));
        var refused = Assert.Throws<PolykeyException>(() => _server.Set("prod/api/key", "k-evil"u8));
        Assert.Equal(FailureKind.AccessDenied, refused.Kind);
    }

    [Fact]
    public void RulesView_TellsAGranteeOnlyWhatConcernsItsPaths()
    {
        SecretIdentity other = MalloryKey.Value;
        _admin.Grant(other.Public, read: true, write: true, ["staging/**"]);
        _admin.Grant(ServerKey.Value.Public, read: false, write: true, ["prod/app/*"]);
        AccessList view = _admin.Access.ViewFor(_admin.Access.GrantOf(ServerKey.Value.Public.Fingerprint)!);
        Assert.Equal([ServerKey.Value.Public.Fingerprint], view.Grants.Select(g => g.Identity.Fingerprint));
        Assert.Empty(view.Origins);
        Assert.Empty(view.Revocations);
    }

    [Theory]
    [InlineData("prod/**", "prod/db", true)]
    [InlineData("prod/**", "staging/**", false)]
    [InlineData("prod/*/password", "prod/db/*", true)]
    [InlineData("prod/*", "prod/a/b", false)]
    [InlineData("**", "x", true)]
    [InlineData("a*", "*b", true)]
    [InlineData("*", "**/a", false)]
    [InlineData("prod/?b", "prod/a?", true)]
    public void PatternOverlap_IsExactForTheseShapes(string a, string b, bool overlap)
    {
        Assert.Equal(overlap, PatternOverlap.MayOverlap(a, b));
        Assert.Equal(overlap, PatternOverlap.MayOverlap(b, a));
    }

    // --- hostile senders ---

    private (string Id, string Tip) AdminSecret(string path)
    {
        SecretInfo info = _admin.List().Single(s => s.Path == path);
        return (info.Id, info.Tip);
    }

    private void AssertRefusedAndRestLands(SyncReport report, string reason)
    {
        Assert.True(report.Refused.Any(r => r.Reason.Contains(reason, StringComparison.Ordinal)), string.Join("; ", report.Refused.Select(r => r.Reason)) + " moved " + string.Join(",", report.Moved.Select(m => m.Path)));
        Assert.Contains(report.Refused, r => r.Reason.Contains(reason, StringComparison.Ordinal));
        Assert.Contains("prod/api/key", _server.List().Select(s => s.Path));
        using Keynode reopened = Reopen(_server, ServerCredential);
        Assert.Equal("k1", Value(reopened, "prod/api/key"));
    }

    [Fact]
    public void ForeignSignedVersion_IsRefused_TheRestLands()
    {
        (string id, string tip) = AdminSecret("prod/db/password");
        (_, List<PendingMember> forged) = VersionBuilder.Build(id, _admin.Id, new ObjectId(tip), RawKeynode.NextSequence(_admin.Path, new ObjectId(tip)), "prod/db/password", "forged"u8,
            VersionKind.Value, DateTimeOffset.UtcNow, MalloryKey.Value, [ServerKey.Value.Public]);
        RawKeynode.Append(_admin.Path, forged);
        AssertRefusedAndRestLands(Pull(), "not signed by a key allowed to write it");
        Assert.DoesNotContain("prod/db/password", _server.List().Select(s => s.Path));
    }

    [Fact]
    public void UnsignedVersion_IsRefused_TheRestLands()
    {
        (string id, string tip) = AdminSecret("prod/db/password");
        Commit good = RawKeynode.ReadCommit(_admin.Path, new ObjectId(tip));
        var unsigned = new Commit(good.Tree, new ObjectId(tip), _admin.Owner.Fingerprint, DateTimeOffset.UtcNow,
            new HistoryBinding(id, _admin.Id, RawKeynode.NextSequence(_admin.Path, new ObjectId(tip))).Message());
        (ObjectId commit, byte[] stored) = LooseObject.Encode(ObjectType.Commit, unsigned.Payload());
        RawKeynode.Append(_admin.Path, [new PendingMember(commit.LoosePath, stored),
            new PendingMember(KeynodeLayout.SecretRefPrefix + id, Encoding.ASCII.GetBytes(commit.Hex + "\n"))]);
        AssertRefusedAndRestLands(Pull(), "is not signed");
        Assert.DoesNotContain("prod/db/password", _server.List().Select(s => s.Path));
    }

    [Fact]
    public void ForgedRulesView_IsRefused()
    {
        string rulesId = Keynode.RulesHistoryId(_admin.Id, ServerKey.Value.Public.Fingerprint);
        AccessList lie = new AccessList([new Grant(MalloryKey.Value.Public, [], ["**"])], []) { For = ServerKey.Value.Public.Fingerprint };
        (_, List<PendingMember> forged) = VersionBuilder.Build(VersionBuilder.NewSecretId(), _admin.Id, null, 1, AccessList.RulesMessageName, lie.Serialize(),
            VersionKind.Rules, DateTimeOffset.UtcNow, MalloryKey.Value, [ServerKey.Value.Public]);
        // Under the rules history's own id, as the view's next version.
        forged[^1] = new PendingMember(KeynodeLayout.SecretRefPrefix + rulesId, forged[^1].Data);
        RawKeynode.Append(_admin.Path, forged);
        SyncReport report = Pull();
        Assert.Contains(report.Refused, r => r.Id == rulesId);
        Assert.Equal(2, _server.List().Count);
    }

    [Fact]
    public void VersionReplayedUnderAnotherId_IsRefused()
    {
        (_, string tip) = AdminSecret("prod/db/password");
        string replayId = VersionBuilder.NewSecretId();
        RawKeynode.Append(_admin.Path, [new PendingMember(KeynodeLayout.SecretRefPrefix + replayId, Encoding.ASCII.GetBytes(tip + "\n"))]);
        SyncReport report = Pull();
        Assert.Contains(report.Refused, r => r.Id == replayId && r.Reason.Contains("replayed under another id"));
        Assert.Equal(2, _server.List().Count);
    }

    [Theory]
    [InlineData("../etc/passwd")]
    [InlineData("/etc/passwd")]
    [InlineData("prod/../../x")]
    public void OwnerSignedVersionWithABadPath_IsRefused(string badPath)
    {
        (_, List<PendingMember> members) = VersionBuilder.Build(VersionBuilder.NewSecretId(), _admin.Id, null, 1, badPath, "x"u8,
            VersionKind.Value, DateTimeOffset.UtcNow, TestFiles.Owner, [TestFiles.Owner.Public, ServerKey.Value.Public]);
        RawKeynode.Append(_admin.Path, members);
        SyncReport report = Pull();
        Assert.Contains(report.Refused, r => r.Reason.Contains("invalid path"));
        Assert.Equal(["prod/api/key", "prod/db/password"], _server.List().Select(s => s.Path));
    }

    [Fact]
    public void ZlibBombAndMissingObjects_AreRefused_NothingInflatesUnbounded()
    {
        // A commit object whose header declares 900 MB, compressed to a few KB.
        byte[] bomb = Deflate(Encoding.ASCII.GetBytes("commit 900000000\0").Concat(new byte[4 << 20]).ToArray());
        string bombId = "0123456789abcdef0123456789abcdef01234567";
        string missingId = "89abcdef0123456789abcdef0123456789abcdef";
        string bombHistory = VersionBuilder.NewSecretId(), missingHistory = VersionBuilder.NewSecretId();
        RawKeynode.Append(_admin.Path,
        [
            new PendingMember("objects/" + bombId[..2] + "/" + bombId[2..], bomb),
            new PendingMember(KeynodeLayout.SecretRefPrefix + bombHistory, Encoding.ASCII.GetBytes(bombId + "\n")),
            new PendingMember(KeynodeLayout.SecretRefPrefix + missingHistory, Encoding.ASCII.GetBytes(missingId + "\n")),
        ]);
        SyncReport report = Pull();
        Assert.Contains(report.Refused, r => r.Id == bombHistory);
        Assert.Contains(report.Refused, r => r.Id == missingHistory && r.Reason.Contains("lacks git object"));
        Assert.Equal(2, _server.List().Count);
    }

    private static byte[] Deflate(byte[] data)
    {
        using var output = new MemoryStream();
        using (var z = new System.IO.Compression.ZLibStream(output, System.IO.Compression.CompressionLevel.SmallestSize)) z.Write(data);
        return output.ToArray();
    }

    [Fact]
    public void HistoriesOfAnUntrustedKeynode_AreSkippedNotRefused()
    {
        using Keynode third = Keynode.Create(_files.PathOf("third.keynode"), "third", new Credential.KeyFile(MalloryKey.Value, "mallory key"));
        third.Grant(ServerKey.Value.Public, read: true, write: false, ["prod/**"]);
        third.Grant(TestFiles.Owner.Public, read: true, write: false, ["prod/**"]); // so the admin's keynode may hold it
        third.Set("prod/third", "3"u8);
        third.AddRemote(new Remote("admin", _admin.Path, _admin.Id), _admin.Owner, []);
        using (KeynodeArchive target = KeynodeArchive.Open(_admin.Path)) third.Send(target, []);
        SyncReport report = Pull();
        Assert.Empty(report.Refused);
        Assert.Contains(report.Skipped, s => s.Reason.Contains(third.Id[..8]));
        Assert.DoesNotContain("prod/third", _server.List().Select(s => s.Path));
    }

    [Fact]
    public void TwoKeynodesOfOneOwner_ShareEverything_ButNotTheirAccessLists()
    {
        using Keynode second = _files.Create("second.keynode");
        second.AddRemote(new Remote("admin", _admin.Path, _admin.Id), _admin.Owner, []);
        SyncReport report;
        using (KeynodeArchive source = KeynodeArchive.Open(_admin.Path)) report = second.Receive(source, []);
        Assert.Empty(report.Refused);
        Assert.Equal(["prod/api/key", "prod/db/password", "staging/db/password"], second.List().Select(s => s.Path));
        Assert.Empty(second.Access.Grants); // the admin's grants stay the admin's
        using Keynode reopened = Reopen(second, TestFiles.OwnerCredential);
        Assert.Equal("s1", Value(reopened, "staging/db/password"));
    }

    [Fact]
    public void AnotherOwnerForATrustedKeynode_IsRefused()
    {
        var refused = Assert.Throws<PolykeyException>(() =>
            _server.AddRemote(new Remote("admin2", _admin.Path, _admin.Id), MalloryKey.Value.Public, []));
        Assert.Equal(FailureKind.AccessDenied, refused.Kind);
        Assert.Contains("trusts owner", refused.Message);
    }

    public void Dispose()
    {
        _admin.Dispose();
        _server.Dispose();
        _files.Dispose();
    }
}
