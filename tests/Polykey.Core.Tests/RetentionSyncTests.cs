using System.Text;
using Polykey.Core.Access;
using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Storage;
using Polykey.Core.Sync;

namespace Polykey.Core.Tests;

/// <summary>
/// Pruned histories travelling: a keynode that pulls from a pruned one takes its pruned statement
/// first and accepts the values it covers as absent; one that holds the whole history keeps it; a
/// source that withholds a value no statement covers is refused.
/// </summary>
public sealed class RetentionSyncTests : IDisposable
{
    private static readonly Lazy<SecretIdentity> ServerKey = new(() => SecretIdentity.Generate("retention-server"));
    private readonly TestFiles _files = new();
    private readonly Keynode _admin;
    private readonly Keynode _server;

    public RetentionSyncTests()
    {
        _admin = _files.Create("admin.keynode");
        for (int i = 1; i <= 6; i++) _admin.Set("prod/db/password", Encoding.ASCII.GetBytes($"p{i}"));
        _admin.Set("prod/api/key", "k1"u8);
        _admin.Grant(ServerKey.Value.Public, read: true, write: false, ["prod/**"]);
        _server = Keynode.Create(_files.PathOf("server.keynode"), "server", ServerCredential);
        _server.AddRemote(new Remote("admin", _admin.Path, _admin.Id), _admin.Owner, ["prod/**"]);
    }

    private static Credential ServerCredential => new Credential.KeyFile(ServerKey.Value, "server key");

    private SyncReport Pull()
    {
        using KeynodeArchive source = KeynodeArchive.Open(_admin.Path);
        return _server.Receive(source, []);
    }

    [Fact]
    public void PullingFromAPrunedKeynode_TakesItsStatement_AndAcceptsTheAbsentValues()
    {
        _admin.Compact(new Retention(2, null));
        Assert.Empty(Pull().Refused);
        using Keynode server = Keynode.Open(_server.Path, ServerCredential);
        Assert.Empty(server.Warnings);
        Assert.Equal(_admin.Log("prod/db/password").Select(v => v.Pruned), server.Log("prod/db/password").Select(v => v.Pruned));
        Assert.Contains(server.Log("prod/db/password"), v => v.Pruned);
        using (SecretBytes value = server.Get("prod/db/password")) Assert.Equal(_admin.Get("prod/db/password").Span.ToArray(), value.Span.ToArray());
        VerifyReport verify = server.Verify();
        Assert.True(verify.Ok, string.Join("; ", verify.Problems));
        Assert.Equal(_admin.Verify().Pruned, verify.Pruned);
    }

    [Fact]
    public void PullingFromAPrunedKeynodeAfterItsOwnerRotated_TheGranteeStillReadsTheStatement()
    {
        _admin.Compact(new Retention(2, null));
        _admin.Rotate(SecretIdentity.Generate("retention-owner-2")); // re-encrypts the statement, to the new owner and the grantees
        Assert.Empty(Pull().Refused);
        using Keynode server = Keynode.Open(_server.Path, ServerCredential);
        Assert.Empty(server.Warnings);
        Assert.Contains(server.Log("prod/db/password"), v => v.Pruned);
        VerifyReport verify = server.Verify();
        Assert.True(verify.Ok, string.Join("; ", verify.Problems));
        Assert.Equal(_admin.Verify().Pruned, verify.Pruned);
    }

    [Fact]
    public void AReceiverHoldingTheWholeHistory_KeepsIt()
    {
        Assert.Empty(Pull().Refused);
        _admin.Compact(new Retention(1, null));
        _admin.Set("prod/db/password", "p7"u8);
        Assert.Empty(Pull().Refused);
        using Keynode server = Keynode.Open(_server.Path, ServerCredential);
        using (SecretBytes first = server.Get("prod/db/password", 7)) Assert.Equal("p6"u8.ToArray(), first.Span.ToArray()); // the grant's re-encryption of p6
        using (SecretBytes newest = server.Get("prod/db/password")) Assert.Equal("p7"u8.ToArray(), newest.Span.ToArray());
        VerifyReport verify = server.Verify();
        Assert.True(verify.Ok, string.Join("; ", verify.Problems));
        Assert.Equal(0, verify.Pruned);
    }

    [Fact]
    public void ASourceWithholdingAValueNoStatementCovers_IsRefused()
    {
        SecretInfo secret = _admin.List().Single(s => s.Path == "prod/db/password");
        ObjectId tip = new(secret.Tip);
        // An owner-signed version whose value the source does not have, and one more on top.
        (ObjectId lost, List<PendingMember> members) = VersionBuilder.Build(secret.Id, _admin.Id, tip, RawKeynode.NextSequence(_admin.Path, tip), "prod/db/password", "lost"u8,
            VersionKind.Value, DateTimeOffset.UtcNow, TestFiles.Owner, [TestFiles.Owner.Public, ServerKey.Value.Public]);
        members.RemoveAt(0);
        RawKeynode.Append(_admin.Path, members);
        (_, members) = VersionBuilder.Build(secret.Id, _admin.Id, lost, RawKeynode.NextSequence(_admin.Path, lost), "prod/db/password", "after"u8,
            VersionKind.Value, DateTimeOffset.UtcNow, TestFiles.Owner, [TestFiles.Owner.Public, ServerKey.Value.Public]);
        RawKeynode.Append(_admin.Path, members);

        SyncReport report = Pull();
        Assert.Contains(report.Refused, r => r.Id == secret.Id && r.Reason.Contains("no pruned statement covers it"));
        Assert.Null(_server.Find("prod/db/password"));
        Assert.NotNull(_server.Find("prod/api/key"));
        using Keynode server = Keynode.Open(_server.Path, ServerCredential);
        Assert.True(server.Verify().Ok);
    }

    public void Dispose()
    {
        _admin.Dispose();
        _server.Dispose();
        _files.Dispose();
    }
}
