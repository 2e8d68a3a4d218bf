using System.Text.Json;

namespace Polykey.Cli.Tests;

public sealed class IdentityTests : IDisposable
{
    private readonly TestKeynode _node = new TestKeynode().Init(label: "ops-admin");

    [Fact]
    public void Show_Json_HasFingerprintLabelAndKey()
    {
        JsonElement json = JsonDocument.Parse(Pk.Ok(_node.Run("identity", "show", "--json")).Stdout).RootElement;
        Assert.Matches("^[0-9A-F]{40}$", json.GetProperty("fingerprint").GetString());
        Assert.Equal("ops-admin", json.GetProperty("label").GetString());
        Assert.StartsWith("-----BEGIN PGP PUBLIC KEY BLOCK-----", json.GetProperty("publicKey").GetString());
        string text = Pk.Ok(_node.Run("identity", "show")).Text;
        Assert.Contains(json.GetProperty("fingerprint").GetString()!, text);
    }

    [Fact]
    public void Export_PublicKeyImportsIntoGpgWithSameFingerprint()
    {
        string fingerprint = JsonDocument.Parse(Pk.Ok(_node.Run("identity", "show", "--json")).Stdout).RootElement.GetProperty("fingerprint").GetString()!;
        byte[] armored = Pk.Ok(_node.Run("identity", "export")).Stdout;
        string gnupg = Directory.CreateDirectory(Path.Combine(_node.Directory, "gnupg")).FullName;
        var env = new Dictionary<string, string> { ["GNUPGHOME"] = gnupg };
        try
        {
            Assert.Equal(0, PkProcess.Run("gpg", ["--batch", "--import"], armored, env).ExitCode);
            string listing = PkProcess.Run("gpg", ["--batch", "--with-colons", "--list-keys"], env: env).Text;
            Assert.Contains($"fpr:::::::::{fingerprint}:", listing);
            Assert.Contains("ops-admin", listing);
            Assert.Contains(":cv25519:", listing.Replace("::cv25519", ":cv25519"));
        }
        finally
        {
            PkProcess.Run("gpgconf", ["--kill", "gpg-agent"], env: env);
        }
    }

    [Fact]
    public void ExportSecret_ToFile_IsPrivateAndNotOverwritten()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_node.IdentityFile!));
        Pk.Fails(_node.Run("identity", "export", "--secret", "-o", _node.IdentityFile!), 5, "already exists");
    }

    [Fact]
    public void MachineKeyFile_FromCredentialsDirectory_OpensWithoutPrompt()
    {
        Pk.Ok(_node.Set("prod/x", "machine-read"));
        string credentials = Directory.CreateDirectory(Path.Combine(_node.Directory, "creds")).FullName;
        File.Copy(_node.IdentityFile!, Path.Combine(credentials, "pk-identity"));
        var env = new Dictionary<string, string> { ["CREDENTIALS_DIRECTORY"] = credentials };
        Assert.Equal("machine-read", Pk.Ok(PkProcess.Pk(["get", "prod/x", "-k", _node.Path], env: env)).Text);
    }

    [Fact]
    public void InitWithKeyFile_KeepsOwnerKeyOutsideTheFile()
    {
        string other = Path.Combine(_node.Directory, "machine.keynode");
        Pk.Ok(PkProcess.Pk(["init", "-k", other, "--identity-file", _node.IdentityFile!]));
        Pk.Ok(PkProcess.Pk(["set", "a", "-k", other, "--identity-file", _node.IdentityFile!], "v"u8.ToArray()));
        Assert.Equal("v", Pk.Ok(PkProcess.Pk(["get", "a", "-k", other, "--identity-file", _node.IdentityFile!])).Text);
        Pk.Fails(PkProcess.Pk(["get", "a", "-k", other, "--passphrase-file", _node.PassphraseFile]), 4, "keeps its owner key outside the file");
        Assert.DoesNotContain("polykey/owner.key.pgp", PkProcess.Run("tar", ["-tf", other]).Text);
    }

    public void Dispose() => _node.Dispose();
}

public sealed class ReadOnlyCredentialTests : IDisposable
{
    private readonly TestKeynode _node = new TestKeynode().Init();

    [Fact]
    public void ReadOnlyCredential_DecryptsWithGpgButHoldsNoSigningKey()
    {
        Pk.Ok(_node.Set("prod/k", "readable"));
        string reader = Path.Combine(_node.Directory, "reader.key");
        Pk.Ok(_node.Run("identity", "export", "--read-only", "-o", reader));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(reader));

        string gnupg = Directory.CreateDirectory(Path.Combine(_node.Directory, "gnupg")).FullName;
        var env = new Dictionary<string, string> { ["GNUPGHOME"] = gnupg };
        try
        {
            Assert.Equal(0, PkProcess.Run("gpg", ["--batch", "--import", reader], env: env).ExitCode);
            // "sec#": gpg sees the primary (signing) key as absent.
            Assert.Contains("sec#", PkProcess.Run("gpg", ["--batch", "-K"], env: env).Text);
            string repo = Directory.CreateDirectory(Path.Combine(_node.Directory, "repo")).FullName;
            Assert.Equal(0, PkProcess.Run("tar", ["-xf", _node.Path, "-C", repo]).ExitCode);
            string reference = PkProcess.Run("git", ["--git-dir", repo, "for-each-ref", "--format=%(refname)", "refs/secrets"]).Text.Trim();
            byte[] message = PkProcess.Run("git", ["--git-dir", repo, "cat-file", "blob", reference + ":secret.pgp"]).Stdout;
            Assert.Equal("readable", PkProcess.Run("gpg", ["--batch", "--decrypt"], message, env).Text);
        }
        finally
        {
            PkProcess.Run("gpgconf", ["--kill", "gpg-agent"], env: env);
        }
        Pk.Fails(_node.Run("identity", "export", "--secret", "--read-only"), 2, "exclude each other");
    }

    public void Dispose() => _node.Dispose();
}
