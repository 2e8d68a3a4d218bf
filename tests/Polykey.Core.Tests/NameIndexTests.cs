using System.Text;
using Polykey.Core.Crypto;
using Polykey.Core.Storage;

namespace Polykey.Core.Tests;

/// <summary>
/// The name index kept in the keynode (docs/keynode-format.md §8.5): a reader with no caches
/// takes it and sees exactly what a reader of the whole file sees; an index that is damaged, cut,
/// forged, replayed or written before the owner key moved is read around, never taken for names.
/// </summary>
public sealed class NameIndexTests : IDisposable
{
    private static readonly Lazy<SecretIdentity> Stranger = new(() => SecretIdentity.Generate("index-stranger"));
    private readonly TestFiles _files = new();
    private int _caches;

    private string KeynodePath => _files.PathOf("n.keynode");

    // A cache directory never used before: the reader has no snapshot, memo or verified list.
    private string FreshCache() => _files.PathOf($"cache{Interlocked.Increment(ref _caches)}");

    private Keynode OpenCold(string? path = null, Credential? credential = null) =>
        Keynode.Open(path ?? KeynodePath, credential ?? TestFiles.OwnerCredential, FreshCache());

    private Keynode OpenWhole(string? path = null, Credential? credential = null) =>
        Keynode.Open(path ?? KeynodePath, credential ?? TestFiles.OwnerCredential);

    private static string Describe(Keynode keynode)
    {
        var text = new StringBuilder();
        foreach (SecretInfo secret in keynode.List())
        {
            using SecretBytes value = keynode.Get(secret.Path);
            text.Append($"{secret.Path} {secret.Size} {secret.Tip} {Convert.ToHexString(value.Span)}\n");
        }
        foreach (string directory in keynode.ListDirectories()) text.Append($"dir {directory}\n");
        return text.ToString();
    }

    private Keynode Filled(int secrets)
    {
        Keynode keynode = Keynode.Create(KeynodePath, "core-test", TestFiles.OwnerCredential);
        var edits = new List<SecretEdit>();
        for (int i = 0; i < secrets; i++) edits.Add(new SecretEdit.Set($"team{i % 3}/s{i}", Encoding.ASCII.GetBytes($"value {i}")));
        keynode.Commit(edits);
        keynode.Commit([new SecretEdit.MakeDirectory("empty/dir")]);
        keynode.Remove("team0/s0");
        return keynode;
    }

    // A filled keynode whose last change is its name index; returns where that change starts.
    private long FilledAndIndexed(int secrets)
    {
        using Keynode writer = Filled(secrets);
        long indexStart = new FileInfo(KeynodePath).Length - 2 * TarHeader.BlockSize;
        Assert.True(writer.WriteNameIndex(minimumHistories: 1));
        return indexStart;
    }

    [Fact]
    public void ColdReader_TakesTheIndex_AndSeesWhatTheWholeFileShows_IncludingChangesAfterIt()
    {
        using (Keynode writer = Filled(40))
        {
            Assert.True(writer.WriteNameIndex(minimumHistories: 1));
            writer.Set("team1/s1", "second version"u8);
            writer.Set("new/after-index", "new"u8);
            writer.Remove("team2/s2");
            writer.Move("team0/s3", "moved/s3");
        }
        string whole;
        using (Keynode reader = OpenWhole()) whole = Describe(reader);
        using (Keynode cold = OpenCold())
        {
            Assert.True(cold.OpenedFromNameIndex);
            Assert.Empty(cold.Warnings);
            Assert.Equal(whole, Describe(cold));
        }
        // One name at a time (the memo's chunks, not a listing), on another cold reader.
        using (Keynode cold = OpenCold())
        {
            Assert.True(cold.OpenedFromNameIndex);
            Assert.Equal("second version", Encoding.ASCII.GetString(cold.Get("team1/s1").Span));
            Assert.Equal("value 7", Encoding.ASCII.GetString(cold.Get("team1/s7").Span));
            Assert.Equal("value 3", Encoding.ASCII.GetString(cold.Get("moved/s3").Span));
            Assert.Null(cold.Find("team2/s2"));
            Assert.Null(cold.Find("team0/s0"));
            Assert.Null(cold.Find("team0/s3"));
        }
    }

    [Fact]
    public void ReadOnlyCredential_TakesTheIndexAndItsNames_AndSeesWhatTheWholeFileShows()
    {
        using (Keynode writer = Filled(12))
        {
            Assert.True(writer.WriteNameIndex(minimumHistories: 1));
        }
        SecretIdentity readOnly = SecretIdentity.Load(Encoding.ASCII.GetBytes(TestFiles.Owner.ToReadOnlyArmored()), "read-only key");
        Assert.False(readOnly.CanSign);
        var credential = new Credential.KeyFile(readOnly, "read-only key");
        string whole;
        using (Keynode reader = OpenWhole(credential: credential)) whole = Describe(reader);
        using Keynode cold = OpenCold(credential: credential);
        Assert.True(cold.OpenedFromNameIndex);
        Assert.Equal(whole, Describe(cold));
        Assert.Empty(cold.Warnings);
        Assert.False(cold.WriteNameIndex(minimumHistories: 1));
    }

