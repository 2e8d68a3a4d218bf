namespace Polykey.Cli.Tests;

/// <summary>
/// Push, pull and clone over a real sshd on 127.0.0.1 with the real ssh client and pk serving
/// the far side (scenario S6 over ssh), and the failures a user meets: a host that does not
/// answer, a path that is not a keynode, no pk there, a far side that lies. The local keynode
/// is byte-identical after every failure.
/// </summary>
public sealed class SshTransportTests : IDisposable
{
    private readonly SshServer _ssh = new();
    private readonly TestKeynode _a = new TestKeynode("a").Init(label: "admin-a");
    private readonly TestKeynode _b = new TestKeynode("b").Init(label: "server-b");

    public SshTransportTests()
    {
        string bPublic = Path.Combine(_a.Directory, "b.pub");
        File.WriteAllBytes(bPublic, Pk.Ok(_b.Run("identity", "export")).Stdout);
        Pk.Ok(_a.Set("prod/db/password", "prod-db"));
        Pk.Ok(_a.Set("prod/api/key", "prod-api"));
        Pk.Ok(_a.Set("staging/db/password", "staging-db"));
        Pk.Ok(_a.Run("grant", bPublic, "prod/**", "--read"));
    }

    public void Dispose()
    {
        _ssh.Dispose();
        _a.Dispose();
        _b.Dispose();
    }

    private PkResult B(params string[] args) => PkProcess.Pk(_b.Args(args), env: _ssh.Env);

    private PkResult A(params string[] args) => PkProcess.Pk(_a.Args(args), env: _ssh.Env);

    private string[] Listing(TestKeynode node) =>
        Pk.Ok(PkProcess.Pk(node.Args("ls"))).Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void S6_Pull_OverSsh_TakesExactlyTheGrantedValues()
    {
        Pk.Ok(B("remote", "add", "a", _ssh.Url(_a.Path), "--paths", "prod/**"));
        Pk.Ok(B("pull", "a"));

        Assert.Equal(["prod/api/key", "prod/db/password"], Listing(_b));
        Assert.Equal("prod-db"u8.ToArray(), _b.Get("prod/db/password"));
        Assert.Equal("prod-api"u8.ToArray(), _b.Get("prod/api/key"));
        Pk.Ok(_b.Run("verify"));

        // A second pull finds nothing new; a new version comes across alone.
        string before = _b.FileHash();
        Pk.Ok(B("pull", "a"));
        Assert.Equal(before, _b.FileHash());
        Pk.Ok(_a.Set("prod/db/password", "prod-db-2"));
        Pk.Ok(B("pull", "a"));
        Assert.Equal("prod-db-2"u8.ToArray(), _b.Get("prod/db/password"));
    }

    [Fact]
    public void S7_OverSsh_AMountedKeynodeShowsAPushedValueWithinOneSecond_NoTornRead_HookOnce()
    {
        string oldValue = new string('o', 4000), newValue = new string('n', 3000);
        Pk.Ok(_a.Set("prod/db/password", oldValue));
        Pk.Ok(B("remote", "add", "a", _ssh.Url(_a.Path), "--paths", "prod/**"));
        Pk.Ok(A("remote", "add", "b", _ssh.Url(_b.Path)));
        Pk.Ok(A("push", "b"));
        string hookLog = Path.Combine(_b.Directory, "hook.log");
        using var mount = new TestMount(_b, "--read-only", "--on-change", $"printf '%s;' \"$PK_CHANGED_PATHS\" >> '{hookLog}'");
        using var reader = new LiveReader(mount["prod/db/password"], oldValue, newValue);
        Pk.Ok(_a.Set("prod/db/password", newValue));
        Pk.Ok(A("push", "b"));
        reader.AssertNewValueWithinOneSecondOf(DateTime.UtcNow);
        Assert.Equal("prod/db/password;", LiveReader.HookLog(hookLog));
    }

