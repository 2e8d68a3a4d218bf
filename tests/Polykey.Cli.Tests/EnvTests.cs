using System.Text.Json;

namespace Polykey.Cli.Tests;

/// <summary>Scenario S11 (local part): secrets as environment variables, for scripts and machines.</summary>
public sealed class EnvTests : IDisposable
{
    private readonly TestKeynode _node = new TestKeynode().Init();

    public EnvTests()
    {
        Pk.Ok(_node.Set("prod/db/password", "it's \"quoted\" $HOME `x`"));
        Pk.Ok(_node.Set("prod/api-key", "k-123"));
        Pk.Ok(_node.Set("staging/db/password", "not-for-prod"));
    }

    [Fact]
    public void Exec_RunsCommandWithPrefixedSecretsAsVariables()
    {
        PkResult result = _node.Run("env", "--prefix", "prod/", "--", "printenv");
        Pk.Ok(result);
        Assert.Contains("DB_PASSWORD=it's \"quoted\" $HOME `x`\n", result.Text);
        Assert.Contains("API_KEY=k-123\n", result.Text);
        Assert.DoesNotContain("not-for-prod", result.Text);
        Assert.Contains("PATH=", result.Text);
    }

    [Fact]
    public void Exec_PassesTheCommandsExitStatus()
    {
        Assert.Equal(7, _node.Run("env", "--", "sh", "-c", "exit 7").ExitCode);
        Pk.Fails(_node.Run("env", "--", "no-such-command-xyz"), 3, "command not found");
    }

    [Fact]
    public void ShellFormat_EvaluatesToTheExactValues()
    {
        string exports = Pk.Ok(_node.Run("env", "--prefix", "prod/")).Text;
        PkResult shell = PkProcess.Run("bash", ["-c", exports + "\nprintf '%s|%s' \"$DB_PASSWORD\" \"$API_KEY\""]);
        Assert.Equal("it's \"quoted\" $HOME `x`|k-123", shell.Text);
    }

    [Fact]
    public void JsonFormat_MapsNamesToValues()
    {
        JsonElement json = JsonDocument.Parse(Pk.Ok(_node.Run("env", "--format", "json")).Stdout).RootElement;
        Assert.Equal("not-for-prod", json.GetProperty("STAGING_DB_PASSWORD").GetString());
        Assert.Equal("k-123", json.GetProperty("PROD_API_KEY").GetString());
    }

    [Fact]
    public void CollidingNames_ExitFive()
    {
        Pk.Ok(_node.Set("prod/api_key", "other"));
        Pk.Fails(_node.Run("env", "--prefix", "prod/"), 5, "both map to the variable API_KEY");
    }

    [Fact]
    public void ScriptUse_GetInCommandSubstitution()
    {
        PkResult script = PkProcess.Run("bash", ["-c", $"v=$('{PkProcess.Binary}' get prod/api-key -k '{_node.Path}' --identity-file '{_node.IdentityFile}'); echo \"got:$v\""]);
        Assert.Equal("got:k-123\n", script.Text);
    }

    public void Dispose() => _node.Dispose();
}
