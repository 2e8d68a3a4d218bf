using System.Text;
using Polykey.Core.Access;
using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Owner;
using Polykey.Core.Storage;
using Polykey.Core.Sync;

namespace Polykey.Core.Tests;

/// <summary>
/// Issue 14: the owner moves to a new key by a transition signed by both keys; the old key signs
/// nothing new after it (dated later, or met later in the file); readers and subscribers follow;
/// a revocation certificate ends a key even when it is lost.
/// </summary>
public sealed class OwnerRotationTests : IDisposable
{
    private static readonly Lazy<SecretIdentity> NextKey = new(() => SecretIdentity.Generate("owner-2"));
    private static readonly Lazy<SecretIdentity> Mallory = new(() => SecretIdentity.Generate("mallory"));
    private static readonly Lazy<SecretIdentity> ServerKey = new(() => SecretIdentity.Generate("server"));
    private static readonly byte[] Passphrase = "correct horse"u8.ToArray();
    private readonly TestFiles _files = new();
    private readonly string _path;

    public OwnerRotationTests() => _path = _files.PathOf("node.keynode");

    public void Dispose() => _files.Dispose();

    public static TheoryData<bool> Caches => new() { false, true };

    private static Credential Old => TestFiles.OwnerCredential;
    private static Credential Next => new Credential.KeyFile(NextKey.Value, "next key");
    private static Credential ByPassphrase => new Credential.Passphrase(() => (byte[])Passphrase.Clone());

    private Keynode Open(Credential credential, bool caches) =>
        caches ? Keynode.Open(_path, credential, _files.PathOf("cache"), _files.PathOf("state")) : Keynode.Open(_path, credential);

    private static string Value(Keynode node, string path) => Encoding.UTF8.GetString(node.Get(path).Span);

    // A keynode with two secrets, a reader's grant and its rules view, rotated to NextKey; returns prod/db's history id.
    private string CreateAndRotate(bool caches = false)
    {
        using (Keynode node = Keynode.Create(_path, "owner", Old))
        {
            node.Set("prod/db", "good"u8);
            node.Set("staging/db", "s1"u8);
            node.Grant(ServerKey.Value.Public, read: true, write: false, ["prod/**"]);
        }
        if (caches) Open(Old, caches).Dispose();
        using Keynode rotating = Open(Old, caches);
        Keynode.RotationReport report = rotating.Rotate(NextKey.Value);
        Assert.Equal(NextKey.Value.Public.Fingerprint, report.To);
        return rotating.List().Single(s => s.Path == "prod/db").Id;
    }

    // A version of prod/db signed by the old owner key, dated as given, appended by hand.
    private void AppendOldKeyVersion(string secretId, DateTimeOffset time)
    {
        ObjectId tip = RawKeynode.State(_path).SecretRefs[secretId];
        (_, List<PendingMember> forged) = VersionBuilder.Build(secretId, RawKeynode.Id(_path), tip, RawKeynode.NextSequence(_path, tip), "prod/db", "evil"u8,
            VersionKind.Value, time, TestFiles.Owner, [TestFiles.Owner.Public, NextKey.Value.Public]);
        RawKeynode.Append(_path, forged);
    }

    private DateTimeOffset TransitionTime()
    {
        using Keynode node = Keynode.Open(_path, Next);
        return node.OwnerHistory().Single().Time;
    }

    [Fact]
    public void Rotate_ReencryptsEverySecretToTheNewKeyAndGrantees_AndVerifyReportsTheTransition()
    {
        CreateAndRotate();
        using Keynode node = Keynode.Open(_path, Next);
        Assert.Empty(node.Warnings);
        Assert.Equal(NextKey.Value.Public.Fingerprint, node.Owner.Fingerprint);
        Assert.Equal(TestFiles.Owner.Public.Fingerprint, node.FirstOwner.Fingerprint);
        Assert.Equal("good", Value(node, "prod/db"));
        Assert.Equal("s1", Value(node, "staging/db"));
        Assert.NotNull(node.Access.GrantOf(ServerKey.Value.Public.Fingerprint));
        // The grantee still reads what it was granted, from the version the new key signed.
        Assert.Equal(NextKey.Value.Public.Fingerprint, node.Log("prod/db").Last().Signer);
        OwnerEvent transition = node.OwnerHistory().Single();
        Assert.Equal((TestFiles.Owner.Public.Fingerprint, NextKey.Value.Public.Fingerprint, false), (transition.From, transition.To, transition.Revoked));
        VerifyReport report = node.Verify();
        Assert.True(report.Ok, string.Join("; ", report.Problems));
        Assert.Equal(["prod/db", "staging/db"], node.List().Select(s => s.Path));
    }

