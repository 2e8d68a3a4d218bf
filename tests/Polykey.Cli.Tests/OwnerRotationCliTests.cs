using System.Text.Json;

namespace Polykey.Cli.Tests;

/// <summary>
/// Issue 14 through the installed pk: `pk identity rotate`, the old key's later versions refused
/// (by hand and through a push), reader pins that follow, revocation certificates, `pk verify`,
/// and gpg decrypting the current values with the new key.
/// </summary>
public sealed class OwnerRotationCliTests : IDisposable
{
    private readonly TestKeynode _node = new TestKeynode().Init();
    private readonly Dictionary<string, string> _state;

    public OwnerRotationCliTests() =>
        _state = new Dictionary<string, string> { ["XDG_STATE_HOME"] = Directory.CreateDirectory(Path.Combine(_node.Directory, "state")).FullName };

    private string NewKey => Path.Combine(_node.Directory, "new.key");

    private PkResult WithNewKey(params string[] args) => PkProcess.Pk(["-k", _node.Path, "--identity-file", NewKey, .. args], env: _state);

    private string Fingerprint(PkResult show) => JsonDocument.Parse(show.Stdout).RootElement.GetProperty("fingerprint").GetString()!;

    private string Rotate()
    {
        PkResult rotated = Pk.Ok(PkProcess.Pk([.. _node.Args("identity", "rotate", "-o", NewKey), "--passphrase-file", _node.PassphraseFile], env: _state));
        Assert.Contains("rotated:", rotated.Stderr);
        Assert.Contains("pk: hint: key files and read-only credentials of the old key are refused", rotated.Stderr);
        return Fingerprint(Pk.Ok(WithNewKey("identity", "show", "--json")));
    }

    [Fact]
    public void Rotate_VerifyReportsTheTransitionAndPasses_OldKeyFileIsRefusedWithExit4()
    {
        Pk.Ok(_node.Set("prod/db", "v1"));
        string old = Fingerprint(Pk.Ok(_node.Run("identity", "show", "--json")));
        string reader = Path.Combine(_node.Directory, "reader.key");
        Pk.Ok(_node.Run("identity", "export", "--read-only", "-o", reader));
        string next = Rotate();
        Assert.NotEqual(old, next);

        PkResult verify = Pk.Ok(WithNewKey("verify"));
        Assert.Contains($"owner: rotated from {old} to {next}", verify.Text);
        Assert.EndsWith("ok\n", verify.Text);
        JsonElement json = JsonDocument.Parse(Pk.Ok(WithNewKey("verify", "--json")).Stdout).RootElement;
        Assert.True(json.GetProperty("ok").GetBoolean());
        Assert.Equal("rotated", json.GetProperty("owner")[0].GetProperty("event").GetString());

        Assert.Equal("v1", Pk.Ok(WithNewKey("get", "prod/db")).Text);
        // The passphrase opens the new key, sealed in the file under it.
        Assert.Equal("v1", Pk.Ok(PkProcess.Pk(_node.WithPassphrase("get", "prod/db"), env: _state)).Text);
        Pk.Fails(PkProcess.Pk(_node.Args("get", "prod/db"), env: _state), 4, "former owner key");
        Pk.Fails(PkProcess.Pk(["-k", _node.Path, "--identity-file", reader, "get", "prod/db"], env: _state), 4, "former owner key");
    }

    [Fact]
    public void OldKeyVersion_PushedFromACopyMadeBeforeTheRotation_IsRefused()
    {
        Pk.Ok(_node.Set("prod/db", "good"));
        string stale = Path.Combine(_node.Directory, "stale.keynode");
        File.Copy(_node.Path, stale);
        Rotate();
        // Whoever kept the old key (another user, with pins of their own) writes in the old copy and pushes here.
        var attacker = new Dictionary<string, string> { ["XDG_STATE_HOME"] = Directory.CreateDirectory(Path.Combine(_node.Directory, "attacker")).FullName };
        Pk.Ok(PkProcess.Pk(["-k", stale, "--identity-file", _node.IdentityFile!, "set", "prod/planted"], "evil"u8.ToArray(), env: attacker));
        PkProcess.Pk(["-k", stale, "--identity-file", _node.IdentityFile!, "push", _node.Path], env: attacker);

        PkResult list = Pk.Ok(WithNewKey("ls"));
        Assert.Equal("prod/db\n", list.Text);
        Assert.Contains("former owner key", list.Stderr);
        PkResult verify = WithNewKey("verify");
        Assert.Equal(1, verify.ExitCode);
        Assert.Contains("problem: refused a change", verify.Text);
        Assert.Contains("former owner key", verify.Text);
    }

