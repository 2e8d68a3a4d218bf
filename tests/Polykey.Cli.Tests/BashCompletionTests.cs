namespace Polykey.Cli.Tests;

/// <summary>
/// `pk completion bash`, loaded in a real bash: the completion function is called as bash would
/// call it (COMP_WORDS, COMP_CWORD, COMP_LINE) and COMPREPLY holds the candidates.
/// </summary>
public sealed class BashCompletionTests : IDisposable
{
    private readonly TestKeynode _node = new TestKeynode().Init();
    private readonly string _script;

    public BashCompletionTests()
    {
        foreach (string path in new[] { "prod/db/password", "prod/db/user", "prod/api/key", "staging/token", "top" })
            Pk.Ok(_node.Set(path, "v"));
        _script = Path.Combine(_node.Directory, "pk.bash");
        File.WriteAllBytes(_script, Pk.Ok(PkProcess.Pk(["completion", "bash"])).Stdout);
    }

    [Fact]
    public void FirstWord_OffersEveryCommandInHelp_AndNoHiddenOne()
    {
        string[] offered = Complete("");
        Assert.Equal(HelpListing.Commands().Order(), offered.Order());
        Assert.Contains("completion", offered);
        Assert.DoesNotContain("serve", offered);
        Assert.Equal(["identity"], Complete("ide"));
    }

    [Fact]
    public void AfterACommandWithSubcommands_OffersThem()
    {
        Assert.Equal(["show", "export", "rotate", "revocation", "revoke-owner"], Complete("identity", ""));
        Assert.Equal(["add", "ls", "rm"], Complete("remote", ""));
        Assert.Equal(["add", "ls", "rm"], Complete("-k", _node.Path, "remote", ""));
    }

    [Fact]
    public void Dash_OffersTheOptionsOfThatSubcommand_WithTheGlobalOnes()
    {
        string[] get = Complete("get", "prod/db/password", "--");
        Assert.Subset(get.ToHashSet(), new HashSet<string> { "--version", "--theirs", "--keynode", "--identity-file", "--passphrase-file", "--help" });
        Assert.DoesNotContain("--json", get); // ls has it, get does not
        Assert.Equal(["--secret"], Complete("identity", "export", "--s"));
        Assert.Equal(["-o"], Complete("identity", "export", "-o"));
    }

    [Fact]
    public void OptionValues_AreCompletedByKind()
    {
        Assert.Equal(["json", "sh"], Complete("env", "--format", ""));
        Assert.Equal([_node.Path], Complete("ls", "-k", Path.Combine(_node.Directory, "no")));
        Assert.Equal([_node.Path], Complete("--keynode", "=", Path.Combine(_node.Directory, "no"))); // bash splits --keynode=...
        Assert.Contains("root", Complete("mount", "/mnt", "--owner", "ro"));
        Assert.Equal(["bash", "fish", "zsh"], Complete("completion", ""));
    }

    [Fact]
    public void SecretPaths_OneLevelAtATime_WhenTheKeynodeOpensWithoutAPrompt()
    {
        string[] keynode = ["-k", _node.Path, "--identity-file", _node.IdentityFile!];
        Assert.Equal(["prod/", "staging/", "top"], Complete([.. keynode, "get", ""]));
        Assert.Equal(["prod/api/", "prod/db/"], Complete([.. keynode, "get", "prod/"]));
        Assert.Equal(["prod/db/"], Complete([.. keynode, "log", "prod/d"]));
        Assert.Equal(["prod/db/password", "prod/db/user"], Complete([.. keynode, "rm", "prod/db/"]));
        // The keynode options may follow the command, and mv's second argument is a secret too.
        Assert.Equal(["prod/db/password"], Complete(["mv", .. keynode, "top", "prod/db/p"]));
        // A passphrase file opens it without a prompt just as well.
        Assert.Equal(["staging/"], Complete(["get", "--passphrase-file", _node.PassphraseFile, "-k", _node.Path, "st"]));
    }

    [Fact]
    public void RemoteNames_ForPushAndPull_WithFiles()
    {
        using TestKeynode server = new TestKeynode("server").Init();
        Pk.Ok(_node.Run("remote", "add", "server-b", server.Path));
        string[] keynode = ["-k", _node.Path, "--identity-file", _node.IdentityFile!];
        Assert.Equal(["server-b"], Complete([.. keynode, "push", "ser"]));
        Assert.Equal(["server-b"], Complete([.. keynode, "remote", "rm", "s"]));
        Assert.Equal([server.Path], Complete([.. keynode, "pull", Path.Combine(server.Directory, "ser")]));
    }

    [Fact]
    public void SecretPaths_NothingOffered_WhenOnlyAPromptCouldOpenTheKeynode()
    {
        // No key file, no passphrase file: pk would have to ask, so completion does not run it into
        // a prompt; it offers nothing, quickly, and leaves the terminal alone.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Empty(Complete("-k", _node.Path, "get", ""));
        Assert.Empty(Complete("-k", Path.Combine(_node.Directory, "absent.keynode"), "--identity-file", _node.IdentityFile!, "get", ""));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Fact]
    public void InARealBash_CompletesAsYouType()
    {
        using var bash = new InteractiveShell("bash --norc --noprofile", _node.Directory);
        bash.Run("source ./pk.bash; echo LOADED", "\nLOADED");
        bash.Complete("pk ide", "pk identity @");
        bash.ClearLine();
        // A secret prefix takes no space after it, so the next level can follow at once.
        bash.Complete("pk -k node.keynode --identity-file owner.key get st", "get staging/@");
        bash.Complete("", "get staging/token @");
    }

    /// <summary>The candidates bash's completion function gives for the words after `pk` (the last is being completed).</summary>
    private string[] Complete(params string[] words)
    {
        const string call = """
            source "$1"; shift
            COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
            _pk
            printf '%s\n' "${COMPREPLY[@]}"
            """;
        PkResult result = PkProcess.Run("bash", ["--norc", "--noprofile", "-c", call, "bash", _script, PkProcess.Binary, .. words]);
        Assert.True(result.ExitCode == 0 && result.Stderr.Length == 0, $"bash: {result}");
        return result.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public void Dispose() => _node.Dispose();
}