    [Fact]
    public void Compaction_AfterRotation_KeepsTheChainAndTheSealedNewKey()
    {
        using (Keynode node = Keynode.Create(_path, "owner", ByPassphrase)) node.Set("a", "1"u8);
        using (Keynode node = Keynode.Open(_path, ByPassphrase))
        {
            node.Rotate(NextKey.Value);
            node.Compact();
        }
        using Keynode compacted = Keynode.Open(_path, ByPassphrase);
        Assert.Empty(compacted.Warnings);
        Assert.Equal(NextKey.Value.Public.Fingerprint, compacted.Owner.Fingerprint);
        Assert.NotEqual(compacted.Owner.Fingerprint, compacted.FirstOwner.Fingerprint);
        Assert.Equal("1", Value(compacted, "a"));
        Assert.Single(compacted.OwnerHistory());
        Assert.True(compacted.Verify().Ok, string.Join("; ", compacted.Verify().Problems));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Rotation_OfAPrunedKeynode_TheNewKeyReadsThePrunedStatement_AndTheHistoryStillVerifies(bool caches)
    {
        using (Keynode node = Keynode.Create(_path, "owner", Old))
            for (int i = 1; i <= 5; i++) node.Set("app/db", Encoding.ASCII.GetBytes($"v{i}"));
        using (Keynode node = Open(Old, caches))
        {
            Assert.Equal(3, node.Compact(new Retention(2, null)).PrunedVersions);
            node.Rotate(NextKey.Value);
        }
        using Keynode rotated = Open(Next, caches);
        Assert.Empty(rotated.Warnings);
        Assert.Equal("v5", Value(rotated, "app/db"));
        Assert.Equal([true, true, true, false, false, false], rotated.Log("app/db").Select(v => v.Pruned)); // and the new key's version
        VerifyReport report = rotated.Verify();
        Assert.True(report.Ok, string.Join("; ", report.Problems));
        Assert.Equal(3, report.Pruned);
    }

    [Fact]
    public void Rotate_WithAPassphrase_SealsTheNewKeyUnderTheSamePassphrase()
    {
        using (Keynode node = Keynode.Create(_path, "owner", ByPassphrase)) node.Set("a", "1"u8);
        using (Keynode node = Keynode.Open(_path, ByPassphrase)) node.Rotate(NextKey.Value);
        using Keynode reopened = Keynode.Open(_path, ByPassphrase);
        Assert.Equal(NextKey.Value.Public.Fingerprint, reopened.Unlock().Public.Fingerprint);
        Assert.Equal("1", Value(reopened, "a"));
        reopened.Set("a", "2"u8);
        Assert.True(reopened.Verify().Ok, string.Join("; ", reopened.Verify().Problems));
    }

    [Fact]
    public void TwoRotations_TheMiddleKeyEndsAtTheSecond_AndOnlyTheLastKeyOpens()
    {
        SecretIdentity third = SecretIdentity.Generate("owner-3");
        string db = CreateAndRotate();
        using (Keynode node = Keynode.Open(_path, Next)) node.Rotate(third);
        ObjectId tip = RawKeynode.State(_path).SecretRefs[db];
        (_, List<PendingMember> forged) = VersionBuilder.Build(db, RawKeynode.Id(_path), tip, RawKeynode.NextSequence(_path, tip), "prod/db", "evil"u8,
            VersionKind.Value, DateTimeOffset.UtcNow.AddMinutes(5), NextKey.Value, [NextKey.Value.Public, third.Public]);
        RawKeynode.Append(_path, forged);

        using Keynode opened = Keynode.Open(_path, new Credential.KeyFile(third, "third key"));
        Assert.Equal(third.Public.Fingerprint, opened.Owner.Fingerprint);
        Assert.Equal("good", Value(opened, "prod/db"));
        Assert.Equal(2, opened.OwnerHistory().Count);
        Assert.Contains(opened.Warnings, w => w.Contains("former owner key"));
        using Keynode middle = Keynode.Open(_path, Next);
        Assert.Equal(FailureKind.AccessDenied, Assert.Throws<PolykeyException>(() => middle.Get("prod/db")).Kind);
    }

    [Fact]
    public void OwnerStatements_OutOfPlace_AreRefused()
    {
        using (Keynode node = Keynode.Create(_path, "owner", Old)) node.Set("prod/db", "good"u8);
        string id = RawKeynode.Id(_path);
        DateTimeOffset now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        // A real transition, signed by both keys, but under a secret's history id; and a value version in the owner history.
        (_, List<PendingMember> misplaced) = VersionBuilder.BuildStatement(VersionBuilder.NewSecretId(), id, null, 1, VersionKind.OwnerTransition,
            OwnerTransition.Write(id, TestFiles.Owner.Public.Fingerprint, NextKey.Value, now), now, TestFiles.Owner);
        (_, List<PendingMember> value) = VersionBuilder.Build(Keynode.OwnerHistoryId(id), id, null, 1, "x", "v"u8, VersionKind.Value, now, TestFiles.Owner,
            [TestFiles.Owner.Public]);
        RawKeynode.Append(_path, [.. misplaced, .. value]);
        using Keynode opened = Keynode.Open(_path, Old);
        Assert.Equal(TestFiles.Owner.Public.Fingerprint, opened.Owner.Fingerprint);
        Assert.Contains(opened.Warnings, w => w.Contains("owner transition outside"));
        Assert.Contains(opened.Warnings, w => w.Contains("stands in the owner history"));
        Assert.Equal(["prod/db"], opened.List().Select(s => s.Path));
    }

    [Fact]
    public void OldKeyFile_AfterRotation_IsRefusedWithOneLineNamingTheNewOwner()
    {
        CreateAndRotate();
        using Keynode node = Keynode.Open(_path, Old);
        PolykeyException e = Assert.Throws<PolykeyException>(() => node.Get("prod/db"));
        Assert.Equal(FailureKind.AccessDenied, e.Kind);
        Assert.Contains("former owner key", e.Message);
        Assert.Contains(NextKey.Value.Public.Fingerprint, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [MemberData(nameof(Caches))]
    public void OldKeyVersion_DatedAfterTheTransition_AppendedByHand_IsRefused(bool caches)
    {
        string db = CreateAndRotate(caches);
        AppendOldKeyVersion(db, DateTimeOffset.UtcNow.AddMinutes(5));
        using Keynode node = Open(Next, caches);
        Assert.Equal("good", Value(node, "prod/db"));
        Assert.Contains(node.Warnings, w => w.Contains("former owner key") && w.Contains("after the owner moved"));
        Assert.False(node.Verify().Ok);
    }

    [Theory]
    [MemberData(nameof(Caches))]
    public void OldKeyVersion_BackdatedBeforeTheTransition_AppendedAfterIt_IsRefused(bool caches)
    {
        string db = CreateAndRotate(caches);
        AppendOldKeyVersion(db, TransitionTime().AddHours(-1));
        using Keynode node = Open(Next, caches);
        Assert.Equal("good", Value(node, "prod/db"));
        Assert.Contains(node.Warnings, w => w.Contains("arrived after the owner moved"));
    }

    [Fact]
    public void OldKeyValue_UnderItsOwnRevocationHistoryId_IsHeldToTheKeysTime()
    {
        CreateAndRotate();
        string id = RawKeynode.Id(_path);
        // The one id where a former key may still sign (its revocation), used for a secret instead.
        (_, List<PendingMember> planted) = VersionBuilder.Build(Keynode.RevocationHistoryId(id, TestFiles.Owner.Public.Fingerprint), id, null, 1, "prod/planted",
            "evil"u8, VersionKind.Value, TransitionTime().AddHours(-1), TestFiles.Owner, [TestFiles.Owner.Public, NextKey.Value.Public]);
        RawKeynode.Append(_path, planted);
        using Keynode opened = Keynode.Open(_path, Next);
        Assert.DoesNotContain("prod/planted", opened.List().Select(s => s.Path));
        Assert.Contains(opened.Warnings, w => w.Contains("former owner key"));
    }

    [Fact]
    public void OldKeyVersion_PushedFromACopyMadeBeforeTheRotation_IsRefused()
    {
        using (Keynode node = Keynode.Create(_path, "owner", Old)) node.Set("prod/db", "good"u8);
        string stale = _files.PathOf("stale.keynode");
        File.Copy(_path, stale);
        using (Keynode node = Keynode.Open(_path, Old)) node.Rotate(NextKey.Value);
        // Whoever kept the old key and an old copy writes with it there, then pushes here.
        using (Keynode copy = Keynode.Open(stale, Old))
        {
            copy.Set("prod/new", "planted"u8);
            using KeynodeArchive target = KeynodeArchive.Open(_path);
            copy.Send(target, []);
        }
        using Keynode opened = Keynode.Open(_path, Next);
        Assert.Equal(["prod/db"], opened.List().Select(s => s.Path));
        Assert.Contains(opened.Warnings, w => w.Contains("former owner key"));
    }

    [Fact]
    public void Transition_NotSignedByTheOldKey_IsRefused_TheFileAloneCannotMoveTheOwner()
    {
        using (Keynode node = Keynode.Create(_path, "owner", Old)) node.Set("prod/db", "good"u8);
        string id = RawKeynode.Id(_path);
        DateTimeOffset now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        // Mallory names herself the new owner and signs both halves: the commit is not the old key's.
        (_, List<PendingMember> forged) = VersionBuilder.BuildStatement(Keynode.OwnerHistoryId(id), id, null, 1, VersionKind.OwnerTransition,
            OwnerTransition.Write(id, TestFiles.Owner.Public.Fingerprint, Mallory.Value, now), now, Mallory.Value);
        string db = RawKeynode.State(_path).SecretRefs.Keys.Single();
        ObjectId tip = RawKeynode.State(_path).SecretRefs[db];
        (_, List<PendingMember> planted) = VersionBuilder.Build(db, id, tip, 2, "prod/db", "evil"u8, VersionKind.Value, now.AddSeconds(1), Mallory.Value,
            [Mallory.Value.Public]);
        RawKeynode.Append(_path, [.. forged, .. planted]);

        using Keynode opened = Keynode.Open(_path, Old);
        Assert.Equal(TestFiles.Owner.Public.Fingerprint, opened.Owner.Fingerprint);
        Assert.Empty(opened.OwnerHistory());
        Assert.Equal("good", Value(opened, "prod/db"));
        Assert.Contains(opened.Warnings, w => w.Contains("not signed by a key allowed to write it"));
    }

    [Fact]
    public void Transition_WhoseNewKeyDidNotSign_IsRefused()
    {
        using (Keynode node = Keynode.Create(_path, "owner", Old)) node.Set("prod/db", "good"u8);
        string id = RawKeynode.Id(_path);
        DateTimeOffset now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        // Signed by the old key, naming a key whose holder never agreed (its statement signed by another key).
        byte[] statement = OwnerTransition.Write(id, TestFiles.Owner.Public.Fingerprint, Mallory.Value, now);
        byte[] other = OwnerTransition.Write(id, TestFiles.Owner.Public.Fingerprint, NextKey.Value, now);
        string text = Encoding.ASCII.GetString(statement);
        string swapped = text[..(text.IndexOf("\n\n", StringComparison.Ordinal) + 2)] + Encoding.ASCII.GetString(other)[(Encoding.ASCII.GetString(other).IndexOf("\n\n", StringComparison.Ordinal) + 2)..];
        (_, List<PendingMember> forged) = VersionBuilder.BuildStatement(Keynode.OwnerHistoryId(id), id, null, 1, VersionKind.OwnerTransition,
            Encoding.ASCII.GetBytes(swapped), now, TestFiles.Owner);
        RawKeynode.Append(_path, forged);
        using Keynode opened = Keynode.Open(_path, Old);
        Assert.Equal(TestFiles.Owner.Public.Fingerprint, opened.Owner.Fingerprint);
        Assert.Contains(opened.Warnings, w => w.Contains("not signed by the new key"));
    }

    [Fact]
    public void ReaderThatPinnedTheOldOwner_FollowsTheTransition_PinsTheNewKey_AndRefusesARollback()
    {
        using (Keynode node = Keynode.Create(_path, "owner", Old)) node.Set("prod/db", "good"u8);
        string state = _files.PathOf("state");
        using (Keynode.Open(_path, Old, stateDirectory: state)) { }
        string pins = Path.Combine(state, "polykey", RawKeynode.Id(_path) + ".pins");
        Assert.Contains("owner " + TestFiles.Owner.Public.Fingerprint, File.ReadAllText(pins));
        string before = _files.PathOf("before.keynode");
        File.Copy(_path, before);
        using (Keynode node = Keynode.Open(_path, Old)) node.Rotate(NextKey.Value);

        using (Keynode opened = Keynode.Open(_path, Next, stateDirectory: state))
        {
            Assert.Equal(NextKey.Value.Public.Fingerprint, opened.Owner.Fingerprint);
            Assert.Equal("good", Value(opened, "prod/db"));
        }
        Assert.Matches($"current 1 [0-9a-f]{{40}} {NextKey.Value.Public.Fingerprint}", File.ReadAllText(pins));

        // Whoever holds the old key puts back the copy from before the rotation: refused.
        File.Copy(before, _path, overwrite: true);
        PolykeyException e = Assert.Throws<PolykeyException>(() => Keynode.Open(_path, Old, stateDirectory: state));
        Assert.Contains("rolled back or replaced", e.Message);
    }

    [Theory]
    [MemberData(nameof(Caches))]
    public void RevocationCertificate_Applied_RefusesLaterVersionsOfTheKey_WhateverTheirDate(bool caches)
    {
        byte[] certificate;
        string db;
        using (Keynode node = Keynode.Create(_path, "owner", Old))
        {
            node.Set("prod/db", "good"u8);
            certificate = node.MakeOwnerRevocation();
            db = node.List().Single().Id;
        }
        if (caches) Open(Old, caches).Dispose();
        // The key is lost: the certificate is applied without it.
        using (Keynode keyless = Keynode.Open(_path, credential: null))
            Assert.Equal(TestFiles.Owner.Public.Fingerprint, keyless.ApplyOwnerRevocation(certificate, "cert.txt"));
        AppendOldKeyVersion(db, DateTimeOffset.UtcNow.AddDays(-30));

        using Keynode opened = Open(Old, caches);
        Assert.True(opened.OwnerRevoked);
        Assert.Equal("good", Value(opened, "prod/db"));
        Assert.Contains(opened.Warnings, w => w.Contains("revoked as compromised"));
        Assert.Contains(opened.OwnerHistory(), e => e.Revoked);
        PolykeyException e = Assert.Throws<PolykeyException>(() => opened.Set("prod/db", "more"u8));
        Assert.Equal(FailureKind.AccessDenied, e.Kind);
    }

    [Fact]
    public void RevocationCertificate_SeenByAReader_CannotBeRolledBackOutOfTheFile()
    {
        byte[] certificate;
        using (Keynode node = Keynode.Create(_path, "owner", Old)) certificate = node.MakeOwnerRevocation();
        string before = _files.PathOf("before.keynode");
        File.Copy(_path, before);
        string state = _files.PathOf("state");
        using (Keynode keyless = Keynode.Open(_path, credential: null, stateDirectory: state)) keyless.ApplyOwnerRevocation(certificate, "cert.txt");
        using (Keynode.Open(_path, Old, stateDirectory: state)) { }
        Assert.Contains("revoked " + TestFiles.Owner.Public.Fingerprint, File.ReadAllText(Path.Combine(state, "polykey", RawKeynode.Id(_path) + ".pins")));
        File.Copy(before, _path, overwrite: true);
        PolykeyException e = Assert.Throws<PolykeyException>(() => Keynode.Open(_path, Old, stateDirectory: state));
        Assert.Contains("no longer holds the revocation", e.Message);
    }

    [Fact]
    public void RevocationCertificate_OfAnotherKeynode_IsRefused_AndTheFileIsUntouched()
    {
        byte[] certificate;
        using (Keynode other = Keynode.Create(_files.PathOf("other.keynode"), "owner", Old)) certificate = other.MakeOwnerRevocation();
        using (Keynode.Create(_path, "owner", Old)) { }
        long length = new FileInfo(_path).Length;
        using Keynode node = Keynode.Open(_path, credential: null);
        PolykeyException e = Assert.Throws<PolykeyException>(() => node.ApplyOwnerRevocation(certificate, "cert.txt"));
        Assert.Contains("not of", e.Message);
        Assert.Equal(length, new FileInfo(_path).Length);
    }

    [Fact]
    public void Subscriber_GrantedMoreAfterTheRotation_TakesThoseHistories_OldKeyVersionsBeneathTheNewKeysTip()
    {
        using Keynode admin = Keynode.Create(_path, "admin", Old);
        admin.Set("prod/db", "p1"u8);
        admin.Set("staging/db", "s1"u8);
        admin.Set("staging/db", "s2"u8);
        admin.Grant(ServerKey.Value.Public, read: true, write: false, ["prod/**"]);
        var serverCredential = new Credential.KeyFile(ServerKey.Value, "server key");
        using Keynode server = Keynode.Create(_files.PathOf("server.keynode"), "server", serverCredential);
        server.AddRemote(new Remote("admin", admin.Path, admin.Id), admin.FirstOwner, []);
        using (KeynodeArchive source = KeynodeArchive.Open(admin.Path)) server.Receive(source, []);
        admin.Rotate(NextKey.Value);
        using (KeynodeArchive source = KeynodeArchive.Open(admin.Path)) Assert.Empty(server.Receive(source, []).Refused);

        // Granted later: a history whose first versions the old key signed arrives in a later change.
        admin.Grant(ServerKey.Value.Public, read: true, write: false, ["staging/**"]);
        using (KeynodeArchive source = KeynodeArchive.Open(admin.Path)) Assert.Empty(server.Receive(source, []).Refused);
        Assert.Equal("s2", Value(server, "staging/db"));
        using Keynode reopened = Keynode.Open(server.Path, serverCredential);
        Assert.Empty(reopened.Warnings);
        Assert.Equal("s2", Value(reopened, "staging/db"));
    }

    [Fact]
    public void WriteGrantee_PushesBackToItsRotatedOrigin_EncryptedToTheNewOwner()
    {
        using Keynode admin = Keynode.Create(_path, "admin", Old);
        admin.Set("prod/db", "p1"u8);
        admin.Grant(ServerKey.Value.Public, read: true, write: true, ["prod/**"]);
        var serverCredential = new Credential.KeyFile(ServerKey.Value, "server key");
        using Keynode server = Keynode.Create(_files.PathOf("server.keynode"), "server", serverCredential);
        server.AddRemote(new Remote("admin", admin.Path, admin.Id), admin.FirstOwner, ["prod/**"]);
        admin.Rotate(NextKey.Value);
        using (KeynodeArchive source = KeynodeArchive.Open(admin.Path)) Assert.Empty(server.Receive(source, []).Refused);

        server.Set("prod/db", "from-server"u8);
        using (KeynodeArchive target = KeynodeArchive.Open(admin.Path))
            Assert.Contains(server.Send(target, []).Moved, m => m.Path == "prod/db");
        using Keynode reopened = Keynode.Open(_path, Next);
        Assert.Empty(reopened.Warnings);
        Assert.Equal("from-server", Value(reopened, "prod/db"));
    }

    [Fact]
    public void Subscriber_ThatPulledTheTransition_RefusesABackdatedOldKeyTip_InALaterPullOnTheSameHandle()
    {
        using (Keynode admin = Keynode.Create(_path, "admin", Old))
        {
            admin.Set("prod/db", "p1"u8);
            admin.Grant(ServerKey.Value.Public, read: true, write: false, ["prod/**"]);
        }
        var serverCredential = new Credential.KeyFile(ServerKey.Value, "server key");
        using Keynode server = Keynode.Create(_files.PathOf("server.keynode"), "server", serverCredential);
        string db;
        using (Keynode admin = Keynode.Open(_path, Old))
        {
            server.AddRemote(new Remote("admin", admin.Path, admin.Id), admin.FirstOwner, ["prod/**"]);
            admin.Rotate(NextKey.Value);
            db = admin.List().Single().Id;
        }
        using (KeynodeArchive source = KeynodeArchive.Open(_path)) Assert.Empty(server.Receive(source, []).Refused);

        // Whoever kept the old key puts a version dated before the transition on top of the secret.
        ObjectId tip = RawKeynode.State(_path).SecretRefs[db];
        (_, List<PendingMember> forged) = VersionBuilder.Build(db, RawKeynode.Id(_path), tip, RawKeynode.NextSequence(_path, tip), "prod/db", "evil"u8,
            VersionKind.Value, TransitionTime().AddHours(-1), TestFiles.Owner, [TestFiles.Owner.Public, NextKey.Value.Public, ServerKey.Value.Public]);
        RawKeynode.Append(_path, forged);
        // The handle that took the transition in an earlier change refuses it, as a fresh open would.
        using (KeynodeArchive source = KeynodeArchive.Open(_path)) Assert.Single(server.Receive(source, []).Refused);
        Assert.Equal("p1", Value(server, "prod/db"));
        using Keynode reopened = Keynode.Open(server.Path, serverCredential);
        Assert.Equal("p1", Value(reopened, "prod/db"));
    }

    [Fact]
    public void Subscriber_FollowsItsOriginsTransition_AndRefusesTheOldKeyThroughAPush()
    {
        using Keynode admin = Keynode.Create(_path, "admin", Old);
        admin.Set("prod/db", "p1"u8);
        admin.Grant(ServerKey.Value.Public, read: true, write: false, ["prod/**"]);
        string stale = _files.PathOf("stale-admin.keynode");
        File.Copy(_path, stale);
        var serverCredential = new Credential.KeyFile(ServerKey.Value, "server key");
        using Keynode server = Keynode.Create(_files.PathOf("server.keynode"), "server", serverCredential);
        server.AddRemote(new Remote("admin", admin.Path, admin.Id), admin.FirstOwner, ["prod/**"]);
        using (KeynodeArchive source = KeynodeArchive.Open(admin.Path)) server.Receive(source, []);

        admin.Rotate(NextKey.Value);
        admin.Set("prod/db", "p2"u8);
        using (KeynodeArchive source = KeynodeArchive.Open(admin.Path))
        {
            SyncReport report = server.Receive(source, []);
            Assert.Empty(report.Refused);
        }
        Assert.Equal("p2", Value(server, "prod/db"));

        // The old key, from a copy of the admin keynode made before the rotation, pushed to the server.
        using (Keynode copy = Keynode.Open(stale, Old))
        {
            copy.Set("prod/planted", "evil"u8);
            using KeynodeArchive target = KeynodeArchive.Open(server.Path);
            Assert.Contains(copy.Send(target, []).Moved, m => m.Path == "prod/planted");
        }
        using Keynode reopened = Keynode.Open(server.Path, serverCredential);
        Assert.Equal("p2", Value(reopened, "prod/db"));
        Assert.Equal(["prod/db"], reopened.List().Select(s => s.Path));
        Assert.Contains(reopened.Warnings, w => w.Contains("former owner key"));
    }
}
