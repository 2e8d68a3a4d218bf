using System.Text;
using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core.Tests;

/// <summary>Format-1 keynodes (commits that do not name their history) are refused with a pointer to `pk upgrade`, which keeps every value.</summary>
public sealed class UpgradeTests : IDisposable
{
    private readonly TestFiles _files = new();

    // A format-1 keynode as pk wrote it before: header version 1, commits with the bare title.
    private string LegacyKeynode(params (string Path, string Value)[] versions) => LegacyKeynode(1, versions);

    // Format 2: commits name their history and number, but not the keynode whose rules govern it.
    private string LegacyKeynode(int format, params (string Path, string Value)[] versions)
    {
        string path = _files.PathOf("legacy.keynode");
        var first = new List<PendingMember>
        {
            new(KeynodeLayout.HeaderMember, Encoding.ASCII.GetBytes($"polykey-keynode {format}\nid {VersionBuilder.NewSecretId()}\n")),
            new(KeynodeLayout.OwnerPublicKeyMember, TestFiles.Owner.Public.ToBinary()),
        };
        first.AddRange(KeynodeLayout.GitSkeleton());
        KeynodeFile.Create(path, first, DateTimeOffset.UtcNow).Dispose();
        var histories = new Dictionary<string, (string Id, ObjectId Tip)>();
        long time = 1_700_000_000;
        foreach ((string secret, string value) in versions)
        {
            var members = new List<PendingMember>();
            ObjectId Add(ObjectType type, byte[] content)
            {
                (ObjectId id, byte[] compressed) = LooseObject.Encode(type, content);
                members.Add(new PendingMember(id.LoosePath, compressed));
                return id;
            }
            DateTimeOffset at = DateTimeOffset.FromUnixTimeSeconds(time += 60);
            ObjectId blob = Add(ObjectType.Blob, SecretMessage.Encrypt(secret, Encoding.UTF8.GetBytes(value), at, [TestFiles.Owner.Public]));
            ObjectId tree = Add(ObjectType.Tree, Tree.Encode([("secret.pgp", blob)]));
            (string id, ObjectId? parent) = histories.TryGetValue(secret, out var h) ? (h.Id, (ObjectId?)h.Tip) : (VersionBuilder.NewSecretId(), null);
            long sequence = parent is { } p ? HistoryBinding.TryParse(RawKeynode.ReadCommit(path, p).Message)?.Sequence + 1 ?? 0 : 1;
            string message = format == 1 ? Commit.StandardMessage : new HistoryBinding(id, null, sequence).Message();
            var commit = new Commit(tree, parent, TestFiles.Owner.Public.Fingerprint, at, message);
            ObjectId tip = Add(ObjectType.Commit, commit.Encode(CommitSignature.Sign(commit.Payload(), TestFiles.Owner)));
            members.Add(new PendingMember(KeynodeLayout.SecretRefPrefix + id, Encoding.ASCII.GetBytes(tip.Hex + "\n")));
            histories[secret] = (id, tip);
            RawKeynode.Append(path, members);
        }
        return path;
    }

    [Fact]
    public void Format1_IsRefusedWithTheUpgradeCommand_AndUpgradeKeepsEveryVersion()
    {
        string path = LegacyKeynode(("prod/db", "one"), ("prod/api", "key"), ("prod/db", "two"));
        byte[] original = File.ReadAllBytes(path);

        var refused = Assert.Throws<PolykeyException>(() => Keynode.Open(path, TestFiles.OwnerCredential));
        Assert.Contains("format 1", refused.Message);
        Assert.Contains("pk upgrade", refused.Hint);
        Assert.Equal(original, File.ReadAllBytes(path));

        Keynode.UpgradeResult result = Keynode.Upgrade(path, TestFiles.OwnerCredential);
        Assert.Equal((2, 3), (result.Histories, result.Versions));
        Assert.Equal(original, File.ReadAllBytes(result.OldFile));

        using Keynode upgraded = Keynode.Open(path, TestFiles.OwnerCredential);
        Assert.Equal(["prod/api", "prod/db"], upgraded.List().Select(s => s.Path));
        Assert.Equal("two"u8.ToArray(), upgraded.Get("prod/db").Span.ToArray());
        Assert.Equal("one"u8.ToArray(), upgraded.Get("prod/db", 1).Span.ToArray());
        Assert.Equal([1_700_000_060L, 1_700_000_180L], upgraded.Log("prod/db").Select(v => v.Time.ToUnixTimeSeconds()));
        Assert.True(upgraded.Verify().Ok, string.Join("; ", upgraded.Verify().Problems));
        upgraded.Set("prod/db", "three"u8);
        Assert.Equal(3, upgraded.Log("prod/db").Count);

        var again = Assert.Throws<PolykeyException>(() => Keynode.Upgrade(path, TestFiles.OwnerCredential));
        Assert.Equal(FailureKind.Usage, again.Kind);
    }

    [Fact]
    public void Format2_IsRefusedWithTheUpgradeCommand_AndUpgradeNamesTheOriginInEveryVersion()
    {
        string path = LegacyKeynode(2, ("prod/db", "one"), ("prod/db", "two"));
        var refused = Assert.Throws<PolykeyException>(() => Keynode.Open(path, TestFiles.OwnerCredential));
        Assert.Contains("format 2", refused.Message);
        Assert.Contains("pk upgrade", refused.Hint);

        Keynode.UpgradeResult result = Keynode.Upgrade(path, TestFiles.OwnerCredential);
        Assert.EndsWith(".format2", result.OldFile);
        using Keynode upgraded = Keynode.Open(path, TestFiles.OwnerCredential);
        Assert.Equal("two"u8.ToArray(), upgraded.Get("prod/db").Span.ToArray());
        Assert.Equal("one"u8.ToArray(), upgraded.Get("prod/db", 1).Span.ToArray());
        foreach (VersionInfo version in upgraded.Log("prod/db"))
            Assert.Equal(upgraded.Id, HistoryBinding.TryParse(RawKeynode.ReadCommit(path, new ObjectId(version.CommitId)).Message)!.Value.Origin);
        Assert.True(upgraded.Verify().Ok, string.Join("; ", upgraded.Verify().Problems));
    }

    [Fact]
    public void Upgrade_NeedsTheOwnersSigningKey_AndLeavesTheFileAlone()
    {
        string path = LegacyKeynode(("prod/db", "one"));
        byte[] original = File.ReadAllBytes(path);
        var stranger = new Credential.KeyFile(SecretIdentity.Generate("stranger"), "stranger key");
        Assert.Equal(FailureKind.AccessDenied, Assert.Throws<PolykeyException>(() => Keynode.Upgrade(path, stranger)).Kind);
        Assert.Equal(original, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_files.Directory));
    }

    public void Dispose() => _files.Dispose();
}
