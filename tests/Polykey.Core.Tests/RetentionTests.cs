using System.Security.Cryptography;
using System.Text;
using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core.Tests;

/// <summary>
/// `pk gc --keep-versions / --keep-since` (Keynode.Compact with a Retention): old versions'
/// values are dropped on the owner's signed word (a pruned statement); their commits stay, so
/// verify still proves the history. A value missing without that word is damage, and a
/// statement not signed by the owner is refused.
/// </summary>
public sealed class RetentionTests : IDisposable
{
    private static readonly Lazy<SecretIdentity> Stranger = new(() => SecretIdentity.Generate("retention-stranger"));
    private static readonly Lazy<SecretIdentity> Writer = new(() => SecretIdentity.Generate("retention-writer"));
    private readonly TestFiles _files = new();

    private string KeynodePath => _files.PathOf("n.keynode");

    private Keynode Open(bool caches = true) => caches
        ? Keynode.Open(KeynodePath, TestFiles.OwnerCredential, _files.PathOf("cache"), _files.PathOf("state"))
        : Keynode.Open(KeynodePath, TestFiles.OwnerCredential);

    private static byte[] ValueOf(int version) =>
        Encoding.ASCII.GetBytes($"RETAIN-PLAINTEXT-v{version:D2}-").Concat(RandomNumberGenerator.GetBytes(8192)).ToArray();

    // Ten versions of app/db (each 8 KiB), three of other/x.
    private List<byte[]> Fill()
    {
        var values = Enumerable.Range(1, 10).Select(ValueOf).ToList();
        using Keynode node = Keynode.Create(KeynodePath, "t", TestFiles.OwnerCredential, _files.PathOf("cache"), _files.PathOf("state"));
        foreach (byte[] value in values) node.Set("app/db", value);
        for (int i = 1; i <= 3; i++) node.Set("other/x", Encoding.ASCII.GetBytes($"x{i}"));
        return values;
    }

    private static byte[] Get(Keynode node, string path, int? version = null)
    {
        using SecretBytes value = node.Get(path, version);
        return value.Span.ToArray();
    }

    [Fact]
    public void KeepVersions2_KeepsTheNewestTwoByteForByte_ShrinksTheFile_AndVerifyCountsThePruned()
    {
        List<byte[]> values = Fill();
        long before = new FileInfo(KeynodePath).Length;
        CompactReport report;
        using (Keynode node = Open()) report = node.Compact(new Retention(2, null));
        Assert.Equal(8 + 1, report.PrunedVersions); // eight of app/db, one of other/x
        Assert.True(report.BytesAfter < before - 8 * 8192, $"{report.BytesAfter} of {before}");

        foreach (bool caches in new[] { false, true })
        {
            using Keynode node = Open(caches);
            Assert.Equal(values[9], Get(node, "app/db"));
            Assert.Equal(values[8], Get(node, "app/db", 9));
            Assert.Equal(values[9], Get(node, "app/db", 10));
            IReadOnlyList<VersionInfo> log = node.Log("app/db");
            Assert.Equal(10, log.Count);
            Assert.All(log.Take(8), v => Assert.True(v.Pruned, $"v{v.Number}"));
            Assert.All(log.Skip(8), v => Assert.False(v.Pruned));
            PolykeyException gone = Assert.Throws<PolykeyException>(() => node.Get("app/db", 3));
            Assert.Equal(FailureKind.NotFound, gone.Kind);
            Assert.Contains("version 3 of app/db was pruned", gone.Message);
            VerifyReport verify = node.Verify();
            Assert.True(verify.Ok, string.Join("; ", verify.Problems));
            Assert.Equal(9, verify.Pruned);
            Assert.Equal(10 + 3 + 1, verify.Versions); // and the statement's one
        }
    }

    [Fact]
    public void ASecondRetention_AddsToTheStatement_AndPlainGcKeepsWhatWasPruned()
    {
        List<byte[]> values = Fill();
        using (Keynode node = Open()) node.Compact(new Retention(5, null));
        using (Keynode node = Open()) node.Set("app/db", "eleven"u8);
        using (Keynode node = Open()) Assert.Equal(3, node.Compact(new Retention(3, null)).PrunedVersions); // v6 to v8 of app/db
        using (Keynode node = Open()) node.Compact();
        using (Keynode node = Open(caches: false))
        {
            Assert.Equal(8, node.Log("app/db").Count(v => v.Pruned));
            Assert.Equal(values[9], Get(node, "app/db", 10));
            VerifyReport verify = node.Verify();
            Assert.True(verify.Ok, string.Join("; ", verify.Problems));
            Assert.Equal(8, verify.Pruned);
            Assert.Equal([1, 2], node.Log("app/db").Where(v => v.Pruned).Take(2).Select(v => v.Number));
        }
    }

