using System.Text;

namespace Polykey.Cli.Tests;

/// <summary>pk import: a tree of files becomes secrets in one change; bad input imports nothing.</summary>
public sealed class ImportTests : IDisposable
{
    private readonly TestKeynode _node = new TestKeynode().Init();

    private string Tree(params (string Path, string Value)[] files)
    {
        string root = Path.Combine(_node.Directory, "tree-" + Guid.NewGuid().ToString("N")[..6]);
        foreach ((string path, string value) in files)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(root, path))!);
            File.WriteAllText(Path.Combine(root, path), value);
        }
        return root;
    }

    private int Changes() => int.Parse(Pk.Ok(_node.Run("verify")).Text.Split(':')[1].Trim().Split(' ')[0]);

    [Fact]
    public void Import_StoresEveryFile_UnderThePrefix_InOneChange()
    {
        string root = Tree(("db/password", "pw"), ("api/key", "k"), ("api/nested/token", "t"));
        File.CreateSymbolicLink(Path.Combine(root, "link"), Path.Combine(root, "db/password"));
        int before = Changes();
        PkResult imported = Pk.Ok(_node.Run("import", root, "--prefix", "prod/app"));
        Assert.Contains("imported 3 secret(s) in one change", imported.Stderr);
        Assert.Contains("skipped link: a symbolic link", imported.Stderr);
        Assert.Equal(before + 1, Changes());
        Assert.Equal("prod/app/api/key\nprod/app/api/nested/token\nprod/app/db/password\n", Pk.Ok(_node.Run("ls")).Text);
        Assert.Equal("t", Encoding.UTF8.GetString(_node.Get("prod/app/api/nested/token")));

        // Again: existing secrets get a second version.
        File.WriteAllText(Path.Combine(root, "db/password"), "pw2");
        Pk.Ok(_node.Run("import", root, "--prefix", "prod/app"));
        Assert.Equal("pw2", Encoding.UTF8.GetString(_node.Get("prod/app/db/password")));
        Assert.Equal(2, Pk.Ok(_node.Run("log", "prod/app/db/password")).Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void Import_OfATooLargeFileOrAMissingDirectory_ImportsNothing()
    {
        string root = Tree(("a", "small"), ("b", new string('x', 5000)));
        string hash = _node.FileHash();
        Pk.Fails(_node.Run("import", root, "--max-size", "1K"), 1, "is larger than 1 KiB; nothing was imported");
        Pk.Fails(_node.Run("import", Path.Combine(_node.Directory, "missing")), 3, "no directory");
        Assert.Equal(hash, _node.FileHash());
    }

    public void Dispose() => _node.Dispose();
}