    [Fact]
    public void TooFewHistories_NoIndex()
    {
        using Keynode writer = Filled(3);
        long before = new FileInfo(KeynodePath).Length;
        Assert.False(writer.WriteNameIndex());
        Assert.Equal(before, new FileInfo(KeynodePath).Length);
        using Keynode cold = OpenCold();
        Assert.False(cold.OpenedFromNameIndex);
    }

    [Fact]
    public void EveryByteOfTheIndexMember_FlippedOrCut_ReadsTheWholeFile_NeverOtherNames()
    {
        long indexStart = FilledAndIndexed(3);
        byte[] original = File.ReadAllBytes(KeynodePath);
        string expected;
        using (Keynode reader = OpenWhole()) expected = Describe(reader);
        (TarMember member, _) = FindIndex(KeynodePath);
        Assert.Equal(indexStart + TarHeader.BlockSize, member.DataOffset);
        long recordAt = member.DataOffset + TarHeader.Padded(member.Size);
        int adoptedAfterDamage = 0;
        // Two at a time (each open is a few ms; there are thousands): every byte of the index
        // member flipped (header, data, padding), and the file cut at every byte of its change.
        Parallel.For(indexStart, original.Length - 2 * TarHeader.BlockSize, new ParallelOptions { MaxDegreeOfParallelism = 2 }, at =>
        {
            string copy = _files.PathOf($"copy{at}.keynode");
            if (at < recordAt)
            {
                byte[] damaged = (byte[])original.Clone();
                damaged[at] ^= 0x5a;
                File.WriteAllBytes(copy, damaged);
                using Keynode reader = OpenCold(copy);
                Assert.Equal(expected, Describe(reader));
                if (at < member.DataOffset + member.Size) Assert.True(reader.Warnings.Count > 0, $"a flip at byte {at} went unreported");
                if (reader.OpenedFromNameIndex) Interlocked.Increment(ref adoptedAfterDamage);
            }
            File.WriteAllBytes(copy, original.AsSpan(0, (int)at).ToArray());
            using (Keynode reader = OpenCold(copy))
            {
                Assert.False(reader.OpenedFromNameIndex);
                Assert.Equal(expected, Describe(reader));
            }
            File.Delete(copy);
        });
        // Only flips the signature cannot see (the zero padding) may leave the index taken, and the record then catches them.
        Assert.True(adoptedAfterDamage < TarHeader.BlockSize, $"{adoptedAfterDamage} damaged copies were opened from their index");
    }

    [Fact]
    public void IndexSignedByAnotherKey_IsRefusedWithAWarning_AndTheWholeFileIsRead()
    {
        using (Keynode writer = Filled(6))
        {
            Assert.True(writer.WriteNameIndex(minimumHistories: 1));
        }
        (TarMember member, _) = FindIndex(KeynodePath);
        (NameIndexMember genuine, _) = NameIndexMember.TryParse(ReadMember(KeynodePath, member), RawKeynode.Id(KeynodePath))!.Value;
        // Another key signs the same parts: a stranger with write access to the file cannot vouch for names.
        byte[] forged = NameIndexMember.Build(genuine.KeynodeId, genuine.Snapshot.ToArray(), genuine.Memo.ToArray(),
            payload => CommitSignature.Sign(payload, Stranger.Value));
        RawKeynode.Append(KeynodePath, [new PendingMember(NameIndexMember.MemberName, forged)]);
        RefusedWithAWarning("is not signed by the keynode's owner");
    }

    // A cold reader passes the newest index over, says why, and sees what a reader of the whole file sees.
    private void RefusedWithAWarning(string why, string? absent = null)
    {
        string expected;
        using (Keynode reader = OpenWhole()) expected = Describe(reader);
        if (absent is not null) Assert.DoesNotContain(absent, expected);
        using Keynode cold = OpenCold();
        Assert.False(cold.OpenedFromNameIndex);
        Assert.Contains(cold.Warnings, w => w.Contains(why, StringComparison.Ordinal));
        Assert.Equal(expected, Describe(cold));
    }

