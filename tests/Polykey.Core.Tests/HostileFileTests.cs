using System.Formats.Tar;
using System.Text;
using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core.Tests;

/// <summary>
/// Issue 9's attacks by someone who can write the keynode file but holds no key of its owner.
/// Each ends with the good values readable or a clear error, never a forged, resurrected or
/// silently lost value, and with `Verify` naming the problem. Each runs for a key-file and a
/// passphrase reader, with and without the reader's caches.
/// </summary>
public sealed class HostileFileTests : IDisposable
{
    private static readonly Lazy<SecretIdentity> Mallory = new(() => SecretIdentity.Generate("mallory"));
    private static readonly byte[] Passphrase = "correct horse"u8.ToArray();
    private readonly TestFiles _files = new();
    private readonly string _path;

    public HostileFileTests() => _path = _files.PathOf("node.keynode");

    public static TheoryData<bool, bool> Readers => new() { { false, false }, { false, true }, { true, false }, { true, true } };

    private Credential Credential(bool passphrase) =>
        passphrase ? new Credential.Passphrase(() => (byte[])Passphrase.Clone()) : TestFiles.OwnerCredential;

    private Keynode Create(bool passphrase) => Keynode.Create(_path, "owner", Credential(passphrase));

    // With caches, the first open fills them (scan point, verified commits, pins); the attack comes after.
    private Keynode Open(bool passphrase, bool caches) =>
        caches
            ? Keynode.Open(_path, Credential(passphrase), _files.PathOf("cache"), _files.PathOf("state"))
            : Keynode.Open(_path, Credential(passphrase));

    private void Warm(bool passphrase, bool caches)
    {
        if (!caches) return;
        using Keynode node = Open(passphrase, caches);
        node.List();
    }

    // A keynode holding one secret, prod/db = "good": its history id and tip, and the owner's fingerprint.
    private (string SecretId, string Tip, string Owner) CreateWithOneSecret(bool passphrase)
    {
        using Keynode node = Create(passphrase);
        node.Set("prod/db", "good"u8);
        SecretInfo db = node.List().Single();
        return (db.Id, db.Tip, node.Owner.Fingerprint);
    }

    private static string Value(Keynode node, string path) => Encoding.UTF8.GetString(node.Get(path).Span);

    private static void AssertVerifyNames(Keynode node, string text)
    {
        VerifyReport report = node.Verify();
        Assert.False(report.Ok);
        Assert.Contains(report.Problems, p => p.Contains(text, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Readers))]
    public void OwnerSwap_IsRefused_AndTheRealOwnerStays(bool passphrase, bool caches)
    {
        (string secretId, string tip, string owner) = CreateWithOneSecret(passphrase);
        Warm(passphrase, caches);
        (_, List<PendingMember> forged) = VersionBuilder.Build(secretId, RawKeynode.Id(_path), new ObjectId(tip), 2, "prod/db", "forged"u8, VersionKind.Value,
            DateTimeOffset.UtcNow, Mallory.Value, [Mallory.Value.Public]);
        (_, List<PendingMember> planted) = VersionBuilder.Build(VersionBuilder.NewSecretId(), RawKeynode.Id(_path), null, 1, "prod/new", "planted"u8, VersionKind.Value,
            DateTimeOffset.UtcNow, Mallory.Value, [Mallory.Value.Public]);
        RawKeynode.Append(_path, [new PendingMember(KeynodeLayout.OwnerPublicKeyMember, Mallory.Value.Public.ToBinary()), .. forged, .. planted]);

        using Keynode opened = Open(passphrase, caches);
        Assert.Equal(owner, opened.Owner.Fingerprint);
        Assert.Equal("good", Value(opened, "prod/db"));
        Assert.Equal(["prod/db"], opened.List().Select(s => s.Path));
        Assert.Contains(opened.Warnings, w => w.Contains("the owner key is fixed by the first change"));
        AssertVerifyNames(opened, "owner.pub");
    }

