using System.Security.Cryptography;
using System.Text;

namespace Polykey.Cli.Tests;

/// <summary>
/// A throw-away directory with one keynode in it, made by the real pk. Each test gets its own;
/// the directory is deleted afterwards.
/// </summary>
public sealed class TestKeynode : IDisposable
{
    public const string Passphrase = "correct horse battery staple";

    public TestKeynode(string name = "node")
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("pk-test-").FullName;
        Path = System.IO.Path.Combine(Directory, name + ".keynode");
        PassphraseFile = System.IO.Path.Combine(Directory, "passphrase");
        File.WriteAllText(PassphraseFile, Passphrase + "\n");
    }

    public string Directory { get; }
    public string Path { get; }
    public string PassphraseFile { get; }
    public string? IdentityFile { get; private set; }

    /// <summary>Creates the keynode; with <paramref name="keyFile"/>, also exports the owner key so later calls skip the passphrase.</summary>
    public TestKeynode Init(bool keyFile = true, string label = "test-admin")
    {
        Pk.Ok(Pk.Run(WithPassphrase("init", "--name", label)));
        if (keyFile)
        {
            IdentityFile = System.IO.Path.Combine(Directory, "owner.key");
            Pk.Ok(Pk.Run(WithPassphrase("identity", "export", "--secret", "-o", IdentityFile)));
        }
        return this;
    }

    /// <summary>From now on, unlock with this key file (a read-only credential, say).</summary>
    public void UseIdentityFile(string path) => IdentityFile = path;

    /// <summary>Arguments for this keynode, unlocked by the key file when there is one, else the passphrase file.</summary>
    public string[] Args(params string[] args) =>
        IdentityFile is null ? WithPassphrase(args) : ["-k", Path, "--identity-file", IdentityFile, .. args];

    // Global options go first so that arguments after `--` stay the user's.
    public string[] WithPassphrase(params string[] args) => ["-k", Path, "--passphrase-file", PassphraseFile, .. args];

    public PkResult Run(params string[] args) => PkProcess.Pk(Args(args));

    public PkResult Set(string path, byte[] value) => PkProcess.Pk(Args("set", path), value);

    public PkResult Set(string path, string value) => Set(path, Encoding.UTF8.GetBytes(value));

    public byte[] Get(string path, params string[] extra) => Pk.Ok(PkProcess.Pk(Args(["get", path, .. extra]))).Stdout;

    public string FileHash() => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Path)));

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>Short assertions on pk results that show stderr when they fail.</summary>
public static class Pk
{
    public static PkResult Run(string[] args, byte[]? stdin = null) => PkProcess.Pk(args, stdin);

    public static PkResult Ok(PkResult result)
    {
        Assert.True(result.ExitCode == 0, $"expected success: {result}");
        return result;
    }

    /// <summary>A clear failure: the exit code, one `pk: error:` line naming the problem, no stack trace.</summary>
    public static PkResult Fails(PkResult result, int exitCode, string messagePart)
    {
        Assert.True(result.ExitCode == exitCode, $"expected exit {exitCode}: {result}");
        string[] lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("pk: error: ", lines[0]);
        Assert.Contains(messagePart, lines[0]);
        Assert.All(lines.Skip(1), l => Assert.StartsWith("pk: hint: ", l));
        Assert.DoesNotContain("   at ", result.Stderr);
        return result;
    }
}