    [Fact]
    public void Push_OverSsh_LandsOnTheFarKeynode()
    {
        Pk.Ok(B("remote", "add", "a", _ssh.Url(_a.Path), "--paths", "prod/**"));
        Pk.Ok(B("pull", "a"));
        Pk.Ok(_a.Set("prod/db/password", "pushed"));

        Pk.Ok(A("push", _ssh.Url(_b.Path), "prod/**"));

        Assert.Equal("pushed"u8.ToArray(), _b.Get("prod/db/password"));
        Assert.Equal(["prod/api/key", "prod/db/password"], Listing(_b));
        Pk.Ok(_b.Run("verify"));
    }

    [Fact]
    public void Clone_OverSsh_MakesAKeynodeWithWhatItMayRead()
    {
        string clone = Path.Combine(_b.Directory, "clone.keynode");
        Pk.Ok(PkProcess.Pk(["-k", clone, "--identity-file", _b.IdentityFile!, "clone", _ssh.Url(_a.Path)], env: _ssh.Env));

        Assert.Equal("prod-api"u8.ToArray(), Pk.Ok(PkProcess.Pk(["-k", clone, "--identity-file", _b.IdentityFile!, "get", "prod/api/key"])).Stdout);
        Assert.Contains(_ssh.Url(_a.Path), Pk.Ok(PkProcess.Pk(["-k", clone, "--identity-file", _b.IdentityFile!, "remote", "ls"])).Text);
    }

    [Fact]
    public void ScpLikeLocation_WithThePortInPkSsh_Pulls()
    {
        var env = new Dictionary<string, string>(_ssh.Env) { ["PK_SSH"] = _ssh.Env["PK_SSH"] + $" -p {_ssh.Port}" };
        Pk.Ok(PkProcess.Pk(_b.Args("remote", "add", "a", $"localhost:{_a.Path}", "--paths", "prod/**"), env: env));
        Pk.Ok(PkProcess.Pk(_b.Args("pull"), env: env));
        Assert.Equal(["prod/api/key", "prod/db/password"], Listing(_b));
    }

    [Fact]
    public void UnreachableHost_IsOneClearError_AndLeavesTheKeynodeAsItWas()
    {
        string before = _b.FileHash();
        Pk.Fails(B("pull", $"ssh://localhost:{Loopback.FreePort()}{_a.Path}"), 1, "cannot reach localhost over ssh: ");
        Assert.Equal(before, _b.FileHash());
    }

    [Fact]
    public void FarPathThatIsNotAKeynode_IsOneClearError()
    {
        string text = _ssh.PathOf("notes.txt");
        File.WriteAllText(text, "just some text\n");
        string before = _b.FileHash();
        Pk.Fails(B("pull", _ssh.Url(text)), 1, "notes.txt is not a keynode file");
        Pk.Fails(B("remote", "add", "x", _ssh.Url(_ssh.PathOf("absent.keynode"))), 3, "absent.keynode");
        Assert.Equal(before, _b.FileHash());
    }

    [Fact]
    public void PkMissingOnTheFarSide_IsNamed()
    {
        var env = new Dictionary<string, string>(_ssh.Env) { ["PK_REMOTE_PK"] = "/nonexistent/pk" };
        string before = _b.FileHash();
        Pk.Fails(PkProcess.Pk(_b.Args("pull", _ssh.Url(_a.Path)), env: env), 1, "pk is not installed on localhost");
        Assert.Equal(before, _b.FileHash());
    }

    [Fact]
    public void FarSideThatDiesMidTransfer_LeavesTheKeynodeAsItWas()
    {
        Pk.Ok(B("remote", "add", "a", _ssh.Url(_a.Path), "--paths", "prod/**"));
        // A far side that greets and advertises as pk does, then dies in the middle of the objects (pk serve, cut off by head).
        string liar = _ssh.PathOf("liar.sh");
        File.WriteAllText(liar, $"#!/bin/sh\n(\"{_ssh.Env["PK_REMOTE_PK"]}\" serve \"$3\" 2>/dev/null &) | head -c 3000\n");
        File.SetUnixFileMode(liar, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var env = new Dictionary<string, string>(_ssh.Env) { ["PK_REMOTE_PK"] = liar };
        string before = _b.FileHash();

        PkResult result = PkProcess.Pk(_b.Args("pull", "a"), env: env);

        Pk.Fails(result, 1, "closed the connection");
        Assert.Equal(before, _b.FileHash());
        Assert.Empty(Listing(_b));
    }
}