    [Fact]
    public void OlderIndexReplayedAtTheEnd_DoesNotNameTheChangeBeforeIt_AndIsRefused()
    {
        using (Keynode writer = Filled(6))
        {
            Assert.True(writer.WriteNameIndex(minimumHistories: 1));
            writer.Remove("team1/s1");
            writer.Set("team2/s2", "changed after the index"u8);
        }
        (TarMember member, _) = FindIndex(KeynodePath);
        // The owner's own signature, copied to after later changes: it would hide them.
        RawKeynode.Append(KeynodePath, [new PendingMember(NameIndexMember.MemberName, ReadMember(KeynodePath, member))]);
        RefusedWithAWarning("does not name the change before it", absent: "team1/s1 ");
    }

    [Fact]
    public void AfterARotation_NoIndexIsWritten_AndAnOlderOneLeadsToTheSameStateAsTheWholeFile()
    {
        SecretIdentity next = SecretIdentity.Generate("index-next-owner");
        using (Keynode writer = Filled(6))
        {
            Assert.True(writer.WriteNameIndex(minimumHistories: 1));
            writer.Rotate(next);
        }
        var nextCredential = new Credential.KeyFile(next, "next key");
        using (Keynode writer = OpenWhole(credential: nextCredential))
        {
            writer.Set("team1/s1", "after the rotation"u8);
            Assert.False(writer.WriteNameIndex(minimumHistories: 1));
        }
        string expected;
        using (Keynode reader = OpenWhole(credential: nextCredential)) expected = Describe(reader);
        using Keynode cold = OpenCold(credential: nextCredential);
        Assert.Equal(expected, Describe(cold));
        Assert.Equal(next.Public.Fingerprint, cold.Owner.Fingerprint);
    }

    [Fact]
    public void Verify_OpensAsAReaderWithoutCaches_AndReportsAnIndexThatShowsOtherNames()
    {
        long indexStart = FilledAndIndexed(6);
        using (Keynode whole = OpenWhole())
        {
            VerifyReport report = whole.Verify();
            Assert.True(report.Ok, string.Join("\n", report.Problems));
            Assert.True(report.NameIndexChecked);
        }

        // The owner's own index, written again with two names swapped: what a writer's bug would
        // leave. Readers take the owner's word; verify, which reads every history, says so.
        (TarMember member, ScanPoint before) = FindIndex(KeynodePath);
        string id = RawKeynode.Id(KeynodePath);
        (NameIndexMember genuine, _) = NameIndexMember.TryParse(ReadMember(KeynodePath, member), id)!.Value;
        string memoFile = _files.PathOf("genuine.names");
        File.WriteAllBytes(memoFile, genuine.Memo.ToArray());
        List<(string Id, Git.ObjectId Tip, IndexEntry? Entry)> entries;
        using (NameMemo memo = NameMemo.Open(memoFile, id, before, TestFiles.Owner, out _)!) entries = memo.All()!;
        int a = entries.FindIndex(e => e.Entry?.Path == "team1/s1"), b = entries.FindIndex(e => e.Entry?.Path == "team2/s2");
        (string pathA, string pathB) = (entries[a].Entry!.Path, entries[b].Entry!.Path);
        entries[a] = entries[a] with { Entry = entries[a].Entry! with { Path = pathB } };
        entries[b] = entries[b] with { Entry = entries[b].Entry! with { Path = pathA } };
        byte[] lying = NameIndexMember.Build(id, genuine.Snapshot.ToArray(), NameMemo.Build(id, before, TestFiles.Owner, entries)!,
            payload => CommitSignature.Sign(payload, TestFiles.Owner));
        using (var file = new FileStream(KeynodePath, FileMode.Open)) file.SetLength(indexStart);
        RawKeynode.Append(KeynodePath, [new PendingMember(NameIndexMember.MemberName, lying)]);
        using (Keynode whole = OpenWhole())
        {
            VerifyReport report = whole.Verify();
            Assert.False(report.NameIndexChecked);
            Assert.Contains(report.Problems, p => p.Contains("shows other names than its histories", StringComparison.Ordinal));
        }
        // A reader that takes it lists what the owner signed, but never hands out one secret's value under another's name.
        using (Keynode cold = OpenCold())
        {
            Assert.True(cold.OpenedFromNameIndex);
            PolykeyException e = Assert.Throws<PolykeyException>(() => cold.Get("team1/s1"));
            Assert.Contains("do not match its versions", e.Message);
            Assert.Equal("value 4", Encoding.ASCII.GetString(cold.Get("team1/s4").Span));
        }
    }

    private static (TarMember Member, ScanPoint Before) FindIndex(string path)
    {
        using KeynodeFile file = KeynodeFile.Open(path);
        return NameIndexLocator.FindLast(file.Handle) ?? throw new InvalidOperationException("no index in " + path);
    }

    private static byte[] ReadMember(string path, TarMember member)
    {
        using KeynodeFile file = KeynodeFile.Open(path);
        return file.ReadData(member);
    }

    public void Dispose() => _files.Dispose();
}
