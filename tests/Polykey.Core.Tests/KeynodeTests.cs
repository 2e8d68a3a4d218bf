using System.Text;

namespace Polykey.Core.Tests;

public sealed class KeynodeTests : IDisposable
{
    private readonly TestFiles _files = new();

    [Fact]
    public void SetGet_ReopenSeesSameValues()
    {
        using (Keynode node = _files.Create())
        {
            Assert.Equal(1, node.Set("a/b", "one"u8));
            Assert.Equal(2, node.Set("a/b", "two"u8));
        }
        using Keynode reopened = Keynode.Open(_files.PathOf("node.keynode"), TestFiles.OwnerCredential);
        using SecretBytes value = reopened.Get("a/b");
        Assert.Equal("two"u8.ToArray(), value.Span.ToArray());
        Assert.Equal("[secret, 3 bytes]", value.ToString());
        Assert.Equal(2, reopened.Log("a/b").Count);
    }

    [Fact]
    public void Write_MakesVersions_NumberedWhenAsked()
    {
        using (Keynode node = _files.Create())
        {
            for (int i = 1; i <= 5; i++) node.Write("a/b", Encoding.ASCII.GetBytes($"v{i}"));
            Assert.Equal(5, node.CurrentVersionNumber("a/b"));
        }
        using Keynode reopened = Keynode.Open(_files.PathOf("node.keynode"), TestFiles.OwnerCredential);
        Assert.Equal(5, reopened.CurrentVersionNumber("a/b"));
        Assert.Equal(6, reopened.Set("a/b", "v6"u8));
        using (SecretBytes value = reopened.Get("a/b")) Assert.Equal("v6"u8.ToArray(), value.Span.ToArray());
        Assert.Equal(FailureKind.NotFound, Assert.Throws<PolykeyException>(() => reopened.CurrentVersionNumber("a/missing")).Kind);
    }

    [Fact]
    public void GetVersion_ReadsAReplacedVersion_OnlyForItsOwnPath()
    {
        using Keynode node = _files.Create();
        node.Set("a", "old"u8);
        node.Set("b", "other"u8);
        string oldTip = node.Find("a")!.Tip;
        node.Set("a", "new"u8);
        using (SecretBytes old = node.GetVersion("a", oldTip))
            Assert.Equal("old"u8.ToArray(), old.Span.ToArray());
        Assert.Equal(FailureKind.NotFound, Assert.Throws<PolykeyException>(() => node.GetVersion("b", oldTip)).Kind);
        Assert.Equal(FailureKind.NotFound, Assert.Throws<PolykeyException>(() => node.GetVersion("a", "not-a-commit")).Kind);
    }

    [Fact]
    public void SecondHandle_SeesChangesAfterRefresh()
    {
        using Keynode writer = _files.Create();
        using Keynode reader = Keynode.Open(writer.Path, TestFiles.OwnerCredential);
        Assert.Empty(reader.List());
        writer.Set("x", "1"u8);
        reader.Refresh();
        Assert.Equal("x", Assert.Single(reader.List()).Path);
        // A writer that had not refreshed still appends after the other's change.
        reader.Set("y", "2"u8);
        writer.Set("x", "3"u8);
        using Keynode third = Keynode.Open(writer.Path, TestFiles.OwnerCredential);
        Assert.Equal(["x", "y"], third.List().Select(s => s.Path));
        Assert.Equal(2, third.Log("x").Count);
    }

    [Fact]
    public void RemoveThenSet_ContinuesTheSameHistory()
    {
        using Keynode node = _files.Create();
        node.Set("k", "v1"u8);
        node.Remove("k");
        Assert.Empty(node.List());
        Assert.Equal(FailureKind.NotFound, Assert.Throws<PolykeyException>(() => node.Get("k")).Kind);
        node.Set("k", "v2"u8);
        Assert.Equal(3, node.Log("k").Count);
        Assert.True(node.Log("k")[1].Removed);
    }