    [Fact]
    public void AStatementWithoutItsCompaction_AKilledGc_LeavesEveryValueReadable_TheNextGcDropsThem()
    {
        List<byte[]> values = Fill();
        // What a gc killed between its signed statement and its rename leaves: the statement, and every value.
        using (Keynode node = Open()) Assert.Equal(9, node.StatePruned(new Retention(2, null), DateTimeOffset.UtcNow));
        using (Keynode node = Open(caches: false))
        {
            Assert.Equal(values[0], Get(node, "app/db", 1));
            Assert.DoesNotContain(node.Log("app/db"), v => v.Pruned);
            VerifyReport verify = node.Verify();
            Assert.True(verify.Ok, string.Join("; ", verify.Problems));
            Assert.Equal(0, verify.Pruned);
        }
        // A plain gc then applies the statement (and a retention gc would add nothing to it).
        using (Keynode node = Open()) Assert.Equal(9, node.Compact().PrunedVersions);
        using (Keynode node = Open(caches: false))
        {
            Assert.Equal(9, node.Verify().Pruned);
            Assert.Equal(values[9], Get(node, "app/db"));
        }
    }

    [Fact]
    public void AHandleOpenedBeforeAnotherGc_RepeatsWhatThatGcPruned()
    {
        Fill();
        using Keynode stale = Open();
        using (Keynode other = Open()) other.Compact(new Retention(2, null, ["app/**"]));
        // The stale handle's statement must carry the other gc's lines: app/db's values are gone already.
        stale.Compact(new Retention(1, null, ["other/**"]));
        using Keynode fresh = Open(caches: false);
        VerifyReport verify = fresh.Verify();
        Assert.True(verify.Ok, string.Join("; ", verify.Problems));
        Assert.Equal(8 + 2, verify.Pruned);
    }

    [Fact]
    public void KeepSince_KeepsTheVersionsWithinTheDuration()
    {
        using (Keynode node = Keynode.Create(KeynodePath, "t", TestFiles.OwnerCredential))
        {
            for (int i = 1; i <= 3; i++) node.Set("app/db", Encoding.ASCII.GetBytes($"old {i}"));
            Thread.Sleep(TimeSpan.FromSeconds(4));
            for (int i = 4; i <= 5; i++) node.Set("app/db", Encoding.ASCII.GetBytes($"new {i}"));
        }
        using (Keynode node = Open()) Assert.Equal(3, node.Compact(new Retention(null, TimeSpan.FromSeconds(3))).PrunedVersions);
        using (Keynode node = Open(caches: false))
        {
            Assert.Equal([true, true, true, false, false], node.Log("app/db").Select(v => v.Pruned));
            Assert.Equal("new 4"u8.ToArray(), Get(node, "app/db", 4));
            Assert.True(node.Verify().Ok);
        }
    }

    [Fact]
    public void Kept_IsTheLargerOfEitherRule_AndNeverZero()
    {
        DateTimeOffset now = DateTimeOffset.UnixEpoch.AddDays(100);
        DateTimeOffset[] times = [now.AddHours(-1), now.AddDays(-2), now.AddDays(-3), now.AddDays(-40), now.AddDays(-50)];
        Assert.Equal(2, new Retention(2, null).Kept(times, now));
        Assert.Equal(3, new Retention(null, TimeSpan.FromDays(30)).Kept(times, now));
        Assert.Equal(4, new Retention(4, TimeSpan.FromDays(30)).Kept(times, now));
        Assert.Equal(1, new Retention(null, TimeSpan.FromMinutes(1)).Kept(times, now));
        Assert.Equal(5, new Retention(9, null).Kept(times, now));
        Assert.Equal(FailureKind.Usage, Assert.Throws<PolykeyException>(() => new Retention(0, null)).Kind);
        Assert.Equal(FailureKind.Usage, Assert.Throws<PolykeyException>(() => new Retention(null, null)).Kind);
    }

    [Fact]
    public void Patterns_RestrictThePruningToMatchingPaths()
    {
        Fill();
        using (Keynode node = Open()) Assert.Equal(2, node.Compact(new Retention(1, null, ["other/*"])).PrunedVersions);
        using Keynode fresh = Open(caches: false);
        Assert.DoesNotContain(fresh.Log("app/db"), v => v.Pruned);
        Assert.Equal([true, true, false], fresh.Log("other/x").Select(v => v.Pruned));
        Assert.True(fresh.Verify().Ok);
    }

