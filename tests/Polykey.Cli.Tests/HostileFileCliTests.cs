using System.Text;

namespace Polykey.Cli.Tests;

/// <summary>
/// Issue 9 through the installed pk and real tools: bytes that `tar -r` appends are reported and
/// kept, never erased by the next write; a swapped owner key is refused; a format-1 keynode
/// points at `pk upgrade`.
/// </summary>
public sealed class HostileFileCliTests : IDisposable
{
    private readonly TestKeynode _node = new TestKeynode().Init();

    private string HistoryId() =>
        PkProcess.Run("tar", ["-tf", _node.Path]).Text.Split('\n')
            .First(l => l.StartsWith("refs/secrets/", StringComparison.Ordinal) && l.Length == "refs/secrets/".Length + 32)["refs/secrets/".Length..];

    [Fact]
    public void TarAppendedUnsignedCommit_IsReportedByVerify_AndKeptByTheNextWrite()
    {
        Pk.Ok(_node.Set("prod/db", "good"));
        string id = HistoryId();
        string repo = Path.Combine(_node.Directory, "repo");
        Directory.CreateDirectory(repo);
        Pk.Ok(PkProcess.Run("tar", ["-xf", _node.Path, "-C", repo]));
        string tip = File.ReadAllText(Path.Combine(repo, "refs", "secrets", id)).Trim();
        string tree = Pk.Ok(PkProcess.Run("git", ["--git-dir", repo, "rev-parse", tip + "^{tree}"])).Text.Trim();
        string forged = Pk.Ok(PkProcess.Run("git", ["--git-dir", repo, "commit-tree", tree, "-p", tip, "-m", "polykey version"],
            env: new Dictionary<string, string> { ["GIT_AUTHOR_NAME"] = "m", ["GIT_AUTHOR_EMAIL"] = "m@x", ["GIT_COMMITTER_NAME"] = "m", ["GIT_COMMITTER_EMAIL"] = "m@x" })).Text.Trim();
        File.WriteAllText(Path.Combine(repo, "refs", "secrets", id), forged + "\n");
        Pk.Ok(PkProcess.Run("tar", ["-rf", _node.Path, "-C", repo, $"objects/{forged[..2]}/{forged[2..]}", $"refs/secrets/{id}"]));
        byte[] tampered = File.ReadAllBytes(_node.Path);
        int appendedEnd = tampered.AsSpan().LastIndexOfAnyExcept((byte)0) + 1;

        Assert.Equal("good", Encoding.UTF8.GetString(_node.Get("prod/db")));
        PkResult verify = _node.Run("verify");
        Assert.Equal(1, verify.ExitCode);
        Assert.Contains("belong to no change", verify.Text);

        Pk.Ok(_node.Set("prod/db", "next"));
        byte[] after = File.ReadAllBytes(_node.Path);
        Assert.True(after.AsSpan(0, appendedEnd).SequenceEqual(tampered.AsSpan(0, appendedEnd)), "the write overwrote the appended bytes");
        Assert.Equal("next", Encoding.UTF8.GetString(_node.Get("prod/db")));
        Assert.Contains("belong to no change", _node.Run("verify").Text);
        // tar still reads the whole archive, the appended members and the new change alike.
        string[] names = PkProcess.Run("tar", ["-tf", _node.Path]).Text.Split('\n');
        Assert.Contains($"objects/{forged[..2]}/{forged[2..]}", names);
        Assert.Equal(3, names.Count(n => n == "polykey/txn"));
    }

    [Fact]
    public void MidFileDamage_EveryCommandNamesTheByte_AndTheFileIsUntouched()
    {
        for (int i = 0; i < 5; i++) Pk.Ok(_node.Set($"prod/s{i}", $"value {i}"));
        byte[] bytes = File.ReadAllBytes(_node.Path);
        int at = bytes.Length / 2;
        byte[] damaged = [.. bytes[..at], .. "inserted"u8.ToArray(), .. bytes[at..]]; // breaks the 512-byte grid
        File.WriteAllBytes(_node.Path, damaged);
        string before = _node.FileHash();
        foreach (string[] command in new[] { new[] { "ls" }, ["get", "prod/s0"], ["verify"], ["set", "prod/s9"] })
        {
            PkResult result = command[0] == "set" ? _node.Set("prod/s9", "x") : _node.Run(command);
            Pk.Fails(result, 1, "is corrupt at byte");
        }
        Assert.Equal(before, _node.FileHash());
    }

    public void Dispose() => _node.Dispose();
}
