using System.Text;
using Polykey.Core.Crypto;

namespace Polykey.Core.Tests;

/// <summary>
/// `pk gc` (Keynode.Compact): the file written again with what was accepted, each object once.
/// Every version, signature and verify result stays as it was; handles open on the old file
/// follow the new one, for reading and for writing.
/// </summary>
public sealed class CompactionTests : IDisposable
{
    private static readonly Lazy<SecretIdentity> Reader = new(() => SecretIdentity.Generate("gc-reader"));
    private readonly TestFiles _files = new();

    private string KeynodePath => _files.PathOf("n.keynode");

    private Keynode Open(bool caches = true) => caches
        ? Keynode.Open(KeynodePath, TestFiles.OwnerCredential, _files.PathOf("cache"), _files.PathOf("state"))
        : Keynode.Open(KeynodePath, TestFiles.OwnerCredential);

    private void Fill()
    {
        using Keynode node = Keynode.Create(KeynodePath, "t", TestFiles.OwnerCredential, _files.PathOf("cache"), _files.PathOf("state"));
        for (int round = 0; round < 6; round++)
            for (int i = 0; i < 8; i++)
                node.Set($"app/s{i}", Encoding.ASCII.GetBytes($"value {i} round {round}"));
        node.Move("app/s7", "moved/s7");
        node.Remove("app/s6");
        node.Commit([new SecretEdit.MakeDirectory("empty/dir")]);
        node.Grant(Reader.Value.Public, read: true, write: false, ["app/**"]);
        node.Set("app/s0", "after the grant"u8);
    }

    // Every version of every secret ever named: number, id, signer, time, path and value.
    private static string Everything(Keynode node, IEnumerable<string> paths)
    {
        var text = new StringBuilder();
        foreach (string path in paths)
        {
            foreach (VersionInfo version in node.Log(path))
            {
                text.Append($"{path} v{version.Number} {version.CommitId} {version.Signer} {version.Time:O} {version.Path} {version.Removed}");
                if (!version.Removed)
                {
                    using SecretBytes value = node.GetVersion(version.Path, version.CommitId);
                    text.Append(' ').Append(Convert.ToHexString(value.Span));
                }
                text.Append('\n');
            }
        }
        foreach (string directory in node.ListDirectories()) text.Append($"dir {directory}\n");
        text.Append(string.Join(",", node.Access.Grants.Select(g => g.Identity.Fingerprint + ":" + string.Join("+", g.Read))));
        return text.ToString();
    }

    private static readonly string[] Paths = [.. Enumerable.Range(0, 7).Select(i => $"app/s{i}"), "moved/s7"];

    [Fact]
    public void Compact_KeepsEveryVersionByteForByte_AndShrinksTheFile()
    {
        Fill();
        string before;
        using (Keynode node = Open(caches: false))
        {
            Assert.True(node.Verify().Ok);
            before = Everything(node, Paths);
        }
        long sizeBefore = new FileInfo(KeynodePath).Length;
        CompactReport report;
        using (Keynode node = Open()) report = node.Compact();
        Assert.Equal(sizeBefore, report.BytesBefore);
        Assert.Equal(new FileInfo(KeynodePath).Length, report.BytesAfter);
        Assert.True(report.BytesAfter < sizeBefore * 3 / 4, $"{report.BytesAfter} of {sizeBefore}");
        using (Keynode node = Open(caches: false))
        {
            VerifyReport verify = node.Verify();
            Assert.True(verify.Ok, string.Join("; ", verify.Problems));
            Assert.Equal(before, Everything(node, Paths));
        }
        Assert.Empty(Directory.GetFiles(_files.Directory, "n.keynode.gc-*"));
    }

