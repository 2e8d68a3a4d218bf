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
            node.Set("planted/name-4c1d", Encoding.UTF8.GetBytes("planted-value-93e1"));
        byte[] file = File.ReadAllBytes(_files.PathOf("node.keynode"));
        Assert.True(file.AsSpan().IndexOf("planted"u8) < 0);
        Assert.True(file.AsSpan().IndexOf("93e1"u8) < 0);
    }

    public void Dispose() => _files.Dispose();
}
