using System.Text;

namespace Polykey.Cli.Tests;

/// <summary>Scenario S2: a keynode opens with tar, git and gpg alone; its bytes reveal no name or value.</summary>
public sealed class StandardToolsTests : IDisposable
{
    private const int Secrets = 40;
    private readonly TestKeynode _node = new TestKeynode().Init();

    [Fact]
    public void S2_TarGitGpg_RecoverEveryNameAndValue_AndFileRevealsNone()
    {
        var secrets = new Dictionary<string, string>
        {
            ["prod/db/password"] = "planted-value-7f3a9c",
            ["prod/api/key with space"] = "planted-api-b81d22\n",
            ["staging/ünïcode/name"] = "planted-third-55e0aa",
        };
        foreach (var (name, value) in secrets) Pk.Ok(_node.Set(name, value));
        Pk.Ok(_node.Set("prod/db/password", "planted-rotated-c0ffee"));
        secrets["prod/db/password"] = "planted-rotated-c0ffee";

        string repo = Path.Combine(_node.Directory, "extracted");
        Directory.CreateDirectory(repo);
        Tool("tar", "-xf", _node.Path, "-C", repo);
        Tool("git", "--git-dir", repo, "fsck", "--strict");

        Assert.Equal(3, Tool("git", "--git-dir", repo, "for-each-ref", "refs/secrets").Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(secrets.OrderBy(kv => kv.Key), RecoverWithGitAndGpg(repo).OrderBy(kv => kv.Key));

        byte[] file = File.ReadAllBytes(_node.Path);
        foreach (var (name, value) in secrets.Append(new("prod/db/password", "planted-value-7f3a9c")))
        {
            foreach (string planted in new[] { name, value.TrimEnd('\n'), name.Split('/').Last() })
                Assert.True(file.AsSpan().IndexOf(Encoding.UTF8.GetBytes(planted)) < 0, $"the keynode file contains \"{planted}\"");
        }
    }

    [Theory]
    [InlineData("import")]
    [InlineData("gc")]
    public void TarGitGpg_RecoverEveryValue_OfAPackedKeynode(string writtenBy)
    {
        // Written packed (docs/keynode-format.md §4.3, §4.4): packs and packed-refs extract to what git reads directly.
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

        Assert.Equal(values.OrderBy(kv => kv.Key), RecoverWithGitAndGpg(repo).OrderBy(kv => kv.Key));
        Assert.Contains("ok", Pk.Ok(_node.Run("verify")).Text);
    }

    // §11's recipe: every value history's tip decrypted with gpg (path and value), its signature checked by git.
    private Dictionary<string, string> RecoverWithGitAndGpg(string repo)
    {
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
            return recovered;
        }
        finally
        {
            PkProcess.Run("gpgconf", ["--kill", "gpg-agent"], env: gpgEnv);
        }
    }

    [Fact]
    public void Tar_ListsArchiveWithoutErrors()
    {
        Pk.Ok(_node.Set("a", "1"));
        Pk.Ok(_node.Set("a", "2"));
        string listing = Tool("tar", "-tf", _node.Path).Text;
        Assert.StartsWith("polykey/keynode\n", listing);
        Assert.Contains("HEAD\n", listing);
        Assert.Contains("refs/secrets/", listing);
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
