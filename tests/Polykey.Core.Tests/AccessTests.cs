using System.Text;
using Polykey.Core.Access;
using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core.Tests;

/// <summary>Capabilities are keys: read grants encrypt to the grantee, write grants let its commits in, revocation undoes both.</summary>
public sealed class AccessTests : IDisposable
{
    private static readonly Lazy<SecretIdentity> Server = new(() => SecretIdentity.Generate("server-b"));
    private static readonly Lazy<SecretIdentity> Writer = new(() => SecretIdentity.Generate("writer-c"));
    private readonly TestFiles _files = new();
    private readonly Keynode _node;

    public AccessTests()
    {
        _node = _files.Create();
        _node.Set("prod/db/password", "p1"u8);
        _node.Set("prod/api/key", "k1"u8);
        _node.Set("staging/db/password", "s1"u8);
    }

    private bool ServerCanRead(string path, int? version = null) =>
        SecretMessage.TryDecrypt(CurrentMessage(path, version), Server.Value, "test") is not null;

    private byte[] CurrentMessage(string path, int? version)
    {
        string commit = version is null ? _node.List().Single(s => s.Path == path).Tip : _node.Log(path)[version.Value - 1].CommitId;
        byte[] Read(ObjectId id) => RawKeynode.ReadObject(_node.Path, id);
        Commit c = Commit.Decode(new ObjectId(commit), Read(new ObjectId(commit))).Commit;
        IReadOnlyDictionary<string, ObjectId> tree = Tree.Decode(Read(c.Tree));
        VersionBuilder.KindOf(tree, out ObjectId blob);
        return Read(blob);
    }

    [Fact]
    public void ReadGrant_ReencryptsMatchingSecrets_AndLaterVersionsToo()
    {
        IReadOnlyList<string> reencrypted = _node.Grant(Server.Value.Public, read: true, write: false, ["prod/**"]);
        Assert.Equal(["prod/api/key", "prod/db/password"], reencrypted.Order());
        Assert.True(ServerCanRead("prod/db/password"));
        Assert.False(ServerCanRead("prod/db/password", version: 1));
        Assert.False(ServerCanRead("staging/db/password"));
        _node.Set("prod/new/token", "t"u8);
        Assert.True(ServerCanRead("prod/new/token"));
        Assert.Equal("p1"u8.ToArray(), _node.Get("prod/db/password").Span.ToArray());

        using Keynode reopened = Keynode.Open(_node.Path, TestFiles.OwnerCredential);
        Grant grant = Assert.Single(reopened.Access.Grants);
        Assert.Equal(["prod/**"], grant.Read);
        Assert.Empty(reopened.Warnings);
    }

    [Fact]
    public void Revoke_ReencryptsWithoutTheKey_AndRotateNeededListsWhatItCouldRead()
    {
        _node.Grant(Server.Value.Public, read: true, write: false, ["prod/**"]);
        IReadOnlyList<string> exposed = _node.Revoke(Server.Value.Public, []);
        Assert.Equal(["prod/api/key", "prod/db/password"], exposed.Order());
        Assert.False(ServerCanRead("prod/db/password"));
        _node.Set("prod/db/password", "p2"u8);
        Assert.False(ServerCanRead("prod/db/password"));
        var needed = _node.RotateNeeded();
        Assert.Equal(["prod/api/key", "prod/db/password"], needed.Select(n => n.Path));
        Assert.Equal([2], needed.Single(n => n.Path == "prod/db/password").Versions);
        Assert.Equal("server-b", needed[0].Identity.Label);
    }

