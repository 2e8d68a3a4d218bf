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

    [Fact]
    public void ImportAndGc_LeaveASignedNameIndex_ThatAReaderWithNoCacheOpensFrom()
    {
        var files = Enumerable.Range(0, 300).Select(i => ($"team{i % 7}/s{i:000}", $"value {i}")).ToArray();
        int before = Changes();
        Pk.Ok(_node.Run("import", Tree(files)));
        // The import's change, then the index's own.
        Assert.Equal(before + 2, Changes());
        Assert.Equal(["polykey/index", "polykey/txn"], Members()[^2..]);
        string listing = string.Join("", files.Select(f => f.Item1).Order(StringComparer.Ordinal).Select(p => p + "\n"));
        foreach (string cache in new[] { "cold1", "cold2" })
        {
            var cold = new Dictionary<string, string> { ["XDG_CACHE_HOME"] = Path.Combine(_node.Directory, cache) };
            Assert.Equal("value 123", Pk.Ok(PkProcess.Pk(_node.Args("get", "team4/s123"), env: cold)).Text);
            Assert.Equal(listing, Pk.Ok(PkProcess.Pk(_node.Args("ls"), env: cold)).Text);
            // The snapshot and memo a cold reader took from the index are its own from now on.
            Assert.Single(Directory.GetFiles(Path.Combine(_node.Directory, cache, "polykey"), "*.names"));
        }

        _node.Set("team0/s000", "changed");
        Pk.Ok(_node.Run("gc"));
        Assert.Equal(["polykey/index", "polykey/txn"], Members()[^2..]);
        var afterGc = new Dictionary<string, string> { ["XDG_CACHE_HOME"] = Path.Combine(_node.Directory, "cold3") };
        Assert.Equal("changed", Pk.Ok(PkProcess.Pk(_node.Args("get", "team0/s000"), env: afterGc)).Text);
        Assert.Contains("name index: a reader without caches sees what the histories show", Pk.Ok(_node.Run("verify")).Text);

        // A clone is a bulk load too: it leaves an index of its own.
        string clone = Path.Combine(_node.Directory, "clone.keynode");
        Pk.Ok(PkProcess.Pk(["clone", _node.Path, clone, "--identity-file", _node.IdentityFile!]));
        Assert.Equal(["polykey/index", "polykey/txn"], Members(clone)[^2..]);
        var cloneCold = new Dictionary<string, string> { ["XDG_CACHE_HOME"] = Path.Combine(_node.Directory, "cold4") };
        Assert.Equal("value 123", Pk.Ok(PkProcess.Pk(["get", "team4/s123", "-k", clone, "--identity-file", _node.IdentityFile!], env: cloneCold)).Text);
    }

    private string[] Members(string? file = null)
    {
        var tar = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("tar", ["-tf", file ?? _node.Path]) { RedirectStandardOutput = true })!;
        string output = tar.StandardOutput.ReadToEnd();
        tar.WaitForExit();
        Assert.Equal(0, tar.ExitCode);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public void Dispose() => _node.Dispose();
}