    [Fact]
    public void ReaderThatPinnedTheOldOwner_OpensTheRotatedKeynode_AndPinsTheNewKey()
    {
        Pk.Ok(_node.Set("prod/db", "good"));
        Pk.Ok(PkProcess.Pk(_node.Args("ls"), env: _state));
        string id = PkProcess.Run("tar", ["-xOf", _node.Path, "polykey/keynode"]).Text.Split('\n')[1]["id ".Length..];
        string pins = Path.Combine(_state["XDG_STATE_HOME"], "polykey", id + ".pins");
        string before = File.ReadAllText(pins);
        string next = Rotate();
        Assert.Equal("good", Pk.Ok(WithNewKey("get", "prod/db")).Text);
        string after = File.ReadAllText(pins);
        Assert.Contains(before.Split('\n')[1], after); // the first owner stays pinned
        Assert.Matches($"current 1 [0-9a-f]{{40}} {next}", after);
    }

    [Fact]
    public void RevocationCertificate_AppliedWithoutTheKey_RefusesLaterVersionsOfIt()
    {
        var other = new TestKeynode("revoked");
        try
        {
            string certificate = Path.Combine(other.Directory, "owner.revoke");
            Pk.Ok(PkProcess.Pk([.. other.WithPassphrase("init", "--revocation", certificate)]));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(certificate));
            string key = Path.Combine(other.Directory, "owner.key");
            Pk.Ok(PkProcess.Pk(other.WithPassphrase("identity", "export", "--secret", "-o", key)));
            Pk.Ok(PkProcess.Pk(["-k", other.Path, "--identity-file", key, "set", "prod/db"], "good"u8.ToArray()));
            string stale = Path.Combine(other.Directory, "stale.keynode");
            File.Copy(other.Path, stale);

            PkResult applied = Pk.Ok(PkProcess.Pk(["-k", other.Path, "identity", "revoke-owner", certificate], env: _state));
            Assert.Contains("is revoked", applied.Stderr);
            PkResult verify = Pk.Ok(PkProcess.Pk(["-k", other.Path, "--identity-file", key, "verify"], env: _state));
            Assert.Contains("revoked as compromised", verify.Text);
            Pk.Fails(PkProcess.Pk(["-k", other.Path, "--identity-file", key, "set", "prod/db"], "more"u8.ToArray(), env: _state), 4, "revoked");

            // Whoever holds the leaked key (another user: pins of their own) writes in an old copy and pushes: refused, whatever the date.
            var attacker = new Dictionary<string, string> { ["XDG_STATE_HOME"] = Directory.CreateDirectory(Path.Combine(other.Directory, "attacker")).FullName };
            Pk.Ok(PkProcess.Pk(["-k", stale, "--identity-file", key, "set", "prod/planted"], "evil"u8.ToArray(), env: attacker));
            PkProcess.Pk(["-k", stale, "--identity-file", key, "push", other.Path], env: attacker);
            PkResult list = Pk.Ok(PkProcess.Pk(["-k", other.Path, "--identity-file", key, "ls"], env: _state));
            Assert.Equal("prod/db\n", list.Text);
            Assert.Contains("revoked as compromised", list.Stderr);
            Assert.Equal("good", Pk.Ok(PkProcess.Pk(["-k", other.Path, "--identity-file", key, "get", "prod/db"], env: _state)).Text);
        }
        finally
        {
            other.Dispose();
        }
    }

    [Fact]
    public void RevocationCertificate_OfAnotherKeynode_IsRefused_FileUntouched()
    {
        string certificate = Path.Combine(_node.Directory, "mine.revoke");
        Pk.Ok(_node.Run("identity", "revocation", "-o", certificate));
        using var other = new TestKeynode("other").Init();
        string hash = other.FileHash();
        Pk.Fails(other.Run("identity", "revoke-owner", certificate), 1, "not of");
        Assert.Equal(hash, other.FileHash());
    }

    [Fact]
    public void AfterRotation_GpgDecryptsTheCurrentValuesWithTheNewKey_AndGitVerifiesItsSignatures()
    {
        var values = new Dictionary<string, string> { ["prod/db"] = "gpg-value-1", ["prod/api"] = "gpg-value-2" };
        foreach ((string name, string value) in values) Pk.Ok(_node.Set(name, value));
        Rotate();
        string repo = Directory.CreateDirectory(Path.Combine(_node.Directory, "extracted")).FullName;
        Assert.Equal(0, PkProcess.Run("tar", ["-xf", _node.Path, "-C", repo]).ExitCode);
        string gnupg = Directory.CreateDirectory(Path.Combine(_node.Directory, "gnupg")).FullName;
        File.SetUnixFileMode(gnupg, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var env = new Dictionary<string, string> { ["GNUPGHOME"] = gnupg };
        try
        {
            Assert.Equal(0, PkProcess.Run("gpg", ["--batch", "--import", NewKey], env: env).ExitCode);
            var recovered = new Dictionary<string, string>();
            foreach (string reference in PkProcess.Run("git", ["--git-dir", repo, "for-each-ref", "--format=%(refname)", "refs/secrets"]).Text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                PkResult blob = PkProcess.Run("git", ["--git-dir", repo, "cat-file", "blob", reference + ":secret.pgp"]);
                if (blob.ExitCode != 0) continue; // the access list, the owner history and other statements
                PkResult decrypted = PkProcess.Run("gpg", ["--batch", "--decrypt", "--verbose"], blob.Stdout, env);
                Assert.True(decrypted.ExitCode == 0, decrypted.ToString());
                recovered[decrypted.Stderr.Split('\n').Single(l => l.Contains("original file name=")).Split('\'')[1]] = decrypted.Text;
                PkResult verify = PkProcess.Run("git", ["--git-dir", repo, "verify-commit", "--raw", reference], env: env);
                Assert.Contains("GOODSIG", verify.Stderr);
            }
            Assert.Equal(values.OrderBy(kv => kv.Key), recovered.OrderBy(kv => kv.Key));
        }
        finally
        {
            PkProcess.Run("gpgconf", ["--kill", "gpg-agent"], env: env);
        }
    }

    [Fact]
    public void Subscriber_ThatPinnedTheOldOwner_PullsTheTransition_AndTheNewKeysVersions()
    {
        using var server = new TestKeynode("server").Init(label: "server");
        string serverPublic = Path.Combine(_node.Directory, "server.pub");
        File.WriteAllBytes(serverPublic, Pk.Ok(server.Run("identity", "export")).Stdout);
        Pk.Ok(_node.Set("prod/db", "v1"));
        Pk.Ok(_node.Run("grant", serverPublic, "prod/**", "--read"));
        Pk.Ok(server.Run("remote", "add", "admin", _node.Path, "--paths", "prod/**"));
        Pk.Ok(server.Run("pull", "admin"));

        Rotate();
        Pk.Ok(PkProcess.Pk(["-k", _node.Path, "--identity-file", NewKey, "set", "prod/db"], "v2"u8.ToArray(), env: _state));
        Pk.Ok(server.Run("pull", "admin"));
        Assert.Equal("v2", Pk.Ok(server.Run("get", "prod/db")).Text);
        Assert.True(Pk.Ok(server.Run("verify")).Text.EndsWith("ok\n", StringComparison.Ordinal));
    }

    [Fact]
    public void Transition_TravelsThroughAGitRelay_ToASubscriber()
    {
        using var server = new TestKeynode("server").Init(label: "server");
        var serverState = new Dictionary<string, string> { ["XDG_STATE_HOME"] = Directory.CreateDirectory(Path.Combine(server.Directory, "state")).FullName };
        string serverPublic = Path.Combine(_node.Directory, "server.pub");
        File.WriteAllBytes(serverPublic, Pk.Ok(server.Run("identity", "export")).Stdout);
        string relay = Path.Combine(_node.Directory, "relay.git");
        Assert.Equal(0, PkProcess.Run("git", ["init", "--bare", "--quiet", relay]).ExitCode);
        Pk.Ok(_node.Set("prod/db", "v1"));
        Pk.Ok(_node.Run("grant", serverPublic, "prod/**", "--read"));
        Pk.Ok(PkProcess.Pk(_node.Args("remote", "add", "relay", "file://" + relay), env: _state));
        Pk.Ok(PkProcess.Pk(_node.Args("push", "relay"), env: _state));
        Pk.Ok(PkProcess.Pk(server.Args("remote", "add", "relay", "file://" + relay, "--paths", "prod/**"), env: serverState));
        Pk.Ok(PkProcess.Pk(server.Args("pull", "relay"), env: serverState));

        Rotate();
        Pk.Ok(PkProcess.Pk(["-k", _node.Path, "--identity-file", NewKey, "set", "prod/db"], "v2"u8.ToArray(), env: _state));
        Pk.Ok(WithNewKey("push", "relay"));
        Pk.Ok(PkProcess.Pk(server.Args("pull", "relay"), env: serverState));
        Assert.Equal("v2", Pk.Ok(PkProcess.Pk(server.Args("get", "prod/db"), env: serverState)).Text);

        // A relay first used after the rotation names the keynode's first owner too, as its subscribers pinned it.
        string second = Path.Combine(_node.Directory, "second.git");
        Assert.Equal(0, PkProcess.Run("git", ["init", "--bare", "--quiet", second]).ExitCode);
        Pk.Ok(WithNewKey("remote", "add", "second", "file://" + second));
        Pk.Ok(PkProcess.Pk(["-k", _node.Path, "--identity-file", NewKey, "set", "prod/db"], "v3"u8.ToArray(), env: _state));
        Pk.Ok(WithNewKey("push", "second"));
        Pk.Ok(PkProcess.Pk(server.Args("remote", "add", "second", "file://" + second, "--paths", "prod/**"), env: serverState));
        Pk.Ok(PkProcess.Pk(server.Args("pull", "second"), env: serverState));
        Assert.Equal("v3", Pk.Ok(PkProcess.Pk(server.Args("get", "prod/db"), env: serverState)).Text);
    }

    public void Dispose() => _node.Dispose();
}
