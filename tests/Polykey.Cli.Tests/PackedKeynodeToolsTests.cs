namespace Polykey.Cli.Tests;

/// <summary>
/// A keynode written packed (by `pk import`, by `pk gc`) still opens with tar, git and gpg alone:
/// extracted, its packs and packed-refs are a repository git checks (fsck), reads (cat-file) and
/// whose signatures it verifies (verify-commit), as docs/keynode-format.md §11 says.
/// </summary>
public sealed class PackedKeynodeToolsTests : IDisposable
{
    private const int Secrets = 40;
    private readonly TestKeynode _node = new TestKeynode().Init();

    [Theory]
    [InlineData("import")]
    [InlineData("gc")]
    public void TarGitGpg_RecoverEveryValue_OfAPackedKeynode(string writtenBy)
    {
        string source = Path.Combine(_node.Directory, "tree");
        var values = new Dictionary<string, string>();
        for (int i = 0; i < Secrets; i++)
        {
            string name = $"team{i % 4}/secret{i:D3}";
            values[name] = $"value-{i}-{Guid.NewGuid():N}";
            if (writtenBy == "import")
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(source, name))!);
                File.WriteAllText(Path.Combine(source, name), values[name]);
            }
            else
            {
                Pk.Ok(_node.Set(name, values[name]));
            }
        }
        Pk.Ok(writtenBy == "import" ? _node.Run("import", source) : _node.Run("gc"));
        // A later loose edit on top of the packed refs: git must prefer it, as pk does.
        values["team0/secret000"] = "edited-after-packing";
        Pk.Ok(_node.Set("team0/secret000", "edited-after-packing"));

        string repo = Path.Combine(_node.Directory, "extracted");
        Directory.CreateDirectory(repo);
        Tool("tar", "-xf", _node.Path, "-C", repo);
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(repo, "objects", "pack"), "pack-*.pack"));
        Assert.True(File.Exists(Path.Combine(repo, "packed-refs")), "packed-refs was extracted");
        Tool("git", "--git-dir", repo, "fsck", "--strict");

        string gnupg = Path.Combine(_node.Directory, "gnupg");
        Directory.CreateDirectory(gnupg);
        File.SetUnixFileMode(gnupg, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var gpgEnv = new Dictionary<string, string> { ["GNUPGHOME"] = gnupg };
        try
        {
            Tool("gpg", ["--batch", "--import", _node.IdentityFile!], gpgEnv);
            var recovered = new Dictionary<string, string>();
            string[] refs = Tool("git", "--git-dir", repo, "for-each-ref", "--format=%(refname)", "refs/secrets").Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            foreach (string reference in refs)
            {
                PkResult blob = PkProcess.Run("git", ["--git-dir", repo, "cat-file", "blob", reference + ":secret.pgp"]);
                if (blob.ExitCode != 0) continue; // not a value history (an as-of statement, say)
                PkResult decrypted = PkProcess.Run("gpg", ["--batch", "--decrypt", "--verbose"], blob.Stdout, gpgEnv);
                Assert.True(decrypted.ExitCode == 0, decrypted.ToString());
                string name = decrypted.Stderr.Split('\n').Single(l => l.Contains("original file name=")).Split('\'')[1];
                recovered[name] = decrypted.Text;
                PkResult verify = PkProcess.Run("git", ["--git-dir", repo, "verify-commit", "--raw", reference], env: gpgEnv);
                Assert.True(verify.ExitCode == 0, verify.ToString());
                Assert.Contains("GOODSIG", verify.Stderr);
            }
            Assert.Equal(values.OrderBy(kv => kv.Key), recovered.OrderBy(kv => kv.Key));
        }
        finally
        {
            PkProcess.Run("gpgconf", ["--kill", "gpg-agent"], env: gpgEnv);
        }
        Assert.Contains("ok", Pk.Ok(_node.Run("verify")).Text);
    }

    private static PkResult Tool(string program, params string[] args) => Tool(program, args, null);

    private static PkResult Tool(string program, string[] args, IDictionary<string, string>? env)
    {
        PkResult result = PkProcess.Run(program, args, env: env);
        Assert.True(result.ExitCode == 0, $"{program} {string.Join(' ', args)}: {result}");
        return result;
    }

    public void Dispose() => _node.Dispose();
}