    [Fact]
    public void WriteGrant_AcceptsGranteeCommitsOnlyUnderItsPatterns_AndNotAfterRevocation()
    {
        _node.Grant(Writer.Value.Public, read: true, write: true, ["shared/**"]);
        _node.Set("shared/config", "owner"u8);
        AppendSignedBy(Writer.Value, "shared/config", "by-writer");
        AppendSignedBy(Writer.Value, "prod/db/password", "hijack");
        using (Keynode opened = Keynode.Open(_node.Path, TestFiles.OwnerCredential))
        {
            Assert.Equal("by-writer"u8.ToArray(), opened.Get("shared/config").Span.ToArray());
            Assert.Equal("p1"u8.ToArray(), opened.Get("prod/db/password").Span.ToArray());
            Assert.Contains(opened.Warnings, w => w.Contains("not signed by a key allowed to write"));
        }
        _node.Refresh();
        _node.Revoke(Writer.Value.Public, []);
        AppendSignedBy(Writer.Value, "shared/config", "after-revoke");
        using Keynode last = Keynode.Open(_node.Path, TestFiles.OwnerCredential);
        Assert.Equal("by-writer"u8.ToArray(), last.Get("shared/config").Span.ToArray());
        Assert.Equal(2, last.Warnings.Count);
    }

    [Fact]
    public void ForgedAccessListChange_IsRefused()
    {
        _node.Grant(Server.Value.Public, read: true, write: false, ["prod/**"]);
        string accessId = Encoding.ASCII.GetString(File.ReadAllBytes(_node.Path)).Split("refs/secrets/").Skip(1)
            .Select(s => s[..32]).First(id => IsAccessHistory(id));
        var forged = new AccessList([new Grant(Writer.Value.Public, ["**"], ["**"])], []);
        AppendVersion(Writer.Value, accessId, TipOf(accessId), AccessList.MessageName, forged.Serialize(), VersionKind.AccessList);
        using Keynode opened = Keynode.Open(_node.Path, TestFiles.OwnerCredential);
        Assert.Contains(opened.Warnings, w => w.Contains("not signed by a key allowed to write"));
        Assert.Equal("server-b", Assert.Single(opened.Access.Grants).Identity.Label);
    }

    [Fact]
    public void AccessList_RevealsNoPatternOrPeerInPlainText()
    {
        _node.Grant(Server.Value.Public, read: true, write: false, ["prod/**"]);
        byte[] file = File.ReadAllBytes(_node.Path);
        Assert.True(file.AsSpan().IndexOf("prod/**"u8) < 0);
        Assert.True(file.AsSpan().IndexOf("server-b"u8) < 0);
    }

    [Fact]
    public void OnlyTheOwnersSigningKey_MayGrant()
    {
        var reader = new Credential.KeyFile(SecretIdentity.Load(Encoding.ASCII.GetBytes(TestFiles.Owner.ToReadOnlyArmored()), "ro"), "ro");
        using Keynode readOnly = Keynode.Open(_node.Path, reader);
        Assert.Equal(FailureKind.AccessDenied, Assert.Throws<PolykeyException>(() => readOnly.Grant(Server.Value.Public, true, false, ["prod/**"])).Kind);
    }

    private bool IsAccessHistory(string id)
    {
        try { return KindOf(TipOf(id)) == VersionKind.AccessList; }
        catch (KeyNotFoundException) { return false; }
    }

    private VersionKind? KindOf(ObjectId commit)
    {
        Commit c = RawKeynode.ReadCommit(_node.Path, commit);
        return VersionBuilder.KindOf(Tree.Decode(RawKeynode.ReadObject(_node.Path, c.Tree)), out _);
    }

    private ObjectId TipOf(string id)
    {
        return RawKeynode.State(_node.Path).SecretRefs[id];
    }

    private void AppendSignedBy(SecretIdentity signer, string path, string value)
    {
        _node.Refresh();
        SecretInfo secret = _node.List().Single(s => s.Path == path);
        AppendVersion(signer, secret.Id, new ObjectId(secret.Tip), path, Encoding.UTF8.GetBytes(value), VersionKind.Value);
    }

    private void AppendVersion(SecretIdentity signer, string id, ObjectId parent, string path, byte[] value, VersionKind kind)
    {
        (_, List<PendingMember> members) = VersionBuilder.Build(id, RawKeynode.Id(_node.Path), parent, RawKeynode.NextSequence(_node.Path, parent), path, value, kind, DateTimeOffset.UtcNow, signer, [TestFiles.Owner.Public, signer.Public]);
        RawKeynode.Append(_node.Path, members);
    }

    public void Dispose()
    {
        _node.Dispose();
        _files.Dispose();
    }
}
