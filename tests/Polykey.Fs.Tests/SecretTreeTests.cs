using System.Text;
using Polykey.Core;
using Polykey.Core.Crypto;

namespace Polykey.Fs.Tests;

/// <summary>
/// The keynode-backed tree, driven in-process with the call sequences real tools make
/// (vim, sed -i, rsync, mv): each save is one version, scratch files never reach the keynode.
/// </summary>
public sealed class SecretTreeTests : SecretTreeTestBase
{
    private ulong Dir(string path)
    {
        ulong node = IFileTree.RootNode;
        foreach (string part in path.Split('/', StringSplitOptions.RemoveEmptyEntries)) node = _tree.Lookup(node, part).Node;
        return node;
    }

    private void WriteAll(ulong handle, string text)
    {
        _tree.Write(handle, 0, Encoding.UTF8.GetBytes(text));
    }

    private string[] Names() => _keynode.List().Select(s => s.Path).ToArray();

    [Fact]
    public void VimSaveSequence_IsOneVersionOfTheSameHistory()
    {
        ulong app = Dir("app");
        string id = _keynode.List().Single().Id;
        var (_, probe) = _tree.Create(app, "4913", OpenMode.Write, 0x180);
        _tree.Release(probe);
        _tree.Unlink(app, "4913");
        var (_, swap) = _tree.Create(app, ".config.swp", OpenMode.Write, 0x180);
        WriteAll(swap, "swap bytes");
        _tree.Flush(swap);
        _tree.Rename(app, "config", app, "config~", noReplace: false);
        Assert.Throws<FsException>(() => _tree.Lookup(app, "config"));
        var (_, file) = _tree.Create(app, "config", OpenMode.Write | OpenMode.Truncate, 0x180);
        WriteAll(file, "color=blue\n");
        _tree.Flush(file);
        _tree.Release(file);
        _tree.Unlink(app, "config~");
        _tree.Release(swap);
        _tree.Unlink(app, ".config.swp");

        Assert.Equal("color=blue\n", Value("app/config"));
        Assert.Equal(2, Versions("app/config"));
        Assert.Equal(id, _keynode.List().Single().Id);
        Assert.Equal(["app/config"], Names());
    }

    [Fact]
    public void SedInPlaceSequence_RenamesScratchOverTheSecret()
    {
        ulong app = Dir("app");
        var (_, temp) = _tree.Create(app, "sedAb12Cd", OpenMode.Write, 0x180);
        WriteAll(temp, "color=green\n");
        _tree.Release(temp);
        Assert.Equal(["app/config"], Names());
        _tree.Rename(app, "sedAb12Cd", app, "config", noReplace: false);
        Assert.Equal("color=green\n", Value("app/config"));
        Assert.Equal(2, Versions("app/config"));
        Assert.Equal(["config"], _tree.ReadDirectory(app).Select(e => e.Name));
    }

    [Fact]
    public void CloseWithoutChange_MakesNoVersion_AndTouchCreatesEmptySecret()
    {
        ulong app = Dir("app");
        ulong handle = _tree.Open(_tree.Lookup(app, "config").Node, OpenMode.Write);
        _tree.Release(handle);
        Assert.Equal(1, Versions("app/config"));
        var (_, created) = _tree.Create(app, "empty", OpenMode.Write, 0x180);
        _tree.Release(created);
        Assert.Equal("", Value("app/empty"));
    }

    [Fact]
    public void ReaderKeepsItsVersion_WhileAWriterSaves()
    {
        ulong node = _tree.Lookup(Dir("app"), "config").Node;
        ulong reader = _tree.Open(node, OpenMode.Read);
        ulong writer = _tree.Open(node, OpenMode.Write | OpenMode.Truncate);
        WriteAll(writer, "new");
        _tree.Release(writer);
        var buffer = new byte[64];
        Assert.Equal("color=red\n", Encoding.UTF8.GetString(buffer, 0, _tree.Read(reader, 0, buffer)));
        _tree.Release(reader);
        Assert.Equal("new", Value("app/config"));
    }