    [Fact]
    public void ReplacedFile_WithAnotherOwner_IsRefusedByThePin()
    {
        string id;
        using (Keynode node = Create(passphrase: false))
        {
            node.Set("prod/db", "good"u8);
            id = node.Id;
        }
        Warm(passphrase: false, caches: true);
        // The whole file rewritten: same keynode id, another owner, a version that owner signed.
        File.Delete(_path);
        var first = new List<PendingMember>
        {
            new(KeynodeLayout.HeaderMember, KeynodeLayout.Header(id)),
            new(KeynodeLayout.OwnerPublicKeyMember, Mallory.Value.Public.ToBinary()),
        };
        first.AddRange(KeynodeLayout.GitSkeleton());
        KeynodeFile.Create(_path, first, DateTimeOffset.UtcNow).Dispose();
        var mallory = new Credential.KeyFile(Mallory.Value, "mallory");
        using (Keynode theirs = Keynode.Open(_path, mallory)) theirs.Set("prod/db", "forged"u8);

        var error = Assert.Throws<PolykeyException>(() => Keynode.Open(_path, mallory, _files.PathOf("cache"), _files.PathOf("state")));
        Assert.Contains("pinned owner", error.Message);
        Assert.Contains(TestFiles.Owner.Public.Fingerprint, error.Message);
    }

    [Theory]
    [MemberData(nameof(Readers))]
    public void RevokedRules_CannotBeReplayed(bool passphrase, bool caches)
    {
        string oldAccess, keynodeId, secretId, tip;
        using (Keynode node = Create(passphrase))
        {
            node.Set("prod/db", "good"u8);
            node.Grant(Mallory.Value.Public, read: true, write: true, ["prod/**"]);
            keynodeId = node.Id;
            oldAccess = RawKeynode.State(_path).SecretRefs[keynodeId].Hex;
            node.Revoke(Mallory.Value.Public, []);
            (secretId, tip) = (node.List().Single().Id, node.List().Single().Tip);
        }
        Warm(passphrase, caches);
        (_, List<PendingMember> write) = VersionBuilder.Build(secretId, RawKeynode.Id(_path), new ObjectId(tip), RawKeynode.NextSequence(_path, new ObjectId(tip)), "prod/db", "mallory's"u8,
            VersionKind.Value, DateTimeOffset.UtcNow, Mallory.Value, [Mallory.Value.Public]);
        byte[] oldTip = Encoding.ASCII.GetBytes(oldAccess + "\n");
        RawKeynode.Append(_path, [new(KeynodeLayout.SecretRefPrefix + VersionBuilder.NewSecretId(), oldTip), new(KeynodeLayout.SecretRefPrefix + keynodeId, oldTip)]);
        RawKeynode.Append(_path, write);

        using Keynode opened = Open(passphrase, caches);
        Assert.Null(opened.Access.GrantOf(Mallory.Value.Public.Fingerprint));
        Assert.Equal("good", Value(opened, "prod/db"));
        Assert.Contains(opened.Warnings, w => w.Contains("replayed under another id"));
        Assert.Contains(opened.Warnings, w => w.Contains("does not descend"));
        AssertVerifyNames(opened, "not signed by a key allowed to write");
    }

    [Fact]
    public void RolledBackFile_IsRefusedByTheAccessPin()
    {
        using (Keynode node = Create(passphrase: false))
        {
            node.Set("prod/db", "good"u8);
            node.Grant(Mallory.Value.Public, read: true, write: true, ["prod/**"]);
        }
        byte[] beforeRevoke = File.ReadAllBytes(_path);
        using (Keynode node = Open(passphrase: false, caches: true)) node.Revoke(Mallory.Value.Public, []);
        Warm(passphrase: false, caches: true);

        File.WriteAllBytes(_path, beforeRevoke);
        var error = Assert.Throws<PolykeyException>(() => Open(passphrase: false, caches: true));
        Assert.Contains("rolled back", error.Message);
        using Keynode fresh = Keynode.Open(_path, TestFiles.OwnerCredential); // a reader that never saw the newer list cannot know
        Assert.NotNull(fresh.Access.GrantOf(Mallory.Value.Public.Fingerprint));
    }

