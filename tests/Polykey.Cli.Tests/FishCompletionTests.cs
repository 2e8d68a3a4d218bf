namespace Polykey.Cli.Tests;

/// <summary>`pk completion fish`: fish -n accepts it, and fish's own `complete -C` completes with it.</summary>
public sealed class FishCompletionTests : IDisposable
{
    private readonly TestKeynode _node = new TestKeynode().Init();
    private readonly string _script;

    public FishCompletionTests()
    {
        Pk.Ok(_node.Set("prod/db/password", "v"));
        Pk.Ok(_node.Set("top", "v"));
        _script = Path.Combine(_node.Directory, "pk.fish");
        File.WriteAllBytes(_script, Pk.Ok(PkProcess.Pk(["completion", "fish"])).Stdout);
    }

    [FactWhenInstalled("fish")]
    public void Script_IsAcceptedByFish()
    {
        PkResult result = PkProcess.Run("fish", ["--no-config", "-n", _script]);
        Assert.True(result.ExitCode == 0 && result.Stderr.Length == 0, $"fish -n: {result}");
    }

    [FactWhenInstalled("fish")]
    public void Candidates_ForCommandsOptionsAndSecrets()
    {
        Assert.Equal(HelpListing.Commands().Order(), Complete("pk ").Order());
        Assert.Equal(["identity"], Complete("pk ide"));
        Assert.Equal(["export", "revocation", "revoke-owner", "rotate", "show"], Complete("pk identity ").Order());
        Assert.Equal(["--theirs"], Complete("pk get --th"));
        Assert.Equal(["json", "sh"], Complete("pk env --format "));
        Assert.Equal([_node.Path], Complete($"pk -k {Path.Combine(_node.Directory, "no")}"));
        Assert.Equal(["prod/", "top"], Complete($"pk -k {_node.Path} --identity-file {_node.IdentityFile} get "));
        Assert.Equal(["prod/db/password"], Complete($"pk --keynode={_node.Path} --identity-file {_node.IdentityFile} get prod/db/"));
        Assert.Empty(Complete($"pk -k {_node.Path} get "));
    }

    /// <summary>The candidates (without descriptions) fish completes the command line with.</summary>
    private string[] Complete(string line)
    {
        // fish completes the command `pk` by name, so the pk under test must come first on PATH.
        string bin = PkProcess.Binary.Contains('/') ? Path.GetDirectoryName(Path.GetFullPath(PkProcess.Binary))! : "";
        var env = new Dictionary<string, string> { ["PATH"] = $"{bin}:{Environment.GetEnvironmentVariable("PATH")}" };
        PkResult result = PkProcess.Run("fish", ["--no-config", "-c", "source $argv[1]; complete -C $argv[2]", _script, line], env: env);
        Assert.True(result.ExitCode == 0 && result.Stderr.Length == 0, $"fish: {result}");
        return result.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')[0]).ToArray();
    }

    public void Dispose() => _node.Dispose();
}