    [Fact]
    public void AMissingValueNoStatementCovers_IsReportedAsDamage()
    {
        Fill();
        using (Keynode node = Open()) node.Compact(new Retention(2, null));
        // Two more versions; the first loses its blob (what a hand edit of the file leaves), the second stands on it.
        AppendVersion(KeynodePath, "app/db", "lost value"u8.ToArray(), TestFiles.Owner, dropBlob: true);
        AppendVersion(KeynodePath, "app/db", "twelve"u8.ToArray(), TestFiles.Owner, dropBlob: false);
        using Keynode fresh = Open(caches: false);
        Assert.Equal("twelve"u8.ToArray(), Get(fresh, "app/db"));
        VerifyReport verify = fresh.Verify();
        Assert.False(verify.Ok);
        Assert.Contains(verify.Problems, p => p.Contains("lacks git object"));
        Assert.Equal(9, verify.Pruned); // the covered ones still count as pruned, not as damage
        PolykeyException damaged = Assert.Throws<PolykeyException>(() => fresh.Get("app/db", 11));
        Assert.Equal(FailureKind.Failure, damaged.Kind);
        Assert.Contains("lacks git object", damaged.Message);
    }

    [Fact]
    public void ARetentionOnAKeynodeWithRefusedChanges_SignsNothing_AndChangesNothing()
    {
        Fill();
        AppendVersion(KeynodePath, "app/db", "forged"u8.ToArray(), Stranger.Value, dropBlob: false);
        byte[] before = File.ReadAllBytes(KeynodePath);
        using (Keynode node = Open(caches: false))
            Assert.Contains("nothing was changed", Assert.Throws<PolykeyException>(() => node.Compact(new Retention(1, null))).Hint);
        Assert.Equal(before, File.ReadAllBytes(KeynodePath));
    }

    [Theory]
    [InlineData("stranger")]
    [InlineData("grantee")]
    public void AStatementNotSignedByTheOwner_IsRefused(string who)
    {
        Fill();
        SecretIdentity signer = who == "stranger" ? Stranger.Value : Writer.Value;
        if (who == "grantee")
            using (Keynode node = Open()) node.Grant(Writer.Value.Public, read: true, write: true, ["**"]);
        // A version whose blob never reached the file, then a statement covering it.
        ObjectId lost = AppendVersion(KeynodePath, "app/db", "lost"u8.ToArray(), TestFiles.Owner, dropBlob: true);
        AppendVersion(KeynodePath, "app/db", "after"u8.ToArray(), TestFiles.Owner, dropBlob: false);
        string id = RawKeynode.Id(KeynodePath);
        string history = HistoryOf(KeynodePath, lost);
        var statement = PrunedStatement.Of([(history, lost)]);
        string prunedId = Keynode.PrunedHistoryId(id);
        (_, List<PendingMember> members) = VersionBuilder.Build(prunedId, id, null, 1, "polykey:pruned", statement.Serialize(), VersionKind.Pruned,
            DateTimeOffset.UtcNow, signer, [TestFiles.Owner.Public]);
        RawKeynode.Append(KeynodePath, members);

        using Keynode fresh = Open(caches: false);
        Assert.Contains(fresh.Warnings, w => w.Contains($"refused a change to secret history {prunedId[..8]}"));
        VerifyReport verify = fresh.Verify();
        Assert.Contains(verify.Problems, p => p.Contains("lacks git object"));
        Assert.Equal(0, verify.Pruned);
        Assert.Throws<PolykeyException>(() => fresh.Log("app/db"));
    }

    [Fact]
    public void PrunedVersionsAGranteeSigned_AreAcceptedOnTheOwnersWord()
    {
        Fill();
        using (Keynode node = Open()) node.Grant(Writer.Value.Public, read: true, write: true, ["app/**"]);
        // What a grantee's push lands as: its versions are checked by path (its write pattern) on every open.
        for (int i = 1; i <= 3; i++) AppendVersion(KeynodePath, "app/db", Encoding.ASCII.GetBytes($"by grantee {i}"), Writer.Value, dropBlob: false);
        using (Keynode node = Open(caches: false)) Assert.Empty(node.Warnings);
        using (Keynode node = Open()) node.Set("app/db", "owner again"u8);
        using (Keynode node = Open()) node.Compact(new Retention(1, null));
        // Without caches: each grantee version is checked again, now without the value that held its path.
        using Keynode fresh = Open(caches: false);
        Assert.Empty(fresh.Warnings);
        Assert.Equal("owner again"u8.ToArray(), Get(fresh, "app/db"));
        Assert.Equal(3, fresh.Log("app/db").Count(v => v.Pruned && v.Signer == Writer.Value.Public.Fingerprint));
        VerifyReport verify = fresh.Verify();
        Assert.True(verify.Ok, string.Join("; ", verify.Problems));
    }

