namespace Polykey.Cli.Tests;

/// <summary>
/// `pk completion zsh`: zsh -n accepts it, and its _pk, called with words/CURRENT set as zsh's
/// completion system would, hands the right candidates to zsh's completers (stubbed here to print
/// what they are given: driving the real ones needs an interactive zle).
/// </summary>
public sealed class ZshCompletionTests : IDisposable
{
    private readonly TestKeynode _node = new TestKeynode().Init();
    private readonly string _script;

    public ZshCompletionTests()
    {
        Pk.Ok(_node.Set("prod/db/password", "v"));
        Pk.Ok(_node.Set("top", "v"));
        _script = Path.Combine(_node.Directory, "_pk");
        File.WriteAllBytes(_script, Pk.Ok(PkProcess.Pk(["completion", "zsh"])).Stdout);
    }

    [FactWhenInstalled("zsh")]
    public void Script_IsAcceptedByZsh()
    {
        PkResult result = PkProcess.Run("zsh", ["-n", _script]);
        Assert.True(result.ExitCode == 0 && result.Stderr.Length == 0, $"zsh -n: {result}");
    }

    [FactWhenInstalled("zsh")]
    public void Candidates_ForCommandsOptionsAndSecrets()
    {
        Assert.Equal(HelpListing.Commands().Order(), Complete("").Order());
        Assert.Equal(["show", "export", "rotate", "revocation", "revoke-owner"], Complete("identity", ""));
        Assert.Contains("--theirs", Complete("get", "--"));
        Assert.Equal(["json", "sh"], Complete("env", "--format", ""));
        Assert.Equal(["<files>"], Complete("-k", ""));
        Assert.Equal(["prod/", "top"], Complete("--keynode=" + _node.Path, "--identity-file", _node.IdentityFile!, "get", ""));
        Assert.Equal(["prod/db/password"], Complete("-k", _node.Path, "--identity-file", _node.IdentityFile!, "get", "prod/db/"));
        Assert.Empty(Complete("-k", _node.Path, "get", ""));
    }

    [FactWhenInstalled("zsh")]
    public void InARealZsh_CompletesFromFpathAndWhenSourced()
    {
        Directory.CreateDirectory(Path.Combine(_node.Directory, "functions"));
        File.Copy(_script, Path.Combine(_node.Directory, "functions", "_pk"));
        foreach (string load in new[] { "fpath=(functions $fpath); autoload -U compinit && compinit -u", "autoload -U compinit && compinit -u && source ./_pk" })
        {
            using var zsh = new InteractiveShell("zsh -f", _node.Directory);
            zsh.Run($"{load}; echo LOADED", "\nLOADED");
            zsh.Complete("pk ide", "pk identity @");
            zsh.ClearLine();
            // One level at a time: prod/ (no space after it, so the next level follows), then the name.
            zsh.Complete("pk -k node.keynode --identity-file owner.key get pr", "get prod/@");
            zsh.Complete("", "get prod/db/@");
            zsh.Complete("", "get prod/db/password @");
            Assert.DoesNotContain("can only be called from completion function", zsh.Screen());
        }
    }

    /// <summary>What _pk offers for the words after `pk`; compadd and _describe print their candidates.</summary>
    private string[] Complete(params string[] words)
    {
        const string call = """
            compdef() { : }
            compset() { : }
            _files() { print -r -- '<files>' }
            _describe() { local name=${@[-1]}; print -rl -- ${${(P)name}%%:*} }
            compadd() {
                while [[ $1 == -* && $1 != -- ]]; do [[ $1 == -S ]] && shift; shift; done
                [[ $1 == -- ]] && shift
                (( $# )) && print -rl -- "$@"
                return 0
            }
            source $1; shift
            words=("$@"); CURRENT=$#
            _pk
            """;
        PkResult result = PkProcess.Run("zsh", ["-f", "-c", call, "zsh", _script, PkProcess.Binary, .. words]);
        Assert.True(result.ExitCode == 0 && result.Stderr.Length == 0, $"zsh: {result}");
        return result.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public void Dispose() => _node.Dispose();
}
