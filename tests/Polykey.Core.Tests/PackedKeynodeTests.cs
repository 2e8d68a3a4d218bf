using System.Buffers.Binary;
using System.Text;
using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core.Tests;

/// <summary>
/// Packs and packed-refs (docs/keynode-format.md §4.3, §4.4): a keynode written packed reads as
/// the loose one does, with and without caches; hostile packs and packed-refs are refused with a
/// warning naming what is wrong, or read as damage, never as a value.
/// </summary>
public sealed class PackedKeynodeTests : IDisposable
{
    private readonly TestFiles _files = new();

    private string KeynodePath => _files.PathOf("n.keynode");

    private Keynode Open(bool caches = true) => caches
        ? Keynode.Open(KeynodePath, TestFiles.OwnerCredential, _files.PathOf("cache"), _files.PathOf("state"))
        : Keynode.Open(KeynodePath, TestFiles.OwnerCredential);

    private Keynode Create() => Keynode.Create(KeynodePath, "t", TestFiles.OwnerCredential, _files.PathOf("cache"), _files.PathOf("state"));

    private static string ValueOf(string path, int round = 0) => $"value of {path} round {round}";

    private static void Import(Keynode node, IEnumerable<string> paths, int round = 0) =>
        node.Commit(paths.Select(p => (SecretEdit)new SecretEdit.Set(p, Encoding.ASCII.GetBytes(ValueOf(p, round)))).ToList());

    private static IEnumerable<string> Paths(string prefix, int count = 30) => Enumerable.Range(0, count).Select(i => $"{prefix}/s{i:D2}");

    private List<Change> Changes()
    {
        using KeynodeFile file = KeynodeFile.Open(KeynodePath);
        return file.ReadChanges(ScanPoint.Origin).Changes.ToList();
    }

    private static void AssertValues(Keynode node, IReadOnlyDictionary<string, string> expected)
    {
        foreach ((string path, string value) in expected)
        {
            using SecretBytes read = node.Get(path);
            Assert.Equal(value, Encoding.ASCII.GetString(read.Span));
        }
    }

    // Without caches, then twice with them (the first writes the open snapshot, the second resumes from it).
    private void AssertEveryReaderReads(IReadOnlyDictionary<string, string> expected, Action<Keynode>? more = null)
    {
        foreach (bool caches in new[] { false, true, true })
        {
            using Keynode node = Open(caches);
            Assert.Empty(node.Warnings);
            AssertValues(node, expected);
            more?.Invoke(node);
        }
    }

    // A new keynode: one import under prefix, then one loose edit of an imported secret; the values every reader must read.
    private Dictionary<string, string> ImportThenEdit(string prefix, string edited, string value, Action<Keynode>? then = null)
    {
        var expected = Paths(prefix).ToDictionary(p => p, p => ValueOf(p));
        using Keynode node = Create();
        Import(node, expected.Keys);
        node.Set(edited, Encoding.ASCII.GetBytes(value));
        expected[edited] = value;
        then?.Invoke(node);
        return expected;
    }

    [Fact]
    public void Import_WritesOnePackAndPackedRefs_AndReadsTheSameWithAndWithoutCaches()
    {
        var expected = Paths("app").ToDictionary(p => p, p => ValueOf(p));
        using (Keynode node = Create()) Import(node, expected.Keys);
        Change import = Changes()[^1];
        Assert.Equal(["pack", "idx", "packed-refs"], import.Members.Select(m => m.Name.Split('.')[^1]).Where(n => n != TxnRecord.MemberName).ToArray());

        AssertEveryReaderReads(expected, node =>
        {
            Assert.Equal(expected.Count, node.List().Count);
            Assert.Single(node.Log("app/s07"));
        });
        using (Keynode node = Open(caches: false))
        {
            VerifyReport verify = node.Verify();
            Assert.True(verify.Ok, string.Join("; ", verify.Problems));
        }
    }

    [Fact]
    public void SecondImport_AfterASnapshotAndALooseEdit_RepeatsThePackedRefs_AndEveryReaderAgrees()
    {
        Dictionary<string, string> expected = ImportThenEdit("a", "a/s00", "edited loose");
        // Resumed from the snapshot: the refs before it are read again to write the next packed-refs.
        using (Keynode node = Open())
        {
            Import(node, Paths("b").Append("a/s01"), round: 1);
            foreach (string p in Paths("b").Append("a/s01")) expected[p] = ValueOf(p, 1);
        }
        List<Change> changes = Changes();
        TarMember second = changes[^1].Members.Single(m => m.Name == PackLayout.PackedRefsMember);
        List<KeyValuePair<string, ObjectId>> entries = PackedRefs.TryRead(second.Inline, out _)!;
        Assert.Equal(60, entries.Count); // the first import's 30 (a/s00 unchanged, its loose ref wins), the new 30
        AssertEveryReaderReads(expected, node =>
        {
            Assert.Equal(2, node.Log("a/s00").Count);
            Assert.Equal(2, node.Log("a/s01").Count);
        });
    }

