using System.Text;
using System.Text.Json;

namespace Polykey.Cli.Tests;

/// <summary>
/// A pruned keynode with the real pk on both ends: a clone and a push carry its pruned
/// statement, so the receiver accepts the absent values and `pk verify` passes there; a running
/// mount reads and writes across a `pk gc --keep-versions`.
/// </summary>
public sealed class RetentionSyncCliTests : IDisposable
{
    private readonly TestKeynode _admin = new TestKeynode("admin").Init(label: "admin");
    private readonly TestKeynode _server = new TestKeynode("server").Init(label: "server-b");
    private readonly string _serverPublic;

    public RetentionSyncCliTests()
    {
        _serverPublic = Path.Combine(_admin.Directory, "server.pub");
        File.WriteAllBytes(_serverPublic, Pk.Ok(_server.Run("identity", "export")).Stdout);
        for (int i = 1; i <= 5; i++) Pk.Ok(_admin.Set("prod/db/password", $"db-{i}"));
        Pk.Ok(_admin.Set("prod/api/key", "api"));
        Pk.Ok(_admin.Run("grant", _serverPublic, "prod/**", "--read"));
    }

    private string Fingerprint(TestKeynode node) =>
        JsonDocument.Parse(Pk.Ok(node.Run("identity", "show", "--json")).Stdout).RootElement.GetProperty("fingerprint").GetString()!;

    private static int PrunedIn(PkResult verifyJson) =>
        JsonDocument.Parse(verifyJson.Stdout).RootElement.GetProperty("pruned").GetInt32();

    [Fact]
    public void Clone_OfAPrunedKeynode_AcceptsTheAbsentValues_AndVerifies()
    {
        Pk.Ok(_admin.Run("gc", "--keep-versions", "2"));
        string clone = Path.Combine(_server.Directory, "clone.keynode");
        string[] args = ["-k", clone, "--identity-file", _server.IdentityFile!];
        Pk.Ok(Pk.Run([.. args, "clone", _admin.Path, "--fingerprint", Fingerprint(_admin)]));
        Assert.Equal("db-5", Encoding.UTF8.GetString(Pk.Ok(Pk.Run([.. args, "get", "prod/db/password"])).Stdout));
        Assert.Contains("pruned", Pk.Ok(Pk.Run([.. args, "log", "prod/db/password"])).Text);
        PkResult verify = Pk.Ok(Pk.Run([.. args, "verify", "--json"]));
        Assert.Equal(PrunedIn(Pk.Ok(_admin.Run("verify", "--json"))), PrunedIn(verify));
        Assert.True(PrunedIn(verify) > 0);
    }

    [Fact]
    public void Push_OfAPrunedKeynode_LandsWithItsStatement()
    {
        Pk.Ok(_server.Run("remote", "add", "admin", _admin.Path, "--paths", "prod/**"));
        Pk.Ok(_admin.Run("remote", "add", "server", _server.Path));
        Pk.Ok(_admin.Run("gc", "--keep-versions", "1"));
        Pk.Ok(_admin.Run("push", "server"));
        Assert.Equal("db-5", Encoding.UTF8.GetString(_server.Get("prod/db/password")));
        PkResult verify = Pk.Ok(_server.Run("verify", "--json"));
        Assert.True(PrunedIn(verify) > 0, verify.Text);
        Assert.Equal(3, _server.Run("get", "prod/db/password", "--version", "1").ExitCode);
    }

    [Fact]
    public void RunningMount_ReadsAndWritesAcrossARetentionGc()
    {
        using var mount = new TestMount(_admin);
        Assert.Equal("db-5", File.ReadAllText(mount["prod/db/password"]));
        Pk.Ok(_admin.Run("gc", "--keep-versions", "1"));
        File.WriteAllText(mount["prod/db/password"], "db-6");
        Assert.Equal("api", File.ReadAllText(mount["prod/api/key"]));
        for (int i = 0; i < 50 && _admin.Run("get", "prod/db/password").Text != "db-6"; i++) Thread.Sleep(100);
        Assert.Equal("db-6", Encoding.UTF8.GetString(_admin.Get("prod/db/password")));
        Assert.Contains("ok", Pk.Ok(_admin.Run("verify")).Text);
    }

    public void Dispose()
    {
        _admin.Dispose();
        _server.Dispose();
    }
}
