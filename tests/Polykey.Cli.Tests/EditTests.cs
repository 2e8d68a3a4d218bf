namespace Polykey.Cli.Tests;

/// <summary>pk edit: the editor works on a memory-only copy; a changed file becomes one version.</summary>
public sealed class EditTests : IDisposable
{
    private readonly TestKeynode _node = new TestKeynode().Init();

    private PkResult Edit(string path, string editor) =>
        PkProcess.Pk(_node.Args("edit", path), env: new Dictionary<string, string> { ["EDITOR"] = editor, ["VISUAL"] = "" });

    [Fact]
    public void ChangedFile_BecomesOneNewVersion()
    {
        Pk.Ok(_node.Set("app/config", "color=red\n"));
        Pk.Ok(Edit("app/config", "sed -i s/red/blue/"));
        Assert.Equal("color=blue\n"u8.ToArray(), _node.Get("app/config"));
        Assert.Equal(2, Pk.Ok(_node.Run("log", "app/config")).Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void RealVim_EditsInPlace()
    {
        Pk.Ok(_node.Set("app/vim", "alpha\n"));
        Pk.Ok(Edit("app/vim", "vim -es '+%s/alpha/beta/' '+wq'"));
        Assert.Equal("beta\n"u8.ToArray(), _node.Get("app/vim"));
    }

    [Fact]
    public void UnchangedFile_MakesNoVersion()
    {
        Pk.Ok(_node.Set("app/config", "same"));
        Pk.Ok(Edit("app/config", "true"));
        Assert.Single(Pk.Ok(_node.Run("log", "app/config")).Text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void FailingEditor_SavesNothing()
    {
        Pk.Ok(_node.Set("app/config", "keep"));
        string before = _node.FileHash();
        Pk.Fails(Edit("app/config", "sh -c 'echo changed > \"$0\"; exit 3'"), 1, "exited with status 3");
        Assert.Equal(before, _node.FileHash());
    }

    [Fact]
    public void NewSecret_StartsEmpty_AndEditFilesLeaveNoTrace()
    {
        string[] before = Directory.GetDirectories("/dev/shm", "pk-edit-*");
        Pk.Ok(Edit("new/secret", "sh -c 'test ! -s \"$0\" && printf planted-edit-77 > \"$0\"'"));
        Assert.Equal("planted-edit-77"u8.ToArray(), _node.Get("new/secret"));
        Assert.Equal(before, Directory.GetDirectories("/dev/shm", "pk-edit-*"));
    }

    [Fact]
    public void EditorSeesAFileOnTmpfs()
    {
        Pk.Ok(_node.Set("k", "v"));
        string probe = Path.Combine(_node.Directory, "fstype");
        Pk.Ok(Edit("k", $"sh -c 'stat -f -c %T \"$(dirname \"$0\")\" > {probe}'"));
        Assert.Equal("tmpfs", File.ReadAllText(probe).Trim());
    }

    public void Dispose() => _node.Dispose();
}