    [Fact]
    public void Move_KeepsHistoryAndFreesOldName()
    {
        using Keynode node = _files.Create();
        node.Set("old", "v"u8);
        node.Move("old", "new");
        Assert.Equal("new", Assert.Single(node.List()).Path);
        Assert.Equal(["old", "new"], node.Log("new").Select(v => v.Path));
        node.Set("old", "fresh"u8);
        Assert.Single(node.Log("old"));
    }

    [Fact]
    public void KeynodeFile_HoldsNoPlainNameOrValue()
    {
        using (Keynode node = _files.Create())
            node.Set("planted/name-4c1d", Encoding.UTF8.GetBytes("planted-value-qzx9"));
        byte[] file = File.ReadAllBytes(_files.PathOf("node.keynode"));
        Assert.True(file.AsSpan().IndexOf("planted"u8) < 0);
        // Not hex: ids and hashes in the file are hex, and may hold any four hex digits.
        Assert.True(file.AsSpan().IndexOf("qzx9"u8) < 0);
    }

    public void Dispose() => _files.Dispose();
}

public sealed class KeynodeBatchTests : IDisposable
{
    private readonly TestFiles _files = new();

    [Fact]
    public void Commit_WritesAllEditsAsOneChange()
    {
        using Keynode node = _files.Create();
        node.Set("dir/a", "1"u8);
        node.Set("dir/b", "2"u8);
        long before = new FileInfo(node.Path).Length;
        node.Commit([new SecretEdit.Move("dir/a", "moved/a"), new SecretEdit.Move("dir/b", "moved/b"), new SecretEdit.MakeDirectory("empty/dir")]);
        byte[] file = File.ReadAllBytes(node.Path);
        int records = CountOccurrences(file.AsSpan((int)before - 1024), "polykey/txn"u8);
        Assert.Equal(1, records);
        Assert.Equal(["moved/a", "moved/b"], node.List().Select(s => s.Path));
        Assert.Equal(["empty/dir"], node.ListDirectories());
    }

    [Fact]
    public void Commit_FailingEditWritesNothing()
    {
        using Keynode node = _files.Create();
        node.Set("a", "1"u8);
        long before = new FileInfo(node.Path).Length;
        Assert.Throws<PolykeyException>(() => node.Commit([new SecretEdit.Set("b", [1]), new SecretEdit.Remove("missing")]));
        Assert.Equal(before, new FileInfo(node.Path).Length);
        Assert.Equal(["a"], node.List().Select(s => s.Path));
    }

    [Fact]
    public void DirectoryRecords_SurviveReopenAndCanBeRemoved()
    {
        using (Keynode node = _files.Create())
        {
            node.Commit([new SecretEdit.MakeDirectory("x/y")]);
            node.Commit([new SecretEdit.MakeDirectory("x/y")]); // already there: no new change
        }
        using (Keynode node = Keynode.Open(_files.PathOf("node.keynode"), TestFiles.OwnerCredential))
        {
            Assert.Equal(["x/y"], node.ListDirectories());
            Assert.Empty(node.List());
            node.Commit([new SecretEdit.RemoveDirectory("x/y")]);
        }
        using Keynode reopened = Keynode.Open(_files.PathOf("node.keynode"), TestFiles.OwnerCredential);
        Assert.Empty(reopened.ListDirectories());
    }

    private static int CountOccurrences(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> needle)
    {
        int count = 0;
        for (int at; (at = haystack.IndexOf(needle)) >= 0; haystack = haystack[(at + needle.Length)..]) count++;
        return count;
    }

    public void Dispose() => _files.Dispose();
}

public sealed class ProcessHardeningTests
{
    [Fact]
    public void Apply_MakesTheProcessNotDumpable()
    {
        ProcessHardening.Apply();
        const int PR_GET_DUMPABLE = 3;
        Assert.Equal(0, Polykey.Core.Native.LibC.prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
        string[] core = File.ReadAllText("/proc/self/limits").Split('\n').Single(l => l.StartsWith("Max core file size", StringComparison.Ordinal))
            ["Max core file size".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["0", "0", "bytes"], core);
    }
}
