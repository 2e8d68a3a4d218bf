using System.Security.Cryptography;
using System.Text;
using Polykey.Core.Git;

namespace Polykey.Core.Tests;

public sealed class GitObjectTests
{
    [Fact]
    public void LooseObject_NamesBlobLikeGit()
    {
        // `printf 'hello\n' | git hash-object --stdin` prints this name.
        (ObjectId id, byte[] compressed) = LooseObject.Encode(ObjectType.Blob, "hello\n"u8);
        Assert.Equal("ce013625030ba8dba906f756967f9e9ca394464a", id.Hex);
        (ObjectType type, byte[] content) = LooseObject.Decode(id, compressed);
        Assert.Equal(ObjectType.Blob, type);
        Assert.Equal("hello\n"u8.ToArray(), content);
    }

    [Fact]
    public void LooseObject_DecodeRejectsDamage()
    {
        (ObjectId id, byte[] compressed) = LooseObject.Encode(ObjectType.Blob, RandomNumberGenerator.GetBytes(100));
        compressed[^6] ^= 1;
        Assert.ThrowsAny<PolykeyException>(() => LooseObject.Decode(id, compressed));
        (ObjectId other, _) = LooseObject.Encode(ObjectType.Blob, "x"u8);
        Assert.ThrowsAny<PolykeyException>(() => LooseObject.Decode(other, LooseObject.Encode(ObjectType.Blob, "y"u8).Compressed));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(65_524)] // with its header "blob 65524\0" (11 bytes): one stored block, exactly full
    [InlineData(65_525)] // one byte into a second block
    [InlineData(2 * 65_535 - 11)] // two blocks, exactly full
    [InlineData(200_000)]
    public void StoredLooseObject_IsWhatGitReads_AndDecodesLikeADeflatedOne(int size)
    {
        byte[] value = RandomNumberGenerator.GetBytes(size);
        (ObjectId id, byte[] stored) = LooseObject.EncodeStored(ObjectType.Blob, value);
        Assert.Equal(LooseObject.Encode(ObjectType.Blob, value).Id, id);
        (ObjectType type, byte[] content) = LooseObject.Decode(id, stored);
        Assert.Equal(ObjectType.Blob, type);
        Assert.Equal(value, content);

        // Real git reads it from a repository's object store, and names it the same.
        string repo = Directory.CreateTempSubdirectory("pk-stored-").FullName;
        try
        {
            Assert.Equal(0, Git("init", "-q", repo).Exit);
            string file = Path.Combine(repo, ".git", "objects", id.Hex[..2], id.Hex[2..]);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllBytes(file, stored);
            Assert.Equal(("blob", 0), (Git("-C", repo, "cat-file", "-t", id.Hex).Output.Trim(), Git("-C", repo, "fsck", "--strict").Exit));
            Assert.Equal(size.ToString(), Git("-C", repo, "cat-file", "-s", id.Hex).Output.Trim());
        }
        finally
        {
            Directory.Delete(repo, recursive: true);
        }

        stored[^1] ^= 1; // the Adler-32 checksum
        Assert.ThrowsAny<PolykeyException>(() => LooseObject.Decode(id, stored));
    }

    private static (int Exit, string Output) Git(params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args) start.ArgumentList.Add(arg);
        using var git = System.Diagnostics.Process.Start(start)!;
        string output = git.StandardOutput.ReadToEnd();
        git.StandardError.ReadToEnd();
        git.WaitForExit();
        return (git.ExitCode, output);
    }

    [Fact]
    public void Tree_RoundTrips()
    {
        var blob = new ObjectId(new string('a', 40));
        byte[] encoded = Tree.Encode([("secret.pgp", blob)]);
        Assert.Equal(blob, Tree.Decode(encoded)["secret.pgp"]);
    }

    [Fact]
    public void Commit_EncodeDecode_RoundTripsWithSignature()
    {
        var commit = new Commit(new ObjectId(new string('1', 40)), new ObjectId(new string('2', 40)), "ABCDEF", DateTimeOffset.FromUnixTimeSeconds(1700000000), Commit.StandardMessage);
        string signature = "-----BEGIN PGP SIGNATURE-----\n\nwnUEABYIAB0WIQ\n=abcd\n-----END PGP SIGNATURE-----\n";
        byte[] encoded = commit.Encode(signature);
        string text = Encoding.UTF8.GetString(encoded);
        Assert.Contains("\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n wnUEABYIAB0WIQ\n", text);
        (Commit decoded, string? decodedSignature) = Commit.Decode(new ObjectId(new string('3', 40)), encoded);
        Assert.Equal(commit, decoded);
        Assert.Equal(signature, decodedSignature);
        Assert.Equal(commit.Payload(), Encoding.UTF8.GetBytes(text.Replace(text[text.IndexOf("gpgsig", StringComparison.Ordinal)..(text.IndexOf("-----END PGP SIGNATURE-----", StringComparison.Ordinal) + 28)], "")));
    }
}