    [Theory]
    [MemberData(nameof(Readers))]
    public void RemovedOrMovedSecret_CannotBeReplayedUnderANewId(bool passphrase, bool caches)
    {
        string removedTip, movedTip;
        using (Keynode node = Create(passphrase))
        {
            node.Set("prod/old", "removed value"u8);
            node.Set("prod/name", "moved value"u8);
            removedTip = node.List().Single(s => s.Path == "prod/old").Tip;
            movedTip = node.List().Single(s => s.Path == "prod/name").Tip;
            node.Remove("prod/old");
            node.Move("prod/name", "prod/renamed");
        }
        Warm(passphrase, caches);
        RawKeynode.Append(_path,
        [
            new(KeynodeLayout.SecretRefPrefix + VersionBuilder.NewSecretId(), Encoding.ASCII.GetBytes(removedTip + "\n")),
            new(KeynodeLayout.SecretRefPrefix + VersionBuilder.NewSecretId(), Encoding.ASCII.GetBytes(movedTip + "\n")),
        ]);

        using Keynode opened = Open(passphrase, caches);
        Assert.Equal(["prod/renamed"], opened.List().Select(s => s.Path));
        Assert.Equal(2, opened.Warnings.Count(w => w.Contains("replayed under another id")));
        AssertVerifyNames(opened, "replayed under another id");
    }

    [Fact]
    public void TraversalHistoryId_IsRefused_AndNeverWritten()
    {
        string tip = CreateWithOneSecret(passphrase: false).Tip;
        RawKeynode.Append(_path, [new(KeynodeLayout.SecretRefPrefix + "../../../../tmp/x", Encoding.ASCII.GetBytes(tip + "\n"))]);
        using Keynode opened = Open(passphrase: false, caches: false);
        Assert.Contains(opened.Warnings, w => w.Contains("32 lower-case hex digits"));
        opened.Set("prod/db", "next"u8);
        Assert.Equal("next", Value(opened, "prod/db"));
        using var reader = new TarReader(File.OpenRead(_path));
        var names = new List<string>();
        while (reader.GetNextEntry() is { } entry) names.Add(entry.Name);
        Assert.Single(names, n => n.Contains(".."));
    }

    /// <summary>Each of these once made every command fail; now the change's bad member is refused and reading carries on.</summary>
    [Theory]
    [InlineData("malformed ref")]
    [InlineData("short ref id")]
    [InlineData("symlink ref")]
    [InlineData("symlink owner key")]
    [InlineData("format header")]
    [InlineData("replaced object")]
    [InlineData("commit time")]
    public void OneBadAppend_DoesNotLockAnyoneOut(string attack)
    {
        (string secretId, string tip, _) = CreateWithOneSecret(passphrase: false);
        string refName = KeynodeLayout.SecretRefPrefix + secretId;
        switch (attack)
        {
            case "malformed ref":
                RawKeynode.Append(_path, [new(refName, "not a commit\n"u8.ToArray())]);
                break;
            case "short ref id":
                RawKeynode.Append(_path, [new(KeynodeLayout.SecretRefPrefix + "abc", Encoding.ASCII.GetBytes(tip + "\n"))]);
                break;
            case "symlink ref":
                RawKeynode.AppendEntries(_path, tar => tar.WriteEntry(new UstarTarEntry(TarEntryType.SymbolicLink, refName) { LinkName = "/etc/passwd" }));
                break;
            case "symlink owner key":
                RawKeynode.AppendEntries(_path, tar => tar.WriteEntry(new UstarTarEntry(TarEntryType.SymbolicLink, KeynodeLayout.OwnerPublicKeyMember) { LinkName = "/tmp/evil" }));
                break;
            case "format header":
                RawKeynode.Append(_path, [new(KeynodeLayout.HeaderMember, "polykey-keynode 99\nid 00000000000000000000000000000000\n"u8.ToArray())]);
                break;
            case "replaced object":
                RawKeynode.Append(_path, [new(new ObjectId(tip).LoosePath, LooseObject.Encode(ObjectType.Blob, "other"u8).Compressed)]);
                break;
            case "commit time":
                Commit good = RawKeynode.ReadCommit(_path, new ObjectId(tip));
                string text = Encoding.UTF8.GetString(new Commit(good.Tree, new ObjectId(tip), good.SignerFingerprint, good.Time, new HistoryBinding(secretId, RawKeynode.Id(_path), 2).Message()).Payload())
                    .Replace($" {good.Time.ToUnixTimeSeconds()} +0000", " 99999999999999 +0000");
                (ObjectId id, byte[] compressed) = LooseObject.Encode(ObjectType.Commit, Encoding.UTF8.GetBytes(text));
                RawKeynode.Append(_path, [new(id.LoosePath, compressed), new(refName, Encoding.ASCII.GetBytes(id.Hex + "\n"))]);
                break;
        }
        using Keynode opened = Open(passphrase: false, caches: false);
        Assert.Equal("good", Value(opened, "prod/db"));
        if (attack != "replaced object")
        {
            Assert.NotEmpty(opened.Warnings);
            Assert.False(opened.Verify().Ok);
        }
        opened.Set("prod/db", "after"u8);
        using Keynode again = Open(passphrase: false, caches: false);
        Assert.Equal("after", Value(again, "prod/db"));
    }

