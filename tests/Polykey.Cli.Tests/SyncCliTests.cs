using System.Text;
using System.Text.Json;

namespace Polykey.Cli.Tests;

/// <summary>
/// Scenarios S5, S8 and S9 and the sync stories of issue 10 over keynode paths, with the real
/// pk on both ends and tar and git to look inside the files.
/// </summary>
public sealed class SyncCliTests : IDisposable
{
    private readonly TestKeynode _admin = new TestKeynode("admin").Init(label: "admin");
    private readonly TestKeynode _server = new TestKeynode("server").Init(label: "server-b");
    private readonly string _serverPublic;

    public SyncCliTests()
    {
        _serverPublic = Path.Combine(_admin.Directory, "server.pub");
        File.WriteAllBytes(_serverPublic, Pk.Ok(_server.Run("identity", "export")).Stdout);
        Pk.Ok(_admin.Set("prod/db/password", "prod-db"));
        Pk.Ok(_admin.Set("prod/api/key", "prod-api"));
        Pk.Ok(_admin.Set("staging/db/password", "staging-db"));
    }

    private string Fingerprint(TestKeynode node) =>
        JsonDocument.Parse(Pk.Ok(node.Run("identity", "show", "--json")).Stdout).RootElement.GetProperty("fingerprint").GetString()!;

    private string[] List(TestKeynode node) => Pk.Ok(node.Run("ls")).Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private string Value(TestKeynode node, string path) => Encoding.UTF8.GetString(node.Get(path));

    // The admin shares prod/** with the server, which trusts the admin for prod/** only.
    private void Share(string rights = "--read")
    {
        Pk.Ok(_admin.Run("grant", _serverPublic, "prod/**", rights));
        PkResult added = Pk.Ok(_server.Run("remote", "add", "admin", _admin.Path, "--paths", "prod/**"));
        Assert.Contains(Fingerprint(_admin), added.Stderr);
        Pk.Ok(_admin.Run("remote", "add", "server", _server.Path));
    }

