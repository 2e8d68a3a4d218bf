using System.Text;
using Polykey.Core;

namespace Polykey.Fs.Tests;

/// <summary>
/// The tree driven the way a write-back mount drives it: no handles, writes by node as the
/// kernel writes files back, truncations with handle 0.
/// </summary>
public sealed class SecretTreeWriteBackTests : SecretTreeTestBase
{
    private ulong Node(string path)
    {
        ulong node = IFileTree.RootNode;
        foreach (string part in path.Split('/')) node = _tree.Lookup(node, part).Node;
        return node;
    }

    private string ReadNode(ulong node)
    {
        var buffer = new byte[1 << 16];
        return Encoding.UTF8.GetString(buffer, 0, _tree.ReadNode(node, 0, buffer));
    }

    // The quiet-time save runs on a thread-pool timer, which a loaded test run may delay.
    private static bool Eventually(Func<bool> condition)
    {
        for (int i = 0; i < 200 && !condition(); i++) Thread.Sleep(50);
        return condition();
    }

    [Fact]
    public void AWriteBackToTheEnd_IsOneVersionAtOnce_AndTheTreeKeepsNoBuffer()
    {
        ulong config = Node("app/config");
        _tree.SetAttributes(config, 0, new AttributeChange(Size: 0)); // open(O_TRUNC)
        Assert.Equal(1, Versions("app/config"));
        Assert.Equal("", ReadNode(config));

        _tree.WriteNode(config, 0, "color=blue\n"u8, mayContinue: false); // reaches the end: the pass is over
        Assert.Equal("color=blue\n", Value("app/config"));
        Assert.Equal(2, Versions("app/config"));
        Assert.Equal("color=blue\n", ReadNode(config));
        Thread.Sleep(1300); // the truncation's quiet-time save finds nothing left to do
        Assert.Equal(2, Versions("app/config"));
    }

    [Fact]
    public void SeparateDirtyStretches_OfOnePass_AreOneVersion()
    {
        ulong config = Node("app/config");
        _tree.SetAttributes(config, 0, new AttributeChange(Size: 20_000));
        _tree.WriteNode(config, 0, "head"u8, mayContinue: false);
        _tree.WriteNode(config, 16_384, "tail"u8, mayContinue: false);
        _tree.WrittenBack(config);
        Assert.Equal(2, Versions("app/config"));
        using SecretBytes secret = _keynode.Get("app/config");
        byte[] value = secret.Span.ToArray();
        Assert.Equal(20_000, value.Length);
        Assert.Equal("head"u8.ToArray(), value[..4]);
        Assert.Equal("tail"u8.ToArray(), value[16_384..16_388]);
        Thread.Sleep(1300); // nothing is left for the quiet time
        Assert.Equal(2, Versions("app/config"));
    }

    [Fact]
    public void AStretchShortOfTheEnd_WithoutTheEndOfItsPass_IsSavedAfterTheQuietTime()
    {
        ulong config = Node("app/config");
        _tree.WriteNode(config, 0, "COLOR"u8, mayContinue: false);
        Assert.Equal(1, Versions("app/config"));
        Assert.True(Eventually(() => Versions("app/config") == 2), "never saved after the quiet time");
        Assert.Equal("COLOR=red\n", Value("app/config"));
    }

    [Fact]
    public void AWriteBackThatMayContinue_WaitsForTheQuietTime_ThenIsOneVersion()
    {
        ulong config = Node("app/config");
        _tree.WriteNode(config, 0, "part one, "u8, mayContinue: true);
        _tree.WriteNode(config, 10, "part two\n"u8, mayContinue: true);
        Assert.Equal("color=red\n", Value("app/config"));
        Assert.Equal("part one, part two\n", ReadNode(config));
        Assert.True(Eventually(() => Versions("app/config") == 2), "never saved after the quiet time");
        Assert.Equal("part one, part two\n", Value("app/config"));
    }

