using System.Text;

namespace Polykey.Cli.Tests;

/// <summary>
/// Scenario S6 through a plain bare git repository as relay, served by a real `git daemon` and
/// by file://, with the real pk and git on both ends: only what B may read reaches B, and the
/// relay never holds a plaintext value.
/// </summary>
public sealed class GitRelayTests : IDisposable
{
    private const string ProdValue = "prod-value-4c1d9e";
    private const string StagingValue = "staging-value-8b2f7a";

    private readonly TestKeynode _a = new TestKeynode("a").Init(label: "admin-a");
    private readonly TestKeynode _b = new TestKeynode("b").Init(label: "server-b");
    private readonly string _root = Directory.CreateTempSubdirectory("pk-relay-").FullName;
    private readonly GitDaemon _daemon;

    public GitRelayTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "relays"));
        _daemon = new GitDaemon(Path.Combine(_root, "relays"));
        string bPublic = Path.Combine(_a.Directory, "b.pub");
        File.WriteAllBytes(bPublic, Pk.Ok(_b.Run("identity", "export")).Stdout);
        Pk.Ok(SetA("prod/db/password", ProdValue));
        Pk.Ok(SetA("staging/db/password", StagingValue));
        Pk.Ok(A("grant", bPublic, "prod/**", "--read"));
    }

    // Each side has its own cache and state directories, as two machines would.
    private Dictionary<string, string> Env(string who) => new()
    {
        ["XDG_CACHE_HOME"] = Path.Combine(_root, "cache-" + who),
        ["XDG_STATE_HOME"] = Path.Combine(_root, "state-" + who),
    };

    private PkResult A(params string[] args) => PkProcess.Pk(_a.Args(args), env: Env("a"));

    private PkResult B(params string[] args) => PkProcess.Pk(_b.Args(args), env: Env("b"));

    private PkResult SetA(string path, string value) => PkProcess.Pk(_a.Args("set", path), Encoding.UTF8.GetBytes(value), Env("a"));

    /// <summary>A new empty bare repository and the URL that reaches it by <paramref name="how"/>.</summary>
    private string NewRelay(string how, string name = "relay")
    {
        string path = Path.Combine(_root, "relays", name + ".git");
        Assert.Equal(0, PkProcess.Run("git", ["init", "--bare", "--quiet", path]).ExitCode);
        return how == "git-daemon" ? _daemon.Url(name + ".git") : "file://" + path;
    }

    private string RelayPath(string name = "relay") => Path.Combine(_root, "relays", name + ".git");

    private static string Git(string gitDir, params string[] args)
    {
        PkResult result = PkProcess.Run("git", ["--git-dir", gitDir, .. args]);
        Assert.True(result.ExitCode == 0, $"git {string.Join(' ', args)}: {result}");
        return result.Text;
    }

    // Every byte a repository holds, raw and inflated (loose objects and packs are compressed).
    private static string Everything(string gitDir)
    {
        var all = new StringBuilder();
        foreach (string file in Directory.EnumerateFiles(gitDir, "*", SearchOption.AllDirectories))
            all.Append(Encoding.Latin1.GetString(File.ReadAllBytes(file)));
        all.Append(Encoding.Latin1.GetString(PkProcess.Run("git", ["--git-dir", gitDir, "cat-file", "--batch-all-objects", "--batch"]).Stdout));
        return all.ToString();
    }

    private void AssertNoPlaintext(string gitDir)
    {
        string all = Everything(gitDir);
        Assert.DoesNotContain(ProdValue, all);
        Assert.DoesNotContain(StagingValue, all);
        Assert.DoesNotContain("newer-prod", all);
    }

    private void PushFromA(string url)
    {
        Pk.Ok(A("remote", "add", "relay", url));
        Pk.Ok(A("push", "relay"));
    }

    [Theory]
    [InlineData("git-daemon")]
    [InlineData("file")]
    public void S6_ThroughRelay_BHoldsExactlyProd_RelayHoldsNoPlaintext(string how)
    {
        string url = NewRelay(how);
        PushFromA(url);
        Assert.Contains("refs/polykey/keynode", Git(RelayPath(), "for-each-ref"));

        Pk.Ok(B("remote", "add", "relay", url, "--paths", "prod/**"));
        PkResult pulled = Pk.Ok(B("pull", "relay"));
        Assert.Contains("prod/db/password", pulled.Stderr + pulled.Text);

        Assert.Equal(ProdValue, Encoding.UTF8.GetString(Pk.Ok(B("get", "prod/db/password")).Stdout));
        Assert.Equal("prod/db/password", Pk.Ok(B("ls")).Text.Trim());
        Pk.Fails(B("get", "staging/db/password"), 3, "staging/db/password");

        AssertNoPlaintext(RelayPath());
        foreach (string cache in Directory.EnumerateDirectories(_root, "*.git", SearchOption.AllDirectories).Where(d => d.Contains("cache-")))
            AssertNoPlaintext(cache);
        Pk.Ok(B("verify"));
    }

    [Fact]
    public void Clone_FromRelay_TakesWhatTheCloneMayRead()
    {
        string url = NewRelay("file");
        PushFromA(url);
        string clone = Path.Combine(_b.Directory, "clone.keynode");
        Pk.Ok(PkProcess.Pk(["-k", clone, "--identity-file", _b.IdentityFile!, "clone", url, "--paths", "prod/**"], env: Env("b")));
        Assert.Equal(ProdValue, Encoding.UTF8.GetString(Pk.Ok(PkProcess.Pk(["-k", clone, "--identity-file", _b.IdentityFile!, "get", "prod/db/password"], env: Env("b"))).Stdout));
    }

    // A pushes to a new relay reached by <paramref name="how"/>; B trusts it for prod/** and pulls once.
    private string RelayPulledByB(string how)
    {
        string url = NewRelay(how);
        PushFromA(url);
        Pk.Ok(B("remote", "add", "relay", url, "--paths", "prod/**"));
        Pk.Ok(B("pull", "relay"));
        return url;
    }

    [Fact]
    public void SecondPush_AfterAChangesAValue_FastForwards()
    {
        string url = RelayPulledByB("git-daemon");
        var before = Refs(RelayPath());

        Pk.Ok(SetA("prod/db/password", "newer-prod"));
        Pk.Ok(A("push", "relay"));
        var after = Refs(RelayPath());
        // The secret, and A's signed as-of statement (which moves with every push).
        string aId = System.Text.Json.JsonDocument.Parse(Pk.Ok(B("remote", "ls", "--json")).Stdout).RootElement.EnumerateArray().Single().GetProperty("keynode").GetString()!;
        string asOf = "refs/secrets/" + Core.Keynode.AsOfHistoryId(aId);
        string moved = Assert.Single(after.Keys.Where(r => r != asOf && before.TryGetValue(r, out string? old) && old != after[r]));
        Assert.NotEqual(before[asOf], after[asOf]);
        Assert.Equal(0, PkProcess.Run("git", ["--git-dir", RelayPath(), "merge-base", "--is-ancestor", before[moved], after[moved]]).ExitCode);

        Pk.Ok(B("pull", "relay"));
        Assert.Equal("newer-prod", Encoding.UTF8.GetString(Pk.Ok(B("get", "prod/db/password")).Stdout));
        AssertNoPlaintext(RelayPath());
    }

    [Fact]
    public void RelayCache_OfManyPacks_IsCompactedByThePull_AndStillServes()
    {
        RelayPulledByB("git-daemon"); // a relay on this machine is read in place: no cache
        string cache = Assert.Single(Directory.GetDirectories(Path.Combine(_root, "cache-b", "polykey", "relays")));
        // A machine pulling every 30 s for a while: one pack per fetch (here, one per stray object).
        const int maxCachePacks = 32; // GitRelay.MaxCachePacks
        for (int i = 0; i < maxCachePacks + 8; i++)
        {
            PkProcess.Run("sh", ["-c", $"echo stray-{i} | git --git-dir '{cache}' hash-object -w --stdin | git --git-dir '{cache}' pack-objects -q '{cache}/objects/pack/pack' >/dev/null"]);
        }
        int Packs() => Directory.GetFiles(Path.Combine(cache, "objects", "pack"), "*.pack").Length;
        Assert.True(Packs() > maxCachePacks, $"{Packs()} packs");

        Pk.Ok(SetA("prod/db/password", "after-many-packs"));
        Pk.Ok(A("push", "relay"));
        PkResult pulled = Pk.Ok(B("pull", "relay"));
        Assert.DoesNotContain("warning", pulled.Stderr);
        Assert.True(Packs() <= 2, $"{Packs()} packs after the pull");
        Assert.Equal("after-many-packs", Encoding.UTF8.GetString(Pk.Ok(B("get", "prod/db/password")).Stdout));
        Pk.Ok(B("pull", "relay")); // the compacted cache (refs packed too) is fetched into as before
        Pk.Ok(B("verify"));
    }

    // A git on PATH that writes each command it is asked for to a log, then runs the real one.
    private Dictionary<string, string> EnvLoggingGit(string who, out string log)
    {
        string bin = Directory.CreateDirectory(Path.Combine(_root, "logging-git-" + who)).FullName;
        log = Path.Combine(bin, "calls");
        string realGit = PkProcess.Run("sh", ["-c", "command -v git"]).Text.Trim();
        File.WriteAllText(Path.Combine(bin, "git"), $"#!/bin/sh\necho \"$*\" >> {Quote(log)}\nexec {Quote(realGit)} \"$@\"\n");
        File.SetUnixFileMode(Path.Combine(bin, "git"), (UnixFileMode)0b111_101_101);
        var env = Env(who);
        env["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH");
        return env;
    }

    [Fact]
    public void RelayOnThisMachine_IsReadInPlace_WithoutStartingGit()
    {
        RelayPulledByB("file");
        Pk.Ok(SetA("prod/db/password", "read-in-place"));
        Pk.Ok(A("push", "relay")); // a small push: git stores its objects loose

        var env = EnvLoggingGit("b", out string log);
        env["LD_DEBUG"] = "files"; // the dynamic loader names every library it loads
        PkResult pulled = Pk.Ok(PkProcess.Pk(_b.Args("pull", "relay"), env: env));
        Assert.Contains("prod/db/password", pulled.Stderr + pulled.Text);
        Assert.False(File.Exists(log), File.Exists(log) ? File.ReadAllText(log) : "");
        // Nor OpenSSL: loading it is several milliseconds of a pull that needs none of it.
        Assert.Contains("file=libc.so.6", pulled.Stderr);
        Assert.DoesNotContain("libssl", pulled.Stderr);
        Assert.DoesNotContain("libcrypto", pulled.Stderr);
        Assert.Equal("read-in-place", Encoding.UTF8.GetString(Pk.Ok(B("get", "prod/db/password")).Stdout));
        Pk.Ok(B("verify"));
    }

    [Fact]
    public void NetworkRelay_Pull_IsTheFetchAndOneCatFile_TheCachesRefsReadFromItsFiles()
    {
        RelayPulledByB("git-daemon");
        var env = EnvLoggingGit("b", out string log);
        // The cache's refs come from git's files, not a for-each-ref. (cat-file reads what B looks
        // at again each time: the staging history it may not read, packed in the cache.)
        Pk.Ok(PkProcess.Pk(_b.Args("pull", "relay"), env: env));
        Assert.Equal(["fetch", "cat-file"], GitCommands(log));

        File.Delete(log);
        Pk.Ok(SetA("prod/db/password", "over-the-network"));
        Pk.Ok(A("push", "relay"));
        Pk.Ok(PkProcess.Pk(_b.Args("pull", "relay"), env: env));
        Assert.Equal(["fetch", "cat-file"], GitCommands(log));
        Assert.Equal("over-the-network", Encoding.UTF8.GetString(Pk.Ok(B("get", "prod/db/password")).Stdout));
        Pk.Ok(B("verify"));
    }

    // The git command of each logged call, past git's own options (--git-dir D, -c K=V).
    private static List<string> GitCommands(string log) => File.ReadAllLines(log).Select(line =>
    {
        string[] words = line.Split(' ');
        int at = 0;
        while (at < words.Length && words[at] is "--git-dir" or "-c") at += 2;
        return at < words.Length ? words[at] : "";
    }).ToList();

    [Fact]
    public void RelayOnThisMachine_PackedByGitGc_IsReadThroughCatFileOnly()
    {
        RelayPulledByB("file");
        Pk.Ok(SetA("prod/db/password", "after-relay-gc"));
        Pk.Ok(A("push", "relay"));
        Git(RelayPath(), "gc", "--quiet", "--prune=now"); // objects into one pack, refs into packed-refs
        Assert.Empty(Directory.GetDirectories(Path.Combine(RelayPath(), "refs", "secrets")).Concat(Directory.GetFiles(Path.Combine(RelayPath(), "refs", "secrets"))));

        var env = EnvLoggingGit("b", out string log);
        Pk.Ok(PkProcess.Pk(_b.Args("pull", "relay"), env: env));
        Assert.Equal("--git-dir " + RelayPath() + " cat-file --batch", File.ReadAllText(log).Trim());
        Assert.Equal("after-relay-gc", Encoding.UTF8.GetString(Pk.Ok(B("get", "prod/db/password")).Stdout));
        Pk.Ok(B("verify"));
    }

    [Fact]
    public void RelayOnThisMachine_ALooseObjectSwappedForAnother_IsRefused_TheValueKept()
    {
        RelayPulledByB("file");
        var before = Refs(RelayPath());
        Pk.Ok(SetA("prod/db/password", "to-be-swapped"));
        Pk.Ok(A("push", "relay"));
        // Whoever can write the relay puts another object's bytes under the secret's new commit.
        string aId = System.Text.Json.JsonDocument.Parse(Pk.Ok(B("remote", "ls", "--json")).Stdout).RootElement.EnumerateArray().Single().GetProperty("keynode").GetString()!;
        string asOf = "refs/secrets/" + Core.Keynode.AsOfHistoryId(aId);
        string tip = Assert.Single(Refs(RelayPath()), r => r.Key != asOf && before.TryGetValue(r.Key, out string? old) && old != r.Value).Value;
        string other = Git(RelayPath(), "hash-object", "-w", "--stdin").Trim(); // the empty blob
        string tipFile = Path.Combine(RelayPath(), "objects", tip[..2], tip[2..]);
        File.SetUnixFileMode(tipFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Copy(Path.Combine(RelayPath(), "objects", other[..2], other[2..]), tipFile, overwrite: true);

        PkResult result = B("pull", "relay");
        Assert.Equal(4, result.ExitCode);
        Assert.Contains("refused history", result.Stderr);
        Assert.Contains(tip, result.Stderr);
        Assert.Equal(ProdValue, Encoding.UTF8.GetString(Pk.Ok(B("get", "prod/db/password")).Stdout));
        Pk.Ok(B("verify"));
    }

    [Theory]
    [InlineData("fifo")]
    [InlineData("symlink")]
    public void RelayOnThisMachine_AnObjectThatIsNoRegularFile_IsRefusedWithoutWaiting_TheValueKept(string kind)
    {
        RelayPulledByB("file");
        var before = Refs(RelayPath());
        Pk.Ok(SetA("prod/db/password", "never-taken"));
        Pk.Ok(A("push", "relay"));
        string aId = System.Text.Json.JsonDocument.Parse(Pk.Ok(B("remote", "ls", "--json")).Stdout).RootElement.EnumerateArray().Single().GetProperty("keynode").GetString()!;
        string asOf = "refs/secrets/" + Core.Keynode.AsOfHistoryId(aId);
        string tip = Assert.Single(Refs(RelayPath()), r => r.Key != asOf && before.TryGetValue(r.Key, out string? old) && old != r.Value).Value;
        string file = Path.Combine(RelayPath(), "objects", tip[..2], tip[2..]);
        File.Delete(file);
        // A FIFO nobody writes would block a plain open for ever; a link could point anywhere.
        if (kind == "fifo") Assert.Equal(0, PkProcess.Run("mkfifo", [file]).ExitCode);
        else File.CreateSymbolicLink(file, Path.Combine(_a.Directory, "b.pub"));

        var clock = System.Diagnostics.Stopwatch.StartNew();
        PkResult result = B("pull", "relay");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the pull took {clock.Elapsed}");
        Assert.Equal(4, result.ExitCode); // that history refused, the as-of statement taken
        Assert.Contains(kind == "fifo" ? $"object {tip} is not a regular file" : $"object {tip} is a symbolic link", result.Stderr);
        Assert.Equal(ProdValue, Encoding.UTF8.GetString(Pk.Ok(B("get", "prod/db/password")).Stdout));
        Pk.Ok(B("verify"));
    }

    private static Dictionary<string, string> Refs(string gitDir) =>
        Git(gitDir, "for-each-ref", "--format=%(refname) %(objectname)").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')).ToDictionary(p => p[0], p => p[1]);

    [Fact]
    public void RacingPushers_TheLateLeaseFails_NothingOfItLands()
    {
        string url = NewRelay("git-daemon");
        PushFromA(url);
        // A second machine with a copy of A's keynode changes the same secret.
        using var copy = new TestKeynode("a-copy");
        File.Copy(_a.Path, copy.Path);
        copy.UseIdentityFile(_a.IdentityFile!);
        Pk.Ok(SetA("prod/db/password", "from-a"));
        Pk.Ok(PkProcess.Pk(copy.Args("set", "prod/db/password"), Encoding.UTF8.GetBytes("from-copy"), Env("copy")));

        // The copy's git: just before its push, A's push lands (once), so the ref is no longer where the copy saw it.
        string bin = Directory.CreateDirectory(Path.Combine(_root, "race-bin")).FullName;
        string marker = Path.Combine(bin, "raced");
        string realGit = PkProcess.Run("sh", ["-c", "command -v git"]).Text.Trim();
        string[] pushArgs = [PkProcess.Binary, .. _a.Args("push", "relay")];
        string pushA = string.Join(" ", pushArgs.Select(Quote));
        File.WriteAllText(Path.Combine(bin, "git"),
            $"#!/bin/sh\ncase \" $* \" in *\" push \"*) if [ ! -e {Quote(marker)} ]; then touch {Quote(marker)}; " +
            $"env PATH={Quote(Environment.GetEnvironmentVariable("PATH")!)} XDG_CACHE_HOME={Quote(Env("a")["XDG_CACHE_HOME"])} XDG_STATE_HOME={Quote(Env("a")["XDG_STATE_HOME"])} {pushA} >/dev/null 2>&1; fi;; esac\n" +
            $"exec {Quote(realGit)} \"$@\"\n");
        File.SetUnixFileMode(Path.Combine(bin, "git"), (UnixFileMode)0b111_101_101);
        var env = Env("copy");
        env["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH");
        string relayBefore = Git(RelayPath(), "for-each-ref");

        Pk.Fails(PkProcess.Pk(copy.Args("push", "relay"), env: env), 5, "the relay changed while pushing");
        Assert.True(File.Exists(marker));
        Assert.NotEqual(relayBefore, Git(RelayPath(), "for-each-ref")); // A's push landed

        Pk.Ok(B("remote", "add", "relay", url, "--paths", "prod/**"));
        Pk.Ok(B("pull", "relay"));
        Assert.Equal("from-a", Encoding.UTF8.GetString(Pk.Ok(B("get", "prod/db/password")).Stdout));
    }

    private static string Quote(string text) => "'" + text.Replace("'", "'\\''") + "'";

    [Fact]
    public void NotAPkRelay_IsAClearError()
    {
        string url = NewRelay("file", "plain");
        string work = Path.Combine(_root, "work");
        Assert.Equal(0, PkProcess.Run("git", ["init", "--quiet", work]).ExitCode);
        Assert.Equal(0, PkProcess.Run("git", ["-C", work, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "--allow-empty", "-m", "x"]).ExitCode);
        Assert.Equal(0, PkProcess.Run("git", ["-C", work, "push", "--quiet", url, "HEAD:refs/heads/main"]).ExitCode);
        string hash = _b.FileHash();
        Pk.Fails(B("remote", "add", "relay", url), 1, "not a pk relay");
        Pk.Fails(B("pull", url), 1, "not a pk relay");
        Assert.Equal(hash, _b.FileHash());
    }

    [Theory]
    [InlineData("git-daemon")]
    [InlineData("file")]
    public void RelaySwappedForAnotherKeynode_IsRefused_NothingTaken(string how)
    {
        string url = NewRelay(how);
        PushFromA(url);
        Pk.Ok(B("remote", "add", "relay", url, "--paths", "prod/**"));
        Pk.Ok(B("pull", "relay"));
        // Someone with write access to the relay points it at another keynode's identity.
        using var other = new TestKeynode("other").Init(label: "mallory");
        string otherUrl = NewRelay("file", "other");
        Pk.Ok(PkProcess.Pk(other.Args("remote", "add", "relay", otherUrl), env: Env("other")));
        Pk.Ok(PkProcess.Pk(other.Args("set", "x"), Encoding.UTF8.GetBytes("x"), Env("other")));
        Pk.Ok(PkProcess.Pk(other.Args("push", "relay"), env: Env("other")));
        Git(RelayPath(), "fetch", "--quiet", RelayPath("other"), "+refs/polykey/keynode:refs/polykey/keynode");
        string hash = _b.FileHash();
        // Through a cache: the identity the cache knew differs; in place: not the keynode the remote names.
        PkResult refused = Pk.Fails(B("pull", "relay"), 4, how == "file" ? "now holds keynode" : "now carries keynode");
        Assert.Single(refused.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("pk: error:", StringComparison.Ordinal));
        Assert.Equal(hash, _b.FileHash());
    }

    [Fact]
    public void HostileRelay_OversizedCommit_IsRefused_TheRestLands()
    {
        string url = NewRelay("file");
        PushFromA(url);
        // A 2 MiB commit under a history name: more than any pk commit may hold.
        string tree = Git(RelayPath(), "hash-object", "-t", "tree", "-w", "--stdin").Trim();
        string message = Path.Combine(_root, "big-message");
        File.WriteAllText(message, new string('x', 2 << 20));
        string big = PkProcess.Run("sh", ["-c", $"git --git-dir {Quote(RelayPath())} -c user.name=m -c user.email=m@m commit-tree {tree} -F {Quote(message)}"]).Text.Trim();
        Git(RelayPath(), "update-ref", "refs/secrets/" + new string('e', 32), big);
        Git(RelayPath(), "update-ref", "refs/secrets/not-a-history-id", big);

        Pk.Ok(B("remote", "add", "relay", url, "--paths", "prod/**"));
        PkResult pulled = B("pull", "relay");
        Assert.Equal(4, pulled.ExitCode);
        // Its header says 2 MiB: refused before it is inflated, as too large for a commit or for what is stored.
        Assert.Contains($"refused history {new string('e', 8)}", pulled.Stderr);
        Assert.Contains(big, pulled.Stderr);
        Assert.Matches("more than (any pk commit|an object of its kind)", pulled.Stderr);
        Assert.Equal(ProdValue, Encoding.UTF8.GetString(Pk.Ok(B("get", "prod/db/password")).Stdout));
    }

    [Fact]
    public void EmptyRelay_CannotBeCloned()
    {
        string url = NewRelay("file");
        string clone = Path.Combine(_b.Directory, "clone.keynode");
        Pk.Fails(PkProcess.Pk(["-k", clone, "--identity-file", _b.IdentityFile!, "clone", url], env: Env("b")), 1, "empty git repository");
        Assert.False(File.Exists(clone));
    }

    [Theory]
    [InlineData("git-daemon")]
    [InlineData("file")]
    public void UnreachableRelay_OneClearLine_KeynodeByteIdentical(string how)
    {
        string url = NewRelay(how);
        PushFromA(url);
        Pk.Ok(B("remote", "add", "relay", url, "--paths", "prod/**"));
        Pk.Ok(B("pull", "relay"));
        string hash = _b.FileHash();
        if (how == "git-daemon") _daemon.Dispose();
        else Directory.Move(RelayPath(), RelayPath() + ".gone");

        PkResult result = Pk.Fails(B("pull", "relay"), 1, $"cannot reach {url}: ");
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("pk: error:", StringComparison.Ordinal));
        Assert.Equal(hash, _b.FileHash());
        Pk.Fails(A("push", "relay"), 1, $"cannot reach {url}: ");
    }

    [Fact]
    public void TokenInRelayUrl_IsNeverPrinted()
    {
        string hash = _b.FileHash();
        PkResult result = Pk.Fails(B("pull", $"https://deploy:s3cret-t0ken@127.0.0.1:{_daemon.Port}/relay.git"), 1, "cannot reach https://***@127.0.0.1");
        Assert.DoesNotContain("s3cret-t0ken", result.Stderr + result.Text);
        Assert.Equal(hash, _b.FileHash());
    }

    public void Dispose()
    {
        _daemon.Dispose();
        _a.Dispose();
        _b.Dispose();
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { }
    }
}