    [Fact]
    public void Import_OverLooseSecrets_KeepsTheirRefsLoose()
    {
        var expected = new Dictionary<string, string>();
        using (Keynode node = Create())
        {
            foreach (string p in Paths("x", 3)) node.Set(p, "loose"u8);
            Import(node, Paths("x", 30));
        }
        foreach (string p in Paths("x", 30)) expected[p] = ValueOf(p);
        Change import = Changes()[^1];
        Assert.Equal(3, import.Members.Count(m => m.Name.StartsWith(KeynodeLayout.SecretRefPrefix, StringComparison.Ordinal)));
        Assert.Equal(27, PackedRefs.TryRead(import.Members.Single(m => m.Name == PackLayout.PackedRefsMember).Inline, out _)!.Count);
        AssertEveryReaderReads(expected);
    }

    [Fact]
    public void Compact_OfAnImportedKeynode_KeepsEveryValue_AndWritesPacks()
    {
        Dictionary<string, string> expected = ImportThenEdit("app", "app/s03", "later", node => node.Compact());
        Assert.DoesNotContain(Changes().SelectMany(c => c.Members), m => m.Name.Length == 49 && m.Name.StartsWith("objects/", StringComparison.Ordinal));
        Assert.Contains(Changes()[^1].Members, m => m.Name == PackLayout.PackedRefsMember);
        AssertEveryReaderReads(expected, node =>
        {
            Assert.Equal(2, node.Log("app/s03").Count);
            Assert.True(node.Verify().Ok);
        });
    }

    // ---- hostile packs ----

    private static WholeObject Blob(string text)
    {
        byte[] content = Encoding.ASCII.GetBytes(text);
        return new WholeObject(LooseObject.IdOf(ObjectType.Blob, content), ObjectType.Blob, content);
    }

    private static void Reseal(byte[] data) => Digests.Sha1(data.AsSpan(0, data.Length - 20)).CopyTo(data, data.Length - 20);

    private List<string> WarningsAfterAppending(params PendingMember[] members)
    {
        using (Keynode node = Create()) node.Set("kept", "kept value"u8);
        RawKeynode.Append(KeynodePath, members);
        using Keynode reader = Open(caches: false);
        AssertValues(reader, new Dictionary<string, string> { ["kept"] = "kept value" });
        return reader.Warnings;
    }

    private static PendingMember[] PackMembers(byte[] pack, byte[] index, string? name = null)
    {
        name ??= Convert.ToHexStringLower(pack.AsSpan(pack.Length - 20));
        return [new(PackLayout.PackMember(name), pack), new(PackLayout.IndexMember(name), index)];
    }

    [Fact]
    public void Index_WithAnOffsetPastItsPack_IsRefused()
    {
        (_, byte[] pack, byte[] index) = PackWriter.Write([Blob("one"), Blob("two")]);
        BinaryPrimitives.WriteUInt32BigEndian(index.AsSpan(8 + 1024 + 2 * 24), 0x7fff_0000);
        Reseal(index);
        Assert.Contains(WarningsAfterAppending(PackMembers(pack, index)), w => w.Contains(".idx") && w.Contains("lies outside its pack"));
    }

    [Fact]
    public void Pack_WhoseCountDisagreesWithItsIndex_IsRefused()
    {
        (_, byte[] pack, byte[] index) = PackWriter.Write([Blob("one"), Blob("two")]);
        BinaryPrimitives.WriteUInt32BigEndian(pack.AsSpan(8), 3);
        Reseal(pack);
        pack.AsSpan(pack.Length - 20).CopyTo(index.AsSpan(index.Length - 40));
        Reseal(index);
        Assert.Contains(WarningsAfterAppending(PackMembers(pack, index)), w => w.Contains("its pack holds 3 objects, it names 2"));
    }

    [Fact]
    public void Index_ClaimingTwoToThe31Objects_InATinyMember_IsRefusedBeforeAnythingIsSizedByIt()
    {
        (_, byte[] pack, _) = PackWriter.Write([Blob("one")]);
        byte[] index = new byte[8 + 1024 + 40];
        new byte[] { 0xff, (byte)'t', (byte)'O', (byte)'c', 0, 0, 0, 2 }.CopyTo(index, 0);
        for (int b = 0; b < 256; b++) BinaryPrimitives.WriteUInt32BigEndian(index.AsSpan(8 + 4 * b), 0x8000_0000);
        pack.AsSpan(pack.Length - 20).CopyTo(index.AsSpan(index.Length - 40));
        Reseal(index);
        Assert.Contains(WarningsAfterAppending(PackMembers(pack, index)), w => w.Contains("claims 2147483648 objects"));
    }

    [Fact]
    public void TruncatedPack_IsRefused()
    {
        (string name, byte[] pack, byte[] index) = PackWriter.Write([Blob("one " + new string('x', 200)), Blob("two")]);
        List<string> warnings = WarningsAfterAppending(PackMembers(pack[..^25], index, name));
        Assert.True(warnings.Any(w => w.Contains(".pack") && w.Contains("its name is not its checksum")), string.Join("\n", warnings));
    }