    [Fact]
    public void AFailedWriteBack_DropsItsBytes_AndTheNodeTakesNoMore()
    {
        const int maxSize = 64 << 20;
        var reported = new List<string>();
        _tree.SaveFailed += reported.Add;
        ulong config = Node("app/config");
        _tree.WriteNode(config, 0, new byte[1 << 20], mayContinue: true); // the first part of a file too large to keep
        Assert.Equal(FsError.TooBig, Assert.Throws<FsException>(() => _tree.WriteNode(config, maxSize, "x"u8, mayContinue: true)).Error);
        // The kernel can tell the writer only EIO at close: the mount's line says which file, and why.
        Assert.Equal(["app/config: written bytes not saved: a secret may hold at most 64 MiB; it keeps its last saved version"], reported);
        Assert.Equal(FsError.IoError, Assert.Throws<FsException>(() => _tree.WriteNode(config, 1 << 20, new byte[10], mayContinue: true)).Error);
        Thread.Sleep(1500); // past the quiet time: nothing of the failed write-back is saved
        Assert.Equal("color=red\n", Value("app/config"));
        Assert.Equal(1, Versions("app/config"));

        ulong fresh = Node("app/config");
        Assert.NotEqual(config, fresh);
        Assert.Equal("color=red\n", ReadNode(config));
        Assert.Equal("color=red\n", ReadNode(fresh));
        _tree.WriteNode(fresh, 0, "color=blue\n"u8, mayContinue: false);
        _tree.WrittenBack(fresh);
        Assert.Equal("color=blue\n", Value("app/config"));
    }

    [Fact]
    public void ATruncationAlone_IsSavedByFsync()
    {
        ulong config = Node("app/config");
        _tree.SetAttributes(config, 0, new AttributeChange(Size: 5));
        _tree.SyncNode(config);
        Assert.Equal("color", Value("app/config"));
        Assert.Equal(2, Versions("app/config"));
    }

    [Fact]
    public void PendingChanges_AreSavedAtUnmount()
    {
        ulong config = Node("app/config");
        _tree.SetAttributes(config, 0, new AttributeChange(Size: 5));
        _tree.WriteNode(config, 5, new byte[(1 << 20) + 1], mayContinue: true);
        _tree.Dispose(); // within the quiet time
        Assert.Equal((1 << 20) + 6, _keynode.Get("app/config").Length);
        Assert.Equal(2, Versions("app/config"));
    }

    [Fact]
    public void ANewFile_IsSavedByItsWriteBack_OrEmptyAfterTheQuietTime()
    {
        ulong app = Node("app");
        NodeInfo written = _tree.CreateNode(app, "written", truncate: false, 0x180);
        _tree.WriteNode(written.Node, 0, "value"u8, mayContinue: false);
        _tree.WrittenBack(written.Node);
        Assert.Equal("value", Value("app/written"));

        _tree.CreateNode(app, "empty", truncate: false, 0x180);
        Assert.DoesNotContain("app/empty", _keynode.List().Select(s => s.Path));
        Assert.True(Eventually(() => _keynode.List().Any(s => s.Path == "app/empty")), "the empty file was never saved");
        Assert.Equal(1, Versions("app/written"));
    }

    [Fact]
    public void ScratchFiles_StayInMemory()
    {
        ulong app = Node("app");
        NodeInfo swap = _tree.CreateNode(app, ".config.swp", truncate: false, 0x180);
        _tree.WriteNode(swap.Node, 0, "swap bytes"u8, mayContinue: false);
        _tree.SyncNode(swap.Node);
        Assert.Equal("swap bytes", ReadNode(swap.Node));
        _tree.Dispose(); // unmount: pending saves are made, scratch files are not
        Assert.Equal(["app/config"], _keynode.List().Select(s => s.Path));
    }

    [Fact]
    public void RemovedOrReplaced_TheOldNodeKeepsReadingItsVersion()
    {
        _keynode.Set("app/other", "other\n"u8);
        _tree.Refresh();
        ulong config = Node("app/config"), other = Node("app/other");
        ulong app = Node("app");

        _tree.Unlink(app, "other");
        Assert.Equal("other\n", ReadNode(other));

        NodeInfo fresh = _tree.CreateNode(app, "config.new", truncate: false, 0x180);
        _tree.WriteNode(fresh.Node, 0, "color=green\n"u8, mayContinue: false);
        _tree.Rename(app, "config.new", app, "config", noReplace: false);
        Assert.Equal("color=red\n", ReadNode(config));
        Assert.Equal("color=green\n", ReadNode(Node("app/config")));

        _tree.Forget(config, 1);
        Assert.Equal(FsError.NotFound, Assert.Throws<FsException>(() => _tree.ReadNode(config, 0, new byte[8])).Error);
    }
}