    [Fact]
    public void AnOwnerSignedStatementOutsideThePrunedHistory_IsRefused()
    {
        Fill();
        string id = RawKeynode.Id(KeynodePath);
        string elsewhere = VersionBuilder.NewSecretId();
        (_, List<PendingMember> members) = VersionBuilder.Build(elsewhere, id, null, 1, "polykey:pruned", PrunedStatement.Empty.Serialize(), VersionKind.Pruned,
            DateTimeOffset.UtcNow, TestFiles.Owner, [TestFiles.Owner.Public]);
        RawKeynode.Append(KeynodePath, members);
        using Keynode fresh = Open(caches: false);
        Assert.Contains(fresh.Warnings, w => w.Contains("pruned statement outside its keynode's pruned history"));
    }

    [Fact]
    public void PrunedValues_LeaveNoCiphertextOrPlaintextBehind()
    {
        List<byte[]> values = Fill();
        // The stored (compressed, encrypted) blobs of versions 1 to 8, as the file held them.
        List<byte[]> prunedBlobs;
        using (Keynode node = Open(caches: false))
        {
            KeynodeState state = RawKeynode.State(KeynodePath);
            prunedBlobs = node.Log("app/db").Take(8).Select(v => StoredBlob(KeynodePath, state, new ObjectId(v.CommitId))).ToList();
        }
        using (Keynode node = Open()) node.Compact(new Retention(2, null));
        foreach (string file in Directory.EnumerateFiles(_files.Directory, "*", SearchOption.AllDirectories))
        {
            byte[] bytes = File.ReadAllBytes(file);
            foreach (byte[] value in values) Assert.True(bytes.AsSpan().IndexOf(value.AsSpan(0, 24)) < 0, $"plaintext in {file}");
            foreach (byte[] blob in prunedBlobs) Assert.True(bytes.AsSpan().IndexOf(blob.AsSpan(blob.Length / 2, 64)) < 0, $"a pruned blob in {file}");
        }
        Assert.Empty(Directory.GetFiles(_files.Directory, "n.keynode.gc-*"));
    }

    [Fact]
    public void Statement_ParsesOnlyWhatItWrites()
    {
        var statement = PrunedStatement.Of([("b".PadLeft(32, '0'), new ObjectId(new string('1', 40))), ("a".PadLeft(32, '0'), new ObjectId(new string('2', 40)))]);
        byte[] body = statement.Serialize();
        Assert.Equal(statement.Lines, PrunedStatement.TryParse(body)!.Lines);
        for (int cut = 0; cut < body.Length; cut++)
            if (cut != "polykey-pruned 1\n".Length && cut != body.Length - 74)
                Assert.Null(PrunedStatement.TryParse(body.AsSpan(0, cut)));
        byte[] upper = (byte[])body.Clone();
        upper[^2] = (byte)'A';
        Assert.Null(PrunedStatement.TryParse(upper));
        byte[] swapped = Encoding.ASCII.GetBytes("polykey-pruned 1\n" + Encoding.ASCII.GetString(body, 17 + 74, 74) + Encoding.ASCII.GetString(body, 17, 74));
        Assert.Null(PrunedStatement.TryParse(swapped)); // out of order: one reading only
    }

    // Appends a version of the history now at `path`, signed by `signer`; with dropBlob its value never reaches the file.
    private static ObjectId AppendVersion(string keynode, string path, byte[] value, SecretIdentity signer, bool dropBlob)
    {
        KeynodeState state = RawKeynode.State(keynode);
        string id = RawKeynode.Id(keynode);
        (string history, ObjectId tip) = state.SecretRefs
            .Select(r => (r.Key, r.Value))
            .First(r => RawKeynode.ReadCommit(keynode, r.Value) is { } c && HistoryBinding.TryParse(c.Message)!.Value.Sequence >= 10 && r.Key != id);
        (ObjectId commit, List<PendingMember> members) = VersionBuilder.Build(history, id, tip, RawKeynode.NextSequence(keynode, tip), path, value,
            VersionKind.Value, DateTimeOffset.UtcNow, signer, [TestFiles.Owner.Public]);
        if (dropBlob) members.RemoveAt(0); // the blob is the first member
        RawKeynode.Append(keynode, members);
        return commit;
    }

    private static string HistoryOf(string keynode, ObjectId commit) =>
        HistoryBinding.TryParse(RawKeynode.ReadCommit(keynode, commit).Message)!.Value.HistoryId;

    private static byte[] StoredBlob(string keynode, KeynodeState state, ObjectId commit)
    {
        Commit c = RawKeynode.ReadCommit(keynode, commit);
        VersionBuilder.KindOf(Tree.Decode(RawKeynode.ReadObject(keynode, c.Tree)), out ObjectId blob);
        Assert.True(state.TryGetObject(blob, out TarMember member));
        using KeynodeFile file = KeynodeFile.Open(keynode);
        return file.ReadData(member);
    }

    public void Dispose() => _files.Dispose();
}