    [Fact]
    public void ABadMemberInTheFirstChange_FailsTheKeynode_RatherThanBeingRefused()
    {
        var first = new List<PendingMember>
        {
            new(KeynodeLayout.HeaderMember, KeynodeLayout.Header(VersionBuilder.NewSecretId())),
            new(KeynodeLayout.OwnerPublicKeyMember, TestFiles.Owner.Public.ToBinary()),
            new("objects/zz/not-an-object-name", "x"u8.ToArray()),
        };
        KeynodeFile.Create(_path, first, DateTimeOffset.UtcNow).Dispose();
        var error = Assert.Throws<PolykeyException>(() => Open(passphrase: false, caches: false));
        Assert.Contains("malformed first change", error.Message);
        Assert.Contains("not a git object name", error.Message);
    }

    [Fact]
    public void ZlibBomb_IsRefusedBeforeItInflates()
    {
        (string secretId, string tip, _) = CreateWithOneSecret(passphrase: false);
        byte[] bomb = CompressedZeros("commit", 256 << 20);
        ObjectId bombId = new(new string('b', 40));
        RawKeynode.Append(_path, [new(bombId.LoosePath, bomb), new(KeynodeLayout.SecretRefPrefix + secretId, Encoding.ASCII.GetBytes(bombId.Hex + "\n"))]);

        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using Keynode opened = Open(passphrase: false, caches: false);
        Assert.Equal("good", Value(opened, "prod/db"));
        AssertVerifyNames(opened, "more than an object of its kind and stored size may hold");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - allocated < 64 << 20, "inflated the bomb");
    }

    private static byte[] CompressedZeros(string type, int size)
    {
        using var output = new MemoryStream();
        using (var z = new System.IO.Compression.ZLibStream(output, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            z.Write(Encoding.ASCII.GetBytes($"{type} {size}\0"));
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < size >> 20; i++) z.Write(zeros);
        }
        return output.ToArray();
    }

    [Theory]
    [InlineData("inserted bytes")]
    [InlineData("zeroed block")]
    public void DamageFollowedByChanges_IsCorruption_NeverATail(string damage)
    {
        using (Keynode node = Create(passphrase: false))
            for (int i = 0; i < 7; i++) node.Set($"prod/s{i}", Encoding.ASCII.GetBytes($"value {i}"));
        byte[] whole = File.ReadAllBytes(_path);
        int at = (int)ChangeEnds(whole).Skip(2).First(); // the start of the fourth change: later changes follow it
        byte[] bytes = damage == "inserted bytes"
            ? [.. whole[..at], .. Enumerable.Repeat((byte)'x', 100), .. whole[at..]]
            : Zeroed(whole, at);
        File.WriteAllBytes(_path, bytes);

        var error = Assert.Throws<PolykeyException>(() => Open(passphrase: false, caches: false));
        Assert.Contains("corrupt at byte", error.Message);
        Assert.Throws<PolykeyException>(() => { using Keynode k = Open(passphrase: false, caches: false); k.Set("prod/x", "y"u8); });
        Assert.Equal(bytes, File.ReadAllBytes(_path));
    }

    private static byte[] Zeroed(byte[] whole, long at)
    {
        byte[] copy = (byte[])whole.Clone();
        Array.Clear(copy, (int)at, 512);
        return copy;
    }

    // Offsets where each change ends (the next one starts), found by walking the tar headers.
    private static IEnumerable<long> ChangeEnds(byte[] whole)
    {
        for (long pos = 0; pos + 512 <= whole.Length;)
        {
            if (TarHeader.TryParse(whole.AsSpan((int)pos, 512)) is not { } header) yield break;
            pos += 512 + TarHeader.Padded(header.Size);
            if (header.Name == TxnRecord.MemberName) yield return pos;
        }
    }

    [Fact]
    public void BytesAfterTheLastChange_AreReported_AndNoWriterErasesThem()
    {
        string secretId = CreateWithOneSecret(passphrase: false).SecretId;
        // What `tar -r` does: members over the end-of-archive blocks, then new end blocks, no change record.
        Commit unsigned = new(new ObjectId(new string('1', 40)), null, Mallory.Value.Public.Fingerprint, DateTimeOffset.UtcNow, new HistoryBinding(secretId, RawKeynode.Id(_path), 1).Message());
        (ObjectId id, byte[] compressed) = LooseObject.Encode(ObjectType.Commit, unsigned.Payload());
        long end = File.ReadAllBytes(_path).Length - 1024;
        using (var stream = new FileStream(_path, FileMode.Open, FileAccess.Write))
        {
            stream.Position = end;
            using var tar = new TarWriter(stream, TarEntryFormat.Ustar, leaveOpen: true);
            tar.WriteEntry(RawKeynode.Regular(id.LoosePath, compressed));
            tar.WriteEntry(RawKeynode.Regular(KeynodeLayout.SecretRefPrefix + secretId, Encoding.ASCII.GetBytes(id.Hex + "\n")));
        }
        byte[] appended = File.ReadAllBytes(_path)[(int)end..];

        using (Keynode opened = Open(passphrase: false, caches: false))
        {
            Assert.Equal("good", Value(opened, "prod/db"));
            AssertVerifyNames(opened, "belong to no change");
            opened.Set("prod/other", "new"u8);
            AssertVerifyNames(opened, "before change"); // now a gap between changes, still reported by this handle
        }
        byte[] after = File.ReadAllBytes(_path);
        int kept = appended.AsSpan().LastIndexOfAnyExcept((byte)0) + 1;
        Assert.Equal(appended[..kept], after[(int)end..((int)end + kept)]);
        using Keynode reopened = Open(passphrase: false, caches: false);
        Assert.Equal("new", Value(reopened, "prod/other"));
        AssertVerifyNames(reopened, "belong to no change");
    }

    [Theory]
    [InlineData("commit")]
    [InlineData("tree")]
    public void ScanCache_GivesTheSameAnswerAsNoCache(string kind)
    {
        var tips = new List<string>();
        using (Keynode node = Create(passphrase: false))
            for (int i = 1; i <= 3; i++)
            {
                node.Set("prod/db", Encoding.ASCII.GetBytes($"v{i}"));
                tips.Add(node.List().Single().Tip);
            }
        Warm(passphrase: false, caches: true);
        ObjectId middle = new(tips[1]);
        ObjectId target = kind == "commit" ? middle : RawKeynode.ReadCommit(_path, middle).Tree;
        byte[] bytes = File.ReadAllBytes(_path);
        bytes[RawKeynode.HeaderOffset(_path, target.LoosePath) + 512 + 20] ^= 0x40;
        File.WriteAllBytes(_path, bytes);

        string without = Assert.Throws<PolykeyException>(() => Open(passphrase: false, caches: false)).Message;
        string with = Assert.Throws<PolykeyException>(() => { using Keynode k = Open(passphrase: false, caches: true); k.Get("prod/db", 2).Dispose(); }).Message;
        Assert.Contains("corrupt at byte", without);
        Assert.Equal(without, with);
    }

    [Fact]
    public void ScanCache_NoticesARewrittenHeaderInAHashedChange()
    {
        using (Keynode node = Create(passphrase: false))
        {
            node.Set("prod/a", "1"u8);
            node.Set("prod/b", "2"u8);
        }
        Warm(passphrase: false, caches: true);
        // A ref's header renamed to a name pk ignores, its checksum made right: only the change hash sees it.
        string refName = KeynodeLayout.SecretRefPrefix + RawKeynode.State(_path).SecretRefs.Keys.First();
        byte[] bytes = File.ReadAllBytes(_path);
        long at = RawKeynode.HeaderOffset(_path, refName);
        byte[] header = RawKeynode.UstarHeader("ignored/name", 41);
        header.AsSpan().CopyTo(bytes.AsSpan((int)at, 512));
        File.WriteAllBytes(_path, bytes);

        string without = Assert.Throws<PolykeyException>(() => Open(passphrase: false, caches: false)).Message;
        Assert.Contains("corrupt at byte", without);
        // A reader that took the file before resumes from what it accepted then (its open snapshot):
        // the ref it would no longer find is not read again, so it keeps the values it verified,
        // never an older one, and pk verify (which uses no cache) names the damage.
        using (Keynode resumed = Open(passphrase: false, caches: true))
        {
            Assert.Equal(["prod/a", "prod/b"], resumed.List().Select(s => s.Path));
            using SecretBytes b = resumed.Get("prod/b");
            Assert.Equal("2"u8.ToArray(), b.Span.ToArray());
        }
        // Without its snapshot, the same reader hashes the file again and refuses it.
        foreach (string snapshot in Directory.GetFiles(Path.Combine(_files.PathOf("cache"), "polykey"), "*.open")) File.Delete(snapshot);
        Assert.Equal(without, Assert.Throws<PolykeyException>(() => Open(passphrase: false, caches: true)).Message);
    }

    [Fact]
    public void DamagedSealedKey_IsAClearRefusal_NeverACrash()
    {
        byte[] sealedKey = KeyVault.Seal(TestFiles.Owner, Passphrase);
        // Every byte of the packet headers and S2K parameters, then a spread of the rest (each open costs a full S2K).
        var random = new Random(9);
        foreach (int i in Enumerable.Range(0, 40).Concat(Enumerable.Range(0, 24).Select(_ => random.Next(40, sealedKey.Length))))
        {
            byte[] damaged = (byte[])sealedKey.Clone();
            damaged[i] ^= (byte)(1 << (i % 8));
            try
            {
                // A few bits carry nothing the key depends on; what opens must still be the owner's key.
                Assert.Equal(TestFiles.Owner.Public.Fingerprint, KeyVault.Open(damaged, Passphrase, "test").Public.Fingerprint);
            }
            catch (PolykeyException error)
            {
                Assert.Equal(FailureKind.AccessDenied, error.Kind);
            }
        }
    }

    /// <summary>The attacks above, followed by the owner's own later changes: in the middle of the file they stay refused.</summary>
    [Theory]
    [MemberData(nameof(Readers))]
    public void AttacksInTheMiddleOfTheFile_StayRefused(bool passphrase, bool caches)
    {
        string secretId, tip, removedTip, keynodeId, oldAccess, owner;
        using (Keynode node = Create(passphrase))
        {
            owner = node.Owner.Fingerprint;
            node.Set("prod/db", "good"u8);
            node.Set("prod/gone", "removed"u8);
            removedTip = node.List().Single(s => s.Path == "prod/gone").Tip;
            node.Remove("prod/gone");
            node.Grant(Mallory.Value.Public, read: false, write: true, ["prod/**"]);
            keynodeId = node.Id;
            oldAccess = RawKeynode.State(_path).SecretRefs[keynodeId].Hex;
            node.Revoke(Mallory.Value.Public, []);
            SecretInfo db = node.List().Single(s => s.Path == "prod/db");
            (secretId, tip) = (db.Id, db.Tip);
        }
        Warm(passphrase, caches);
        (_, List<PendingMember> forged) = VersionBuilder.Build(secretId, RawKeynode.Id(_path), new ObjectId(tip), RawKeynode.NextSequence(_path, new ObjectId(tip)), "prod/db", "forged"u8,
            VersionKind.Value, DateTimeOffset.UtcNow, Mallory.Value, [Mallory.Value.Public]);
        RawKeynode.Append(_path,
        [
            new(KeynodeLayout.OwnerPublicKeyMember, Mallory.Value.Public.ToBinary()),
            new(KeynodeLayout.SecretRefPrefix + VersionBuilder.NewSecretId(), Encoding.ASCII.GetBytes(removedTip + "\n")),
            new(KeynodeLayout.SecretRefPrefix + VersionBuilder.NewSecretId(), Encoding.ASCII.GetBytes(oldAccess + "\n")),
            .. forged,
        ]);
        using (Keynode node = Open(passphrase, caches))
        {
            node.Set("prod/later", "1"u8);
            node.Set("prod/later", "2"u8);
        }

        foreach (bool withCaches in new[] { caches, !caches })
        {
            using Keynode opened = Open(passphrase, withCaches);
            Assert.Equal(owner, opened.Owner.Fingerprint);
            Assert.Equal(["prod/db", "prod/later"], opened.List().Select(s => s.Path));
            Assert.Equal("good", Value(opened, "prod/db"));
            Assert.Equal("2", Value(opened, "prod/later"));
            Assert.Null(opened.Access.GrantOf(Mallory.Value.Public.Fingerprint));
            Assert.Equal(4, opened.Warnings.Count);
            Assert.Equal(4, opened.Verify().Problems.Count);
        }
    }

    public void Dispose() => _files.Dispose();
}
