using System.Text;
using System.Text.Json;
using Polykey.Core.Storage;

namespace Polykey.Cli.Tests;

/// <summary>pk verify, and what the CLI shows when opening refuses a hand-made change (S9, local part).</summary>
public sealed class VerifyTests : IDisposable
{
    private readonly TestKeynode _node = new TestKeynode().Init();

    [Fact]
    public void CleanKeynode_VerifiesOk()
    {
        Pk.Ok(_node.Set("a", "1"));
        Pk.Ok(_node.Set("a", "2"));
        Pk.Ok(_node.Set("b", "3"));
        PkResult text = Pk.Ok(_node.Run("verify"));
        Assert.Contains("2 histories, 3 versions", text.Text);
        Assert.EndsWith("ok\n", text.Text);
        JsonElement json = JsonDocument.Parse(Pk.Ok(_node.Run("verify", "--json")).Stdout).RootElement;
        Assert.True(json.GetProperty("ok").GetBoolean());
        Assert.Equal(0, json.GetProperty("problems").GetArrayLength());
    }

    [Fact]
    public void ReplayedOlderVersion_IsRefusedOnOpen_ReportedByVerify()
    {
        Pk.Ok(_node.Set("prod/key", "first"));
        Pk.Ok(_node.Set("prod/key", "second"));
        JsonElement log = JsonDocument.Parse(Pk.Ok(_node.Run("log", "prod/key", "--json")).Stdout).RootElement;
        string oldCommit = log[0].GetProperty("commit").GetString()!;
        string secretId = PkProcess.Run("tar", ["-tf", _node.Path]).Text.Split('\n').First(l => l.StartsWith("refs/secrets/", StringComparison.Ordinal) && l.Length > 14)["refs/secrets/".Length..];

        using (KeynodeFile file = KeynodeFile.Open(_node.Path))
        using (file.LockExclusive())
            file.WriteChange(file.ReadChanges(ScanPoint.Origin),
                [new PendingMember("refs/secrets/" + secretId, Encoding.ASCII.GetBytes(oldCommit + "\n"))], DateTimeOffset.UtcNow);

        PkResult get = Pk.Ok(_node.Run("get", "prod/key"));
        Assert.Equal("second", get.Text);
        Assert.StartsWith("pk: warning: refused a change to secret history", get.Stderr);
        PkResult verify = _node.Run("verify");
        Assert.Equal(1, verify.ExitCode);
        Assert.Contains("problem: refused a change", verify.Text);
        Assert.False(JsonDocument.Parse(_node.Run("verify", "--json").Stdout).RootElement.GetProperty("ok").GetBoolean());
    }

    public void Dispose() => _node.Dispose();
}