    [Fact]
    public void DirectoryRename_MovesEverySecretInOneChange()
    {
        _keynode.Set("app/other", "o"u8);
        _tree.Refresh();
        long before = new FileInfo(_keynode.Path).Length;
        _tree.Rename(IFileTree.RootNode, "app", IFileTree.RootNode, "service", noReplace: false);
        Assert.Equal(["service/config", "service/other"], Names());
        Assert.Equal(2, Versions("service/config"));
        string tail = Encoding.ASCII.GetString(File.ReadAllBytes(_keynode.Path)[(int)(before - 1024)..]);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(tail, "polykey/txn"));
    }

    [Fact]
    public void Directories_PersistUntilRmdir()
    {
        ulong x = _tree.MakeDirectory(IFileTree.RootNode, "x").Node;
        ulong y = _tree.MakeDirectory(x, "y").Node;
        var (_, h) = _tree.Create(y, "f", OpenMode.Write, 0x180);
        WriteAll(h, "v");
        _tree.Release(h);
        Assert.Equal(FsError.NotEmpty, Assert.Throws<FsException>(() => _tree.RemoveDirectory(x, "y")).Error);
        _tree.Unlink(y, "f");
        Assert.Empty(_tree.ReadDirectory(y));
        _tree.Unlink(Dir("app"), "config");
        Assert.Equal(NodeKind.Directory, _tree.Lookup(IFileTree.RootNode, "app").Kind);
        _tree.RemoveDirectory(x, "y");
        _tree.RemoveDirectory(IFileTree.RootNode, "x");
        Assert.Equal(["app"], _keynode.ListDirectories());
    }

    [Fact]
    public void OutsideChange_RaisesInvalidationAndHookEvent_OwnChangeRaisesNoHook()
    {
        ulong node = _tree.Lookup(Dir("app"), "config").Node;
        var changes = new List<TreeChange>();
        var hooks = new List<IReadOnlyList<string>>();
        _tree.Changed += changes.Add;
        _tree.SecretsChanged += hooks.Add;

        ulong writer = _tree.Open(node, OpenMode.Write | OpenMode.Truncate);
        WriteAll(writer, "mine");
        _tree.Release(writer);
        _tree.Refresh();
        Assert.Empty(hooks);

        using (Keynode other = Keynode.Open(_keynode.Path, new Credential.KeyFile(Owner.Value, "test")))
            other.Set("app/config", "theirs"u8);
        _tree.Refresh();
        Assert.Equal(["app/config"], Assert.Single(hooks));
        // The name is dropped from the kernel's cache; new opens look it up and get a new
        // node, while the old node keeps the version that programs holding it opened.
        Assert.Contains(new TreeChange(Dir("app"), "config"), changes);
        string ReadOnce(ulong n)
        {
            var buffer = new byte[16];
            ulong reader = _tree.Open(n, OpenMode.Read);
            try { return Encoding.UTF8.GetString(buffer, 0, _tree.Read(reader, 0, buffer)); }
            finally { _tree.Release(reader); }
        }
        ulong fresh = _tree.Lookup(Dir("app"), "config").Node;
        Assert.NotEqual(node, fresh);
        Assert.Equal("theirs", ReadOnce(fresh));
        Assert.Equal("mine", ReadOnce(node));
    }

    [Fact]
    public void ReadOnlyTree_RefusesEveryChange()
    {
        using var tree = new SecretTree(_keynode, readOnly: true);
        ulong app = tree.Lookup(IFileTree.RootNode, "app").Node;
        ulong config = tree.Lookup(app, "config").Node;
        Action[] calls =
        [
            () => tree.Open(config, OpenMode.Write),
            () => tree.Create(app, "n", OpenMode.Write, 0x180),
            () => tree.SetAttributes(config, null, new AttributeChange(Size: 0)),
            () => tree.Unlink(app, "config"),
            () => tree.Rename(app, "config", app, "c2", false),
            () => tree.MakeDirectory(app, "d"),
            () => tree.RemoveDirectory(IFileTree.RootNode, "app"),
        ];
        foreach (Action call in calls) Assert.Equal(FsError.ReadOnly, Assert.Throws<FsException>(call).Error);
        Assert.Equal(1, Versions("app/config"));
    }

    [Fact]
    public void ReadOnlyTree_OutsideChange_GivesPathANewNode_OldNodeKeepsItsVersionUntilForgotten()
    {
        using var tree = new SecretTree(_keynode, readOnly: true);
        Assert.True(tree.NodesAreSnapshots);
        ulong app = tree.Lookup(IFileTree.RootNode, "app").Node;
        ulong old = tree.Lookup(app, "config").Node;
        var changes = new List<TreeChange>();
        tree.Changed += changes.Add;
        string ReadNode(ulong node)
        {
            var buffer = new byte[64];
            return Encoding.UTF8.GetString(buffer, 0, tree.ReadNode(node, 0, buffer));
        }

        using (Keynode other = Keynode.Open(_keynode.Path, new Credential.KeyFile(Owner.Value, "test")))
            other.Set("app/config", "color=green, and longer\n"u8);
        tree.Refresh();

        // The directory's entry is dropped so that new opens look the name up again; the
        // old node's pages stay valid, so it is not invalidated.
        Assert.Contains(new TreeChange(app, "config"), changes);
        Assert.DoesNotContain(new TreeChange(old), changes);
        NodeInfo fresh = tree.Lookup(app, "config");
        Assert.NotEqual(old, fresh.Node);
        Assert.Equal("color=green, and longer\n", ReadNode(fresh.Node));
        Assert.Equal(24, fresh.Size);
        Assert.Equal("color=red\n", ReadNode(old));
        Assert.Equal(10, tree.GetAttributes(old).Size);

        tree.Forget(old, 1);
        Assert.Equal(FsError.NotFound, Assert.Throws<FsException>(() => tree.GetAttributes(old)).Error);
        Assert.Equal(FsError.NotFound, Assert.Throws<FsException>(() => tree.ReadNode(old, 0, new byte[8])).Error);
    }

    [Fact]
    public void OutsideChange_ToASecretHiddenBehindADirectory_LeavesTheDirectoryNodeAlone()
    {
        _keynode.Set("app/config/extra", "x"u8); // "app/config" is now shown as the directory
        _tree.Refresh();
        ulong directory = _tree.Lookup(Dir("app"), "config").Node;
        _keynode.Set("app/config", "hidden, changed"u8);
        _tree.Refresh();
        Assert.Equal(NodeKind.Directory, _tree.GetAttributes(directory).Kind);
        Assert.Equal(directory, _tree.Lookup(Dir("app"), "config").Node);
    }

    [Fact]
    public void ReadOnlyTree_OutsideRemoval_OldNodeStillReads()
    {
        using var tree = new SecretTree(_keynode, readOnly: true);
        ulong app = tree.Lookup(IFileTree.RootNode, "app").Node;
        ulong old = tree.Lookup(app, "config").Node;
        _keynode.Set("app/other", "keeps app alive"u8);
        _keynode.Remove("app/config");
        tree.Refresh();
        Assert.Equal(FsError.NotFound, Assert.Throws<FsException>(() => tree.Lookup(app, "config")).Error);
        var buffer = new byte[64];
        Assert.Equal("color=red\n", Encoding.UTF8.GetString(buffer, 0, tree.ReadNode(old, 0, buffer)));
    }

    [Theory]
    [InlineData(".config.swp", true)]
    [InlineData("4913", true)]
    [InlineData("config~", true)]
    [InlineData("#config#", true)]
    [InlineData(".#config", true)]
    [InlineData("config.save", true)]
    [InlineData("sedX1b2Qz", true)]
    [InlineData(".config.Ab3dEf", true)]
    [InlineData("x.tmp", true)]
    [InlineData("config", false)]
    [InlineData(".env.backup", false)]
    [InlineData("sedative", false)]
    [InlineData("password", false)]
    public void ScratchNames_MatchEditorTempFilesOnly(string name, bool scratch) => Assert.Equal(scratch, ScratchNames.IsScratch(name));

    [Fact]
    public void ACommitThatFailsOnAnotherWritersChange_LeavesNewsForTheWatcher()
    {
        long Length() => new FileInfo(_keynode.Path).Length;
        _tree.Refresh();
        Assert.False(_tree.MayHaveNews(Length()));
        using (Keynode other = Keynode.Open(_keynode.Path, new Credential.KeyFile(Owner.Value, "test")))
            other.Remove("app/config");
        // The tree still shows app/config; the keynode reads the removal while committing the rename, and refuses it.
        Assert.ThrowsAny<FsException>(() => _tree.Rename(Dir("app"), "config", Dir("app"), "renamed", noReplace: false));
        // The file's length is now what the keynode read, yet the tree has not loaded the removal.
        Assert.True(_tree.MayHaveNews(Length()), "the watcher would skip a change the tree never loaded");
        _tree.Refresh();
        Assert.False(_tree.MayHaveNews(Length()));
        Assert.Throws<FsException>(() => _tree.Lookup(Dir("app"), "config"));
    }
}
