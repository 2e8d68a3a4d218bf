using System.Text;

namespace Polykey.Cli.Tests;

/// <summary>Bad input fails clearly: one `pk: error:` line, the documented exit code, and the keynode untouched.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly TestKeynode _node = new TestKeynode().Init();

    public BadInputTests()
    {
        Pk.Ok(_node.Set("prod/db/password", "first-value"));
        Pk.Ok(_node.Set("prod/api/key", "second-value"));
    }

    [Fact]
    public void WrongPassphrase_ExitsFour_FileUntouched()
    {
        string before = _node.FileHash();
        string wrong = Path.Combine(_node.Directory, "wrong");
        File.WriteAllText(wrong, "not the passphrase\n");
        Pk.Fails(PkProcess.Pk(["get", "prod/db/password", "-k", _node.Path, "--passphrase-file", wrong]), 4, "wrong passphrase");
        Pk.Fails(PkProcess.Pk(["set", "prod/db/password", "-k", _node.Path, "--passphrase-file", wrong], "x"u8.ToArray()), 4, "wrong passphrase");
        Assert.Equal(before, _node.FileHash());
    }

    [Fact]
    public void NoPassphraseAndNoTerminal_ExitsFour()
    {
        Pk.Fails(PkProcess.Pk(["get", "prod/db/password", "-k", _node.Path]), 4, "no passphrase");
    }

    [Theory]
    [InlineData("")]
    [InlineData("random")]
    [InlineData("tar")]
    public void NotAKeynode_ExitsOne(string kind)
    {
        string path = Path.Combine(_node.Directory, "other.keynode");
        switch (kind)
        {
            case "":
                File.WriteAllBytes(path, []);
                break;
            case "random":
                File.WriteAllBytes(path, Enumerable.Range(0, 5000).Select(i => (byte)(i * 7919 % 251)).ToArray());
                break;
            default:
                File.WriteAllText(Path.Combine(_node.Directory, "note.txt"), "hello");
                Assert.Equal(0, PkProcess.Run("tar", ["-cf", path, "-C", _node.Directory, "note.txt"]).ExitCode);
                break;
        }
        byte[] before = File.ReadAllBytes(path);
        Pk.Fails(PkProcess.Pk(["ls", "-k", path, "--identity-file", _node.IdentityFile!]), 1, "is not a keynode file");
        Pk.Fails(PkProcess.Pk(["set", "a", "-k", path, "--identity-file", _node.IdentityFile!], "v"u8.ToArray()), 1, "is not a keynode file");
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void MissingKeynode_ExitsThree()
    {
        Pk.Fails(PkProcess.Pk(["ls", "-k", Path.Combine(_node.Directory, "absent.keynode"), "--identity-file", _node.IdentityFile!]), 3, "no keynode at");
    }

    [Fact]
    public void CorruptedMiddle_ExitsOne_FileUntouched()
    {
        byte[] bytes = File.ReadAllBytes(_node.Path);
        int target = FindFirstObjectData(bytes, skipChanges: 1) + 20;
        bytes[target] ^= 0x5A;
        File.WriteAllBytes(_node.Path, bytes);
        string before = _node.FileHash();
        // A reader without caches hashes every change and refuses the file, for reading and writing.
        var noCaches = new Dictionary<string, string> { ["XDG_CACHE_HOME"] = Path.Combine(_node.Directory, "no-cache-yet") };
        foreach (PkResult result in new[] { PkProcess.Pk(_node.Args("get", "prod/api/key"), env: noCaches), PkProcess.Pk(_node.Args("set", "prod/new"), "v"u8.ToArray(), env: noCaches) })
        {
            Pk.Fails(result, 1, "");
            Assert.Matches("corrupt at byte", result.Stderr);
        }
        // One that resumes from its open snapshot reads no old change again (format spec §8.4): it meets
        // the damage when it reads the damaged object (the first version written), and says so the same way.
        PkResult damaged = _node.Run("get", "prod/db/password");
        Pk.Fails(damaged, 1, "");
        Assert.Matches("corrupt at byte", damaged.Stderr);
        Assert.Contains("corrupt at byte", PkProcess.Pk(["verify", "-k", _node.Path, "--identity-file", _node.IdentityFile!]).Stderr);
        Assert.Equal(before, _node.FileHash());
    }

    [Fact]
    public void TruncatedInsideLastChange_OpensAsPreviousChange()
    {
        long beforeLast = new FileInfo(_node.Path).Length;
        Pk.Ok(_node.Set("prod/db/password", "third-value"));
        long after = new FileInfo(_node.Path).Length;
        using (var file = new FileStream(_node.Path, FileMode.Open)) file.SetLength((beforeLast + after) / 2);
        Assert.Equal("first-value"u8.ToArray(), _node.Get("prod/db/password"));
        Assert.Equal(1, Pk.Ok(_node.Run("log", "prod/db/password")).Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        // The next writer replaces the unfinished tail; the result is a clean archive again.
        Pk.Ok(_node.Set("prod/db/password", "fourth-value"));
        Assert.Equal("fourth-value"u8.ToArray(), _node.Get("prod/db/password"));
        Assert.Equal(0, PkProcess.Run("tar", ["-tf", _node.Path]).ExitCode);
    }

    [Fact]
    public void TruncatedInsideFirstChange_ExitsOne()
    {
        string path = Path.Combine(_node.Directory, "cut.keynode");
        File.WriteAllBytes(path, File.ReadAllBytes(_node.Path)[..1500]);
        Pk.Fails(PkProcess.Pk(["ls", "-k", path, "--identity-file", _node.IdentityFile!]), 1, "incomplete");
    }

    [Theory]
    [InlineData("../etc/passwd", "'..' segment")]
    [InlineData("a/../b", "'..' segment")]
    [InlineData("a//b", "empty segment")]
    [InlineData("/abs/path", "starts with '/'")]
    [InlineData("dir/", "ends with '/'")]
    [InlineData("a/./b", "'.' segment")]
    [InlineData("", "empty")]
    public void InvalidSecretPath_ExitsTwo_FileUntouched(string path, string reason)
    {
        string before = _node.FileHash();
        Pk.Fails(_node.Set(path, "v"), 2, reason);
        Pk.Fails(_node.Run("get", path), 2, reason);
        Pk.Fails(_node.Run("rm", path), 2, reason);
        Pk.Fails(_node.Run("mv", "prod/api/key", path), 2, reason);
        Assert.Equal(before, _node.FileHash());
    }

    [Fact]
    public void OverlongSecretPath_ExitsTwo()
    {
        string longest = string.Join('/', Enumerable.Repeat(new string('x', 50), 4)) + "/" + new string('y', 51);
        Assert.Equal(255, Encoding.UTF8.GetByteCount(longest));
        Pk.Ok(_node.Set(longest, "fits"));
        Pk.Fails(_node.Set(longest + "f", "v"), 2, "256 bytes long");
        Pk.Fails(_node.Set(new string('é', 128), "v"), 2, "256 bytes long");
    }

    [Fact]
    public void MissingSecret_ExitsThree()
    {
        Pk.Fails(_node.Run("get", "prod/nope"), 3, "no secret prod/nope");
        Pk.Fails(_node.Run("log", "prod/nope"), 3, "no secret prod/nope");
        Pk.Fails(_node.Run("rm", "prod/nope"), 3, "no secret prod/nope");
        Pk.Fails(_node.Run("get", "prod/db/password", "--version", "9"), 3, "no version 9");
    }

    [Fact]
    public void MoveOntoExistingSecret_ExitsFive()
    {
        string before = _node.FileHash();
        Pk.Fails(_node.Run("mv", "prod/db/password", "prod/api/key"), 5, "already exists");
        Assert.Equal(before, _node.FileHash());
    }

    [Fact]
    public void InitOverExistingFile_ExitsFive()
    {
        string before = _node.FileHash();
        Pk.Fails(PkProcess.Pk(_node.WithPassphrase("init")), 5, "already exists");
        Assert.Equal(before, _node.FileHash());
    }

    [Fact]
    public void UsageErrors_ExitTwo()
    {
        Assert.Equal(2, PkProcess.Pk(["frobnicate"]).ExitCode);
        Assert.Equal(2, PkProcess.Pk(["get"]).ExitCode);
        Pk.Fails(PkProcess.Pk(["get", "a", "--bogus"]), 2, "--bogus");
    }

    [Fact]
    public void IdentityFileReadableByOthers_ExitsFour()
    {
        File.SetUnixFileMode(_node.IdentityFile!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        Pk.Fails(_node.Run("get", "prod/db/password"), 4, "readable by other users");
    }

    [Fact]
    public void IdentityFileOfAnotherKeynode_ExitsFour()
    {
        using var other = new TestKeynode("other").Init();
        string before = _node.FileHash();
        Pk.Fails(PkProcess.Pk(["get", "prod/db/password", "-k", _node.Path, "--identity-file", other.IdentityFile!]), 4, "holds no key for");
        Pk.Fails(PkProcess.Pk(["set", "x", "-k", _node.Path, "--identity-file", other.IdentityFile!], "v"u8.ToArray()), 4, "holds no key for");
        Assert.Equal(before, _node.FileHash());
    }

    [Fact]
    public void ReadOnlyDirectoryAndFileSystem_FailClearly()
    {
        string mount = Path.Combine(_node.Directory, "ro");
        Directory.CreateDirectory(mount);
        if (!ReadOnlyMount.TryBind(_node.Directory, mount))
        {
            Assert.NotEqual("root", Environment.UserName);
            // Without root, a read-only directory is enough to stop pk init.
            File.SetUnixFileMode(mount, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            Pk.Fails(PkProcess.Pk(["init", "-k", Path.Combine(mount, "n.keynode"), "--passphrase-file", _node.PassphraseFile]), 1, "cannot create");
            return;
        }
        try
        {
            string before = _node.FileHash();
            Pk.Fails(PkProcess.Pk(["init", "-k", Path.Combine(mount, "n.keynode"), "--passphrase-file", _node.PassphraseFile]), 1, "cannot create");
            string roKeynode = Path.Combine(mount, Path.GetFileName(_node.Path));
            Assert.Equal("first-value", Pk.Ok(PkProcess.Pk(["get", "prod/db/password", "-k", roKeynode, "--identity-file", _node.IdentityFile!])).Text);
            Pk.Fails(PkProcess.Pk(["set", "x", "-k", roKeynode, "--identity-file", _node.IdentityFile!], "v"u8.ToArray()), 1, "read-only");
            Assert.Equal(before, _node.FileHash());
        }
        finally
        {
            ReadOnlyMount.Unmount(mount);
        }
    }

    [Fact]
    public void FullDisk_ExitsOne_KeynodeUnchangedAndReadable()
    {
        using SmallDisk? disk = SmallDisk.TryCreate(_node.Directory, _node.Path, 256, free: 8192);
        if (disk is null) return;
        string keynode = disk.Keynode;
        string[] key = ["-k", keynode, "--identity-file", _node.IdentityFile!];
        string before = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(keynode)));
        Pk.Fails(PkProcess.Pk(["set", "big", .. key], new byte[64 * 1024]), 1, "no space left on device");
        Assert.Equal(before, Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(keynode))));
        Assert.Equal("second-value", Pk.Ok(PkProcess.Pk(["get", "prod/api/key", .. key])).Text);
    }

    // Finds the data of the first git object member after the given number of changes.
    private static int FindFirstObjectData(byte[] bytes, int skipChanges)
    {
        int seen = 0;
        for (int pos = 0; pos + 512 <= bytes.Length; pos += 512)
        {
            string name = Encoding.ASCII.GetString(bytes, pos, 100).TrimEnd('\0');
            if (name == "polykey/txn") seen++;
            else if (seen >= skipChanges && name.StartsWith("objects/", StringComparison.Ordinal) && name.Length > 10) return pos + 512;
        }
        throw new InvalidOperationException("no object found");
    }

    public void Dispose() => _node.Dispose();
}