    [Fact]
    public void Pack_WithoutItsIndex_IsRefused()
    {
        (_, byte[] pack, byte[] index) = PackWriter.Write([Blob("one")]);
        Assert.Contains(WarningsAfterAppending(PackMembers(pack, index)[0]), w => w.Contains("no index of this pack follows it"));
    }

    [Fact]
    public void LyingIndex_NamingAnotherObject_ReadsAsDamage_NeverAsAValue()
    {
        WholeObject real = Blob("what the pack holds"), claimed = Blob("what the index claims");
        (_, byte[] pack, byte[] honest) = PackWriter.Write([real]);
        uint crc = BinaryPrimitives.ReadUInt32BigEndian(honest.AsSpan(8 + 1024 + 20));
        byte[] lying = PackIndex.Write([(claimed.Id, 12, crc)], pack.AsSpan(pack.Length - 20));
        Assert.Empty(WarningsAfterAppending(PackMembers(pack, lying)));
        using Keynode reader = Open(caches: false);
        VerifyReport verify = reader.Verify();
        Assert.Contains(verify.Problems, p => p.Contains(claimed.Id.Hex) && p.Contains("its hash does not match its name"));
    }

    [Fact]
    public void DeltaEntry_ReadsAsDamage()
    {
        // One ref-delta entry (type 7): a base id and a zlib stream.
        var pack = new List<byte>("PACK"u8.ToArray()) { 0, 0, 0, 2, 0, 0, 0, 1, 0x75 };
        pack.AddRange(Blob("base").Id.ToBytes());
        using (var zlib = new MemoryStream())
        {
            using (var z = new System.IO.Compression.ZLibStream(zlib, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true)) z.Write("hello"u8);
            pack.AddRange(zlib.ToArray());
        }
        uint crc = System.IO.Hashing.Crc32.HashToUInt32(pack.ToArray().AsSpan(12));
        pack.AddRange(Digests.Sha1(pack.ToArray()));
        byte[] bytes = pack.ToArray();
        ObjectId named = Blob("hello").Id;
        Assert.Empty(WarningsAfterAppending(PackMembers(bytes, PackIndex.Write([(named, 12, crc)], bytes.AsSpan(bytes.Length - 20)))));
        using Keynode reader = Open(caches: false);
        Assert.Contains(reader.Verify().Problems, p => p.Contains(named.Hex) && p.Contains("delta entry"));
    }

    // ---- hostile packed-refs ----

    private static PendingMember PackedRefsOf(string text) => new(PackLayout.PackedRefsMember, Encoding.ASCII.GetBytes(text));

    [Fact]
    public void PackedRefs_WithAnIdThatIsNotHex_IsRefused()
    {
        string id = VersionBuilder.NewSecretId();
        Assert.Contains(WarningsAfterAppending(PackedRefsOf($"{PackedRefs.HeaderLine}\n{new string('z', 40)} refs/secrets/{id}\n")),
            w => w.Contains("packed-refs") && w.Contains("line 2 is not a commit id"));
    }

    [Fact]
    public void PackedRefs_MovingAHistoryWithALooseRefBeforeIt_IsRefused_AndTheLooseTipStands()
    {
        using (Keynode node = Create())
        {
            node.Set("kept", "kept value"u8);
            node.Set("kept", "second"u8);
        }
        KeynodeState state = RawKeynode.State(KeynodePath);
        (string history, ObjectId tip) = state.SecretRefs.Single(r => RawKeynode.ReadCommit(KeynodePath, r.Value).Parents.Any());
        ObjectId older = RawKeynode.ReadCommit(KeynodePath, tip).Parents.First();
        RawKeynode.Append(KeynodePath, [PackedRefsOf($"{older.Hex} refs/secrets/{history}\n")]);
        using Keynode reader = Open(caches: false);
        Assert.Contains(reader.Warnings, w => w.Contains("packed-refs") && w.Contains("which a loose ref before it names"));
        AssertValues(reader, new Dictionary<string, string> { ["kept"] = "second" });
    }

    [Fact]
    public void PackedRefs_DroppingAnEntryOfTheOneBefore_IsRefused()
    {
        using (Keynode node = Create()) Import(node, Paths("app"));
        TarMember packed = Changes()[^1].Members.Single(m => m.Name == PackLayout.PackedRefsMember);
        string[] lines = Encoding.ASCII.GetString(packed.Inline!).Split('\n');
        RawKeynode.Append(KeynodePath, [PackedRefsOf(string.Join('\n', lines.Where((_, i) => i != 3)))]);
        using Keynode reader = Open(caches: false);
        Assert.Contains(reader.Warnings, w => w.Contains("packed-refs") && w.Contains("which the packed-refs before it lists"));
        AssertValues(reader, Paths("app").ToDictionary(p => p, p => ValueOf(p)));
    }

    public void Dispose() => _files.Dispose();
}
