namespace Polykey.Cli.Tests;

/// <summary>
/// Issue 13: long operations over many secrets (grant, revoke, verify) show a progress bar on a
/// terminal, and nothing of it when stderr is not one (import and gc: GcTests; push, pull and
/// clone: SyncCliTests).
/// </summary>
public sealed class ProgressTests : IDisposable
{
    private readonly TestKeynode _admin = new TestKeynode("admin").Init();
    private readonly TestKeynode _server = new TestKeynode("server").Init(label: "server");
    private readonly string _serverPublic;

    public ProgressTests()
    {
        _serverPublic = Path.Combine(_admin.Directory, "server.pub");
        File.WriteAllBytes(_serverPublic, Pk.Ok(_server.Run("identity", "export")).Stdout);
        string tree = Path.Combine(_admin.Directory, "tree");
        for (int i = 0; i < 300; i++)
        {
            Directory.CreateDirectory(Path.Combine(tree, "prod", $"svc{i % 10}"));
            File.WriteAllText(Path.Combine(tree, "prod", $"svc{i % 10}", $"secret{i}"), $"value-{i}");
        }
        Pk.Ok(_admin.Run("import", tree));
    }

    // What pk drew on the terminal: the bar's title with its phase, and its last percentage.
    private static bool ShowsBar(string screen, string title) =>
        screen.Contains(title + ": ") && screen.Contains("100%");

    [Fact]
    public void GrantRevokeVerify_ShowABar_OnATerminal_AndNothingWhenPiped()
    {
        string grant = PseudoTerminal.Run(["env", "TERM=xterm", PkProcess.Binary, .. _admin.Args("grant", _serverPublic, "--read", "prod/**")]);
        Assert.True(ShowsBar(grant, "grant"), $"no progress bar for grant: {grant}");
        Assert.Contains("300 secret(s) re-encrypted", grant);

        string verify = PseudoTerminal.Run(["env", "TERM=xterm", PkProcess.Binary, .. _admin.Args("verify")]);
        Assert.True(ShowsBar(verify, "verify"), $"no progress bar for verify: {verify}");

        string revoke = PseudoTerminal.Run(["env", "TERM=xterm", PkProcess.Binary, .. _admin.Args("revoke", "server")]);
        Assert.True(ShowsBar(revoke, "revoke"), $"no progress bar for revoke: {revoke}");

        // Piped: the same commands draw nothing, and still do their work.
        PkResult granted = PipedProgress.DrawsNothing(_admin.Args("grant", _serverPublic, "--read", "prod/**"));
        Assert.Contains("300 secret(s) re-encrypted", granted.Stderr + granted.Text);
        PipedProgress.DrawsNothing(_admin.Args("verify"));
        PkResult revoked = PipedProgress.DrawsNothing(_admin.Args("revoke", "server"));
        Assert.Contains("it could read 300 secret(s)", revoked.Stderr + revoked.Text);
    }

    public void Dispose()
    {
        _admin.Dispose();
        _server.Dispose();
    }
}