    [Fact]
    public void S5_PushedSubset_HoldsExactlyProd_NoOtherCiphertext_AndMountsReadOnly()
    {
        Share();
        PkResult pushed = Pk.Ok(_admin.Run("push", "server", "--json"));
        JsonElement report = JsonDocument.Parse(pushed.Stdout).RootElement;
        Assert.Equal(["prod/api/key", "prod/db/password"], report.GetProperty("sent").EnumerateArray()
            .Select(e => e.GetProperty("path").GetString()!).Where(p => !p.StartsWith('(')).Order());
        Assert.Equal(["prod/api/key", "prod/db/password"], List(_server));
        Assert.Equal("prod-db", Value(_server, "prod/db/password"));

        // Byte-wise: no object of the staging secret's history is in the server's file.
        string stagingId = JsonDocument.Parse(Pk.Ok(_admin.Run("ls", "--json")).Stdout).RootElement.EnumerateArray()
            .Single(e => e.GetProperty("path").GetString() == "staging/db/password").GetProperty("id").GetString()!;
        string repo = Directory.CreateDirectory(Path.Combine(_admin.Directory, "repo")).FullName;
        Assert.Equal(0, PkProcess.Run("tar", ["-xf", _admin.Path, "-C", repo]).ExitCode);
        string[] objects = PkProcess.Run("git", ["--git-dir", repo, "rev-list", "--objects", "refs/secrets/" + stagingId]).Text
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]).ToArray();
        Assert.Equal(3, objects.Length); // commit, tree, blob
        string serverMembers = PkProcess.Run("tar", ["-tf", _server.Path]).Text;
        byte[] serverBytes = File.ReadAllBytes(_server.Path);
        foreach (string id in objects)
        {
            Assert.DoesNotContain($"objects/{id[..2]}/{id[2..]}", serverMembers);
            byte[] stored = File.ReadAllBytes(Path.Combine(repo, "objects", id[..2], id[2..]));
            Assert.Equal(-1, serverBytes.AsSpan().IndexOf(stored));
        }
        Assert.Equal(-1, serverBytes.AsSpan().IndexOf("staging-db"u8));

        using var mount = new TestMount(_server, "--read-only");
        Assert.Equal("prod-db", File.ReadAllText(mount["prod/db/password"]));
        Assert.Equal("prod-api", File.ReadAllText(mount["prod/api/key"]));
        Assert.False(Directory.Exists(mount["staging"]));
        Pk.Ok(_server.Run("verify"));
    }

    [Theory]
    [InlineData("push")]
    [InlineData("pull")]
    public void S7_AMountedKeynodeThatReceives_ShowsTheNewValueWithinOneSecond_NoTornRead_HookOnce(string how)
    {
        string oldValue = new string('o', 4000), newValue = new string('n', 3000);
        Pk.Ok(_admin.Set("prod/db/password", oldValue));
        Share();
        Pk.Ok(_admin.Run("push"));
        string hookLog = Path.Combine(_server.Directory, "hook.log");
        using var mount = new TestMount(_server, "--read-only", "--on-change", $"printf '%s;' \"$PK_CHANGED_PATHS\" >> '{hookLog}'");
        using var reader = new LiveReader(mount["prod/db/password"], oldValue, newValue);
        Pk.Ok(_admin.Set("prod/db/password", newValue));
        Pk.Ok(how == "push" ? _admin.Run("push", "server") : _server.Run("pull", "admin"));
        reader.AssertNewValueWithinOneSecondOf(DateTime.UtcNow);
        Assert.Equal("prod/db/password;", LiveReader.HookLog(hookLog));
    }

    [Fact]
    public void Progress_IsABarOnATerminal_AndNothingWhenStderrIsNot()
    {
        Share();
        string[] asClone(string file, params string[] args) => ["-k", Path.Combine(_server.Directory, file), "--identity-file", _server.IdentityFile!, .. args];
        string[] cloneInto(string file) => asClone(file, "clone", _admin.Path, "--fingerprint", Fingerprint(_admin));

        // Piped: pull, push and clone draw nothing, and still move the histories.
        PipedProgress.DrawsNothing(_server.Args("pull"));
        Assert.Equal("prod-db", Value(_server, "prod/db/password"));
        Pk.Ok(_admin.Set("prod/db/password", "pushed"));
        PipedProgress.DrawsNothing(_admin.Args("push", "server"));
        Assert.Equal("pushed", Value(_server, "prod/db/password"));
        PipedProgress.DrawsNothing(cloneInto("piped-clone.keynode"));
        Assert.Equal("prod/api/key\nprod/db/password\n", Pk.Ok(Pk.Run(asClone("piped-clone.keynode", "ls"))).Text);

        // On a terminal: a bar for each, left at 100% when done.
        Pk.Ok(_admin.Set("prod/db/password", "pulled"));
        string pull = TmuxSession.ScreenAfter([PkProcess.Binary, .. _server.Args("pull", "admin")]);
        Assert.Contains("pull from admin", pull);
        Assert.Contains("100%", pull);
        Assert.Equal("pulled", Value(_server, "prod/db/password"));

        Pk.Ok(_admin.Set("prod/api/key", "pushed on a terminal"));
        string push = TmuxSession.ScreenAfter([PkProcess.Binary, .. _admin.Args("push", "server")]);
        Assert.Contains("push to server", push);
        Assert.Contains("100%", push);
        Assert.Equal("pushed on a terminal", Value(_server, "prod/api/key"));

        string clone = TmuxSession.ScreenAfter([PkProcess.Binary, .. cloneInto("clone.keynode")]);
        Assert.Contains("clone", clone);
        Assert.Contains("100%", clone);
        Assert.Equal("prod/api/key\nprod/db/password\n", Pk.Ok(Pk.Run(asClone("clone.keynode", "ls"))).Text);
    }

    [Fact]
    public void PullEvery_KeepsPulling_AndStopsCleanlyOnSigterm()
    {
        Share();
        var start = new System.Diagnostics.ProcessStartInfo(PkProcess.Binary) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string arg in _server.Args("pull", "admin", "--every", "1s")) start.ArgumentList.Add(arg);
        using var puller = System.Diagnostics.Process.Start(start)!;
        Task<string> errors = puller.StandardError.ReadToEndAsync();
        try
        {
            Pk.Ok(_admin.Set("prod/db/password", "second"));
            bool arrived = false;
            for (int i = 0; i < 100 && !arrived; i++)
            {
                Thread.Sleep(100);
                arrived = List(_server).Contains("prod/db/password") && Value(_server, "prod/db/password") == "second";
            }
            Assert.True(arrived, "the looping pull never brought the new value");
        }
        finally
        {
            PkProcess.Run("kill", ["-TERM", puller.Id.ToString()]);
            Assert.True(puller.WaitForExit(5000), "pk pull --every did not stop on SIGTERM");
        }
        Assert.Equal(0, puller.ExitCode);
        Assert.DoesNotContain("error", errors.Result);
    }

    [Fact]
    public void Pull_ByName_AgainIsUpToDate_AndAnUntrustedPathIsRefused()
    {
        Share();
        Pk.Ok(_server.Run("pull", "admin"));
        Assert.Equal(["prod/api/key", "prod/db/password"], List(_server));
        JsonElement again = JsonDocument.Parse(Pk.Ok(_server.Run("pull", "--json")).Stdout).RootElement;
        Assert.Empty(again.GetProperty("received").EnumerateArray());

        using var stranger = new TestKeynode("stranger").Init(label: "stranger");
        string hash = _server.FileHash();
        Pk.Fails(_server.Run("pull", stranger.Path), 4, "does not trust keynode");
        Assert.Equal(hash, _server.FileHash());
    }

    [Fact]
    public void WriteGrant_ServerSetsAndPushes_AdminShowsServerAsSigner()
    {
        Pk.Ok(_admin.Run("grant", _serverPublic, "prod/app/*", "--read", "--write"));
        Pk.Ok(_admin.Set("prod/app/token", "t1"));
        Share();
        Pk.Ok(_server.Run("pull"));
        Pk.Ok(_server.Set("prod/app/token", "t2-from-server"));
        Pk.Ok(_server.Run("push"));
        Assert.Equal("t2-from-server", Value(_admin, "prod/app/token"));
        JsonElement last = JsonDocument.Parse(Pk.Ok(_admin.Run("log", "prod/app/token", "--json")).Stdout).RootElement.EnumerateArray().Last();
        Assert.Equal(Fingerprint(_server), last.GetProperty("signer").GetString());
        Pk.Ok(_admin.Run("verify"));
    }

    [Fact]
    public void S9_NoWriteGrant_WriteAndPushAreRefused_AdminIntact()
    {
        Share();
        Pk.Ok(_server.Run("pull"));
        string hash = _admin.FileHash();
        Pk.Fails(_server.Set("prod/db/password", "tampered"), 4, "no write on it");
        Pk.Ok(_server.Run("push"));
        Assert.Equal(hash, _admin.FileHash());
        Assert.Equal("prod-db", Value(_admin, "prod/db/password"));
        Pk.Ok(_admin.Run("verify"));
    }

    [Fact]
    public void S8_AfterRevocation_NewVersionsNeverReachTheServer_AndItsWritesAreRefused()
    {
        Share();
        Pk.Ok(_admin.Run("grant", _serverPublic, "prod/**", "--write"));
        Pk.Ok(_admin.Run("push"));
        Pk.Ok(_admin.Run("revoke", _serverPublic));
        Pk.Ok(_admin.Set("prod/db/password", "rotated-after-revocation"));
        Pk.Ok(_admin.Run("push"));
        Assert.Equal("prod-db", Value(_server, "prod/db/password"));
        Assert.Equal(-1, File.ReadAllBytes(_server.Path).AsSpan().IndexOf("rotated-after-revocation"u8));
        Pk.Fails(_server.Set("prod/api/key", "from-revoked"), 4, "no write on it");
        Assert.Equal("prod-api", Value(_admin, "prod/api/key"));
    }

    [Fact]
    public void Conflict_PullExits5_BothVersionsReadable_OthersSynced_ResolveSettlesIt()
    {
        Pk.Ok(_admin.Run("grant", _serverPublic, "prod/db/*", "--write"));
        Share();
        Pk.Ok(_server.Run("pull"));
        Pk.Ok(_admin.Set("prod/db/password", "admin-side"));
        Pk.Ok(_admin.Set("prod/api/key", "api-2"));
        Pk.Ok(_server.Set("prod/db/password", "server-side"));

        PkResult pushed = _server.Run("push", "--json");
        Assert.Equal(5, pushed.ExitCode);
        PkResult pulled = _server.Run("pull", "--json");
        Assert.Equal(5, pulled.ExitCode);
        JsonElement conflict = JsonDocument.Parse(pulled.Stdout).RootElement.GetProperty("conflicts").EnumerateArray().Single();
        Assert.Equal("prod/db/password", conflict.GetProperty("path").GetString());
        Assert.Equal("api-2", Value(_server, "prod/api/key"));
        Assert.Equal("server-side", Value(_server, "prod/db/password"));
        Assert.Equal("admin-side", Encoding.UTF8.GetString(_server.Get("prod/db/password", "--theirs")));
        Assert.Contains("prod/db/password", Pk.Ok(_server.Run("resolve")).Text);

        Pk.Ok(_server.Run("resolve", "prod/db/password", "--ours"));
        Assert.Empty(Pk.Ok(_server.Run("resolve")).Text);
        Pk.Ok(_server.Run("push"));
        Assert.Equal("server-side", Value(_admin, "prod/db/password"));
        Pk.Ok(_admin.Run("verify"));
        Pk.Ok(_server.Run("verify"));
    }

    [Fact]
    public void Clone_WithAMachineKeyFile_HoldsWhatItMayRead_WithTheRemoteAdded()
    {
        Pk.Ok(_admin.Run("grant", _serverPublic, "prod/**", "--read"));
        string clone = Path.Combine(_server.Directory, "clone.keynode");
        PkResult cloned = Pk.Ok(Pk.Run(["-k", clone, "--identity-file", _server.IdentityFile!, "clone", _admin.Path, "--fingerprint", Fingerprint(_admin)]));
        Assert.Contains(Fingerprint(_admin), cloned.Stderr);
        string[] args = ["-k", clone, "--identity-file", _server.IdentityFile!];
        Assert.Equal("prod/api/key\nprod/db/password\n", Pk.Ok(Pk.Run([.. args, "ls"])).Text);
        JsonElement remote = JsonDocument.Parse(Pk.Ok(Pk.Run([.. args, "remote", "ls", "--json"])).Stdout).RootElement.EnumerateArray().Single();
        Assert.Equal("origin", remote.GetProperty("name").GetString());
        Assert.Equal(Fingerprint(_admin), remote.GetProperty("owner").GetString());
    }

    [Fact]
    public void BadRemotes_GiveOneClearLine_AndChangeNothing()
    {
        string hash = _server.FileHash();
        string notKeynode = Path.Combine(_server.Directory, "not.keynode");
        File.WriteAllText(notKeynode, "hello");
        Pk.Fails(_server.Run("remote", "add", "x", notKeynode), 1, "is not a keynode");
        Pk.Fails(_server.Run("remote", "add", "x", Path.Combine(_server.Directory, "missing.keynode")), 3, "no keynode at");
        Pk.Fails(_server.Run("remote", "add", "x", _admin.Path, "--fingerprint", new string('A', 40)), 4, "is owned by");
        Pk.Fails(_server.Run("remote", "add", "../x", _admin.Path), 2, "is not a remote name");
        Pk.Fails(_server.Run("pull"), 2, "has no remote");
        // The wrong key for this keynode: refused before anything is read from the remote.
        Pk.Fails(Pk.Run(["-k", _server.Path, "--identity-file", _admin.IdentityFile!, "pull", _admin.Path]), 4, "holds no key for");
        Assert.Equal(hash, _server.FileHash());

        // The remote's file replaced by another keynode: refused before anything moves.
        Pk.Ok(_server.Run("remote", "add", "admin", _admin.Path));
        hash = _server.FileHash();
        string saved = _admin.Path + ".saved";
        File.Move(_admin.Path, saved);
        using (var other = new TestKeynode("other").Init(label: "impostor")) File.Copy(other.Path, _admin.Path);
        Pk.Fails(_server.Run("pull", "admin"), 4, "now holds keynode");
        Assert.Equal(hash, _server.FileHash());
    }

    [Fact]
    public void PullIntoAFullDisk_FailsWithOneLine_KeynodeUnchanged_ThenSucceedsWithRoom()
    {
        Share();
        Pk.Ok(_admin.Set("prod/big", new string('b', 200 * 1024)));
        using SmallDisk? disk = SmallDisk.TryCreate(_server.Directory, _server.Path, 512, free: 64 * 1024);
        if (disk is null) return;
        string keynode = disk.Keynode;
        string[] args = ["-k", keynode, "--identity-file", _server.IdentityFile!];
        byte[] before = File.ReadAllBytes(keynode);
        Pk.Fails(Pk.Run([.. args, "pull", "admin"]), 1, "no space left on device");
        Assert.Equal(before, File.ReadAllBytes(keynode));

        File.Delete(disk.Filler);
        Pk.Ok(Pk.Run([.. args, "pull", "admin"]));
        Assert.Equal(200 * 1024, Pk.Ok(Pk.Run([.. args, "get", "prod/big"])).Stdout.Length);
        Pk.Ok(Pk.Run([.. args, "verify"]));
    }

    [Fact]
    public void Pull_WarnsWhenTheNewestAsOfStatementIsOlderThanMaxAge()
    {
        Pk.Ok(_admin.Run("grant", _serverPublic, "prod/**", "--read"));
        Pk.Ok(_server.Run("remote", "add", "admin", _admin.Path, "--max-age", "3s"));
        Pk.Ok(_admin.Run("remote", "add", "server", _server.Path));
        PkResult never = Pk.Ok(_server.Run("pull", "admin"));
        Assert.Contains("has never carried a signed \"as of\" statement", never.Stderr);

        Pk.Ok(_admin.Run("push", "server"));
        PkResult fresh = Pk.Ok(_server.Run("pull", "admin"));
        Assert.DoesNotContain("warning", fresh.Stderr);
        JsonElement remote = JsonDocument.Parse(Pk.Ok(_server.Run("remote", "ls", "--json")).Stdout).RootElement.EnumerateArray().Single();
        Assert.Equal(3, remote.GetProperty("maxAgeSeconds").GetInt32());
        Assert.True(remote.TryGetProperty("asOf", out _));

        Thread.Sleep(4000);
        PkResult stale = Pk.Ok(_server.Run("pull", "admin"));
        Assert.Contains("older than its --max-age", stale.Stderr);
        Pk.Fails(_server.Run("remote", "add", "x", _admin.Path, "--max-age", "soon"), 2, "is not a duration");
    }

    [Fact]
    public void RefuseStale_PastMaxAge_GetAndMountRefuseTheOriginsSecrets_UntilAFreshStatementArrives()
    {
        Pk.Ok(_admin.Run("grant", _serverPublic, "prod/**", "--read"));
        Pk.Fails(_server.Run("remote", "add", "admin", _admin.Path, "--refuse-stale"), 2, "--refuse-stale needs --max-age");
        Pk.Ok(_server.Run("remote", "add", "admin", _admin.Path, "--paths", "prod/**", "--max-age", "3s", "--refuse-stale"));
        Pk.Ok(_admin.Run("remote", "add", "server", _server.Path));
        Pk.Ok(_server.Set("local/token", "server-own"));
        Pk.Ok(_admin.Run("push", "server"));
        Assert.Equal("prod-db", Value(_server, "prod/db/password"));
        JsonElement remote = JsonDocument.Parse(Pk.Ok(_server.Run("remote", "ls", "--json")).Stdout).RootElement.EnumerateArray().Single();
        Assert.True(remote.GetProperty("refuseStale").GetBoolean());

        using var mount = new TestMount(_server, "--read-only");
        Assert.Equal("prod-db", File.ReadAllText(mount["prod/db/password"]));
        Thread.Sleep(4000);

        // The relay (here: nobody pushing) went quiet for longer than allowed: fail closed.
        PkResult refused = Pk.Fails(_server.Run("get", "prod/db/password"), 4, "refused (--refuse-stale)");
        Assert.Contains("older than remote admin's --max-age 3s", refused.Stderr);
        Assert.DoesNotContain("prod-db", refused.Stderr + refused.Text);
        Assert.Throws<UnauthorizedAccessException>(() => File.ReadAllText(mount["prod/db/password"]));
        Assert.Equal("server-own", Value(_server, "local/token")); // its own secrets are not the origin's
        Assert.Equal("server-own", File.ReadAllText(mount["local/token"]));
        Assert.Contains("prod/db/password", List(_server)); // names are still listed; values are what is refused
        PkResult stale = Pk.Ok(_server.Run("pull", "admin"));
        Assert.Contains("its secrets are refused (--refuse-stale)", stale.Stderr);

        // The owner's next push carries a fresh statement: served again, through the running mount too.
        Pk.Ok(_admin.Set("prod/db/password", "prod-db-2"));
        Pk.Ok(_admin.Run("push", "server"));
        Assert.Equal("prod-db-2", Value(_server, "prod/db/password"));
        Assert.True(SpinWait.SpinUntil(() =>
        {
            try { return File.ReadAllText(mount["prod/db/password"]) == "prod-db-2"; }
            catch (UnauthorizedAccessException) { return false; }
        }, 3000));
        Pk.Ok(_server.Run("verify"));
    }

    [Fact]
    public void RemoteWhoseOwnerChanged_IsRefusedLoudly_NothingMoves()
    {
        Share();
        Pk.Ok(_server.Run("pull", "admin"));
        string hash = _server.FileHash();
        // A keynode with the admin's id but another owner, put where the admin's file was.
        string id = JsonDocument.Parse(Pk.Ok(_server.Run("remote", "ls", "--json")).Stdout).RootElement.EnumerateArray().Single().GetProperty("keynode").GetString()!;
        var impostor = Core.Crypto.SecretIdentity.Generate("impostor");
        var members = new List<Core.Storage.PendingMember>
        {
            new(Core.Storage.KeynodeLayout.HeaderMember, Core.Storage.KeynodeLayout.Header(id)),
            new(Core.Storage.KeynodeLayout.OwnerPublicKeyMember, impostor.Public.ToBinary()),
        };
        members.AddRange(Core.Storage.KeynodeLayout.GitSkeleton());
        File.Delete(_admin.Path);
        Core.Storage.KeynodeFile.Create(_admin.Path, members, DateTimeOffset.UtcNow).Dispose();
        Pk.Fails(_server.Run("pull", "admin"), 4, "changed");
        Assert.Equal(hash, _server.FileHash());
    }

    [Fact]
    public void KilledPulls_LeaveAllOfATransferOrNone()
    {
        Share();
        var random = new Random(7);
        string[] paths = ["prod/big/a", "prod/big/b", "prod/big/c"];
        string previous = "none";
        for (int run = 0; run < 20; run++)
        {
            string value = $"run-{run}-" + new string((char)('a' + run % 26), 1 << 20);
            foreach (string path in paths) Pk.Ok(_admin.Set(path, value));
            PkProcess.KilledAfter(_server.Args("pull"), random.Next(0, 500));
            // Verify passes, except that it names what killed appends left (after the last change, or, once a
            // later pull wrote past them, between two changes): bytes every reader ignores.
            PkResult verify = _server.Run("verify");
            string[] problems = verify.Text.Split('\n').Where(l => l.StartsWith("problem: ")).ToArray();
            Assert.True(verify.ExitCode == 0 || problems.All(p => p.Contains("belong to no change: an unfinished write")), $"run {run}: {verify}");
            string[] seen = paths.Select(p => List(_server).Contains(p) ? Value(_server, p)[..7] : "none").Distinct().ToArray();
            Assert.True(seen.Length == 1, $"run {run}: a torn transfer: {string.Join(", ", seen)}");
            // A pull brings the newest tips whole, or nothing: the state is this run's or what it was.
            Assert.True(seen[0] == previous || seen[0] == value[..7], $"run {run}: {seen[0]}, before {previous}");
            previous = seen[0];
        }
    }

    public void Dispose()
    {
        _admin.Dispose();
        _server.Dispose();
    }
}