    [Fact]
    public void HandlesOpenOnTheOldFile_ReadAndWriteTheNewOne()
    {
        Fill();
        using Keynode mountLike = Open();
        using Keynode writer = Open(caches: false);
        Assert.Equal(7, mountLike.List().Count);
        using (Keynode gc = Open()) gc.Compact();

        // A long-lived reader (a mount) notices the rename on its next refresh, and writes go to the new file.
        mountLike.Refresh();
        using (SecretBytes value = mountLike.Get("app/s3")) Assert.Equal("value 3 round 5"u8.ToArray(), value.Span.ToArray());
        mountLike.Set("from/mount", "m"u8);
        // A writer that opened the old file before the compaction appends to the new one, never to the old.
        writer.Set("from/writer", "w"u8);
        using Keynode fresh = Open(caches: false);
        Assert.True(fresh.Verify().Ok);
        using (SecretBytes value = fresh.Get("from/mount")) Assert.Equal("m"u8.ToArray(), value.Span.ToArray());
        using (SecretBytes value = fresh.Get("from/writer")) Assert.Equal("w"u8.ToArray(), value.Span.ToArray());
        mountLike.Refresh();
        Assert.NotNull(mountLike.Find("from/writer"));
    }

    [Fact]
    public void UnfinishedCompaction_LeftBehind_IsIgnoredByReaders_AndRemovedByTheNext()
    {
        Fill();
        string left = KeynodePath + ".gc-999999";
        File.WriteAllBytes(left, File.ReadAllBytes(KeynodePath)[..5000]);
        string before;
        using (Keynode node = Open(caches: false)) before = Everything(node, Paths);
        using (Keynode node = Open()) node.Compact();
        Assert.False(File.Exists(left));
        using (Keynode node = Open(caches: false)) Assert.Equal(before, Everything(node, Paths));
    }

    [Fact]
    public void Compact_DropsTheBytesAKilledAppendLeft()
    {
        Fill();
        // What a writer killed mid-append leaves: bytes after the last change that belong to none.
        using (var stream = new FileStream(KeynodePath, FileMode.Open))
        {
            stream.Seek(-1024, SeekOrigin.End);
            stream.Write(Enumerable.Repeat((byte)0x5a, 3000).ToArray());
        }
        using (Keynode node = Open(caches: false)) Assert.Contains(node.Verify().Problems, p => p.Contains("belong to no change"));
        using (Keynode node = Open()) node.Compact();
        using (Keynode node = Open(caches: false))
        {
            VerifyReport verify = node.Verify();
            Assert.True(verify.Ok, string.Join("; ", verify.Problems));
            Assert.Empty(verify.Problems);
        }
    }

    [Fact]
    public void GranteeSignedVersions_StillValidate_InTheCompactedFile_WithoutCaches()
    {
        SecretIdentity writer = SecretIdentity.Generate("gc-writer");
        using (Keynode node = Keynode.Create(KeynodePath, "t", TestFiles.OwnerCredential))
        {
            for (int i = 0; i < 16; i++) node.Set($"app/s{i}", "owner"u8);
            node.Grant(writer.Public, read: true, write: true, ["app/**"]);
        }
        // What the grantee's pushes land as: a version of each history, signed by the grantee.
        string keynodeId = RawKeynode.Id(KeynodePath);
        foreach ((string history, Polykey.Core.Git.ObjectId tip) in RawKeynode.State(KeynodePath).SecretRefs.Where(r => r.Key != keynodeId).ToList())
        {
            if (RawKeynode.ReadCommit(KeynodePath, tip).SignerFingerprint != TestFiles.Owner.Public.Fingerprint) continue;
            using Keynode reader = Open(caches: false);
            if (reader.List().FirstOrDefault(s => s.Id == history) is not { } secret) continue; // not a secret (rules view)
            (_, List<Polykey.Core.Storage.PendingMember> members) = VersionBuilder.Build(history, keynodeId, tip, RawKeynode.NextSequence(KeynodePath, tip),
                secret.Path, "grantee"u8, VersionKind.Value, DateTimeOffset.UtcNow, writer, [TestFiles.Owner.Public, writer.Public]);
            RawKeynode.Append(KeynodePath, members);
        }
        using (Keynode node = Open()) node.Compact();
        // Every ref lands in one change; the access list's comes first, so each grantee version meets its grant.
        using Keynode fresh = Open(caches: false);
        Assert.Empty(fresh.Warnings);
        Assert.All(fresh.List(), s => Assert.Equal("grantee"u8.ToArray(), fresh.Get(s.Path).Span.ToArray()));
    }

    public void Dispose() => _files.Dispose();
}
