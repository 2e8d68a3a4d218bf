using System.Text.Json;

namespace Polykey.Cli.Tests;

/// <summary>Scenario S8 (local parts) with the real pk and gpg: grant, read with the grantee's key, revoke, rotate-needed.</summary>
public sealed class AccessCliTests : IDisposable
{
    private readonly TestKeynode _admin = new TestKeynode("admin").Init(label: "admin");
    private readonly TestKeynode _server = new TestKeynode("server").Init(label: "server-b");
    private readonly string _serverPublic;
    private readonly string _gnupg;
    private readonly Dictionary<string, string> _gpgEnv;

    public AccessCliTests()
    {
        _serverPublic = Path.Combine(_admin.Directory, "server.pub");
        File.WriteAllBytes(_serverPublic, Pk.Ok(_server.Run("identity", "export")).Stdout);
        Pk.Ok(_admin.Set("prod/db/password", "prod-secret"));
        Pk.Ok(_admin.Set("staging/db/password", "staging-secret"));
        _gnupg = Directory.CreateDirectory(Path.Combine(_admin.Directory, "gnupg-server")).FullName;
        _gpgEnv = new Dictionary<string, string> { ["GNUPGHOME"] = _gnupg };
        Assert.Equal(0, PkProcess.Run("gpg", ["--batch", "--import", _server.IdentityFile!], env: _gpgEnv).ExitCode);
    }

    // What the server's key can decrypt of a secret's current version, with gpg alone.
    private string? ServerReads(string path)
    {
        string repo = Path.Combine(_admin.Directory, "repo-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(repo);
        PkProcess.Run("tar", ["-xf", _admin.Path, "-C", repo]);
        string commit = JsonDocument.Parse(Pk.Ok(_admin.Run("log", path, "--json")).Stdout).RootElement.EnumerateArray().Last().GetProperty("commit").GetString()!;
        byte[] message = PkProcess.Run("git", ["--git-dir", repo, "cat-file", "blob", commit + ":secret.pgp"]).Stdout;
        PkResult result = PkProcess.Run("gpg", ["--batch", "--decrypt"], message, _gpgEnv);
        return result.ExitCode == 0 ? result.Text : null;
    }

    [Fact]
    public void S8_GrantReadRevoke_RotateNeeded()
    {
        Assert.Null(ServerReads("prod/db/password"));
        Pk.Ok(_admin.Run("grant", _serverPublic, "--read", "prod/**"));
        Assert.Equal("prod-secret", ServerReads("prod/db/password"));
        Assert.Null(ServerReads("staging/db/password"));

        JsonElement access = JsonDocument.Parse(Pk.Ok(_admin.Run("access", "--json")).Stdout).RootElement;
        JsonElement grant = Assert.Single(access.GetProperty("grants").EnumerateArray());
        Assert.Equal("server-b", grant.GetProperty("label").GetString());
        Assert.Equal("prod/**", grant.GetProperty("read")[0].GetString());

        JsonElement revoke = JsonDocument.Parse(Pk.Ok(_admin.Run("revoke", "server-b", "--json")).Stdout).RootElement;
        Assert.Equal(["prod/db/password"], revoke.GetProperty("rotate").EnumerateArray().Select(e => e.GetString()));
        Assert.Null(ServerReads("prod/db/password"));
        Pk.Ok(_admin.Set("prod/db/password", "rotated"));
        Assert.Null(ServerReads("prod/db/password"));

        JsonElement needed = JsonDocument.Parse(Pk.Ok(_admin.Run("rotate-needed", "--json")).Stdout).RootElement;
        JsonElement item = Assert.Single(needed.EnumerateArray());
        Assert.Equal("prod/db/password", item.GetProperty("path").GetString());
        Assert.Equal([2], item.GetProperty("versions").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Contains("prod/db/password", Pk.Ok(_admin.Run("rotate-needed")).Text);
        Assert.Contains("revoked", Pk.Ok(_admin.Run("access")).Text);
        Pk.Ok(_admin.Run("verify"));
    }

    [Fact]
    public void Identity_CanBeNamedByFingerprintOrLabel_OnceKnown()
    {
        string fingerprint = JsonDocument.Parse(Pk.Ok(_server.Run("identity", "show", "--json")).Stdout).RootElement.GetProperty("fingerprint").GetString()!;
        Pk.Ok(_admin.Run("grant", _serverPublic, "--read", "prod/**"));
        Pk.Ok(_admin.Run("grant", fingerprint.ToLowerInvariant(), "--write", "prod/app/**"));
        Pk.Ok(_admin.Run("revoke", "server-b", "prod/app/**"));
        JsonElement grant = JsonDocument.Parse(Pk.Ok(_admin.Run("access", "--json")).Stdout).RootElement.GetProperty("grants")[0];
        Assert.Equal(fingerprint, grant.GetProperty("fingerprint").GetString());
        Assert.Equal(0, grant.GetProperty("write").GetArrayLength());
        Assert.Equal("prod/**", grant.GetProperty("read")[0].GetString());
    }

    [Fact]
    public void GrantErrors_AreClear()
    {
        Pk.Fails(_admin.Run("grant", "nobody-known", "--read", "prod/**"), 3, "no identity named nobody-known");
        Pk.Fails(_admin.Run("grant", _serverPublic, "prod/**"), 2, "--read, --write");
        Pk.Fails(_admin.Run("revoke", _serverPublic), 3, "holds no grant");
        string reader = Path.Combine(_admin.Directory, "reader.key");
        Pk.Ok(_admin.Run("identity", "export", "--read-only", "-o", reader));
        string before = _admin.FileHash();
        Pk.Fails(PkProcess.Pk(["-k", _admin.Path, "--identity-file", reader, "grant", _serverPublic, "--read", "prod/**"]), 4, "only the owner");
        Assert.Equal(before, _admin.FileHash());
    }

    public void Dispose()
    {
        PkProcess.Run("gpgconf", ["--kill", "gpg-agent"], env: _gpgEnv);
        _admin.Dispose();
        _server.Dispose();
    }
}
