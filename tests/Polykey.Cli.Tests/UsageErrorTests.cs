namespace Polykey.Cli.Tests;

/// <summary>A word pk does not know is named as such, with the nearest real one, and exits 2 (usage).</summary>
public sealed class UsageErrorTests
{
    [Fact]
    public void UnknownCommand_SaysUnknownCommand_NotThatNoneWasGiven()
    {
        PkResult result = PkProcess.Pk(["frobnicate"]);
        Pk.Fails(result, 2, "unknown command 'frobnicate'");
        Assert.DoesNotContain("Required command", result.Stderr);
        Assert.Contains("pk: hint: see 'pk --help'", result.Stderr);
    }

    [Theory]
    [InlineData("verfy", "verify")]
    [InlineData("mout", "mount")]
    [InlineData("rmeote", "remote")]
    public void MistypedCommand_SuggestsTheClosest(string typed, string meant)
    {
        PkResult result = PkProcess.Pk([typed, "prod/db/password"]);
        Pk.Fails(result, 2, $"unknown command '{typed}'");
        Assert.Contains($"pk: hint: did you mean '{meant}'?", result.Stderr);
    }

    [Fact]
    public void MistypedSubcommand_SuggestsTheClosestSubcommand()
    {
        PkResult result = PkProcess.Pk(["identity", "shwo"]);
        Pk.Fails(result, 2, "unknown command 'identity shwo'");
        Assert.Contains("did you mean 'identity show'?", result.Stderr);
    }

    [Fact]
    public void AmbiguousStart_SuggestsEveryCommandItBegins()
    {
        Assert.Contains("did you mean 'restore', 'revoke', 'remote' or 'resolve'?", Pk.Fails(PkProcess.Pk(["re"]), 2, "unknown command 're'").Stderr);
    }

    [Fact]
    public void HiddenCommand_IsNeverSuggested()
    {
        PkResult result = Pk.Fails(PkProcess.Pk(["serv"]), 2, "unknown command 'serv'");
        Assert.DoesNotContain("serve", result.Stderr);
    }

    [Fact]
    public void MistypedOption_SuggestsTheClosestOptionOfThatCommand()
    {
        PkResult result = Pk.Fails(PkProcess.Pk(["get", "prod/db/password", "--thiers"]), 2, "unknown option '--thiers' for 'pk get'");
        Assert.Contains("pk: hint: did you mean '--theirs'?", result.Stderr);
    }
}
