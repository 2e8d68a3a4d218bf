using System.Text;

namespace Polykey.Cli.Tests;

/// <summary>
/// pk unlock and pk lock (docs/unlock.md): the owner key kept in the real kernel keyring, used
/// by later commands with no passphrase anywhere, forgotten by lock and by its own timeout.
/// </summary>
public sealed class UnlockTests : IDisposable
{
    private readonly TestKeynode _node = new TestKeynode().Init(keyFile: false);
    private readonly List<TestKeynode> _others = new();
    private readonly List<string> _planted = new();

    public UnlockTests()
    {
        Pk.Ok(PkProcess.Pk(_node.WithPassphrase("set", "prod/db/password"), "s3cret-value"u8.ToArray()));
    }

    private string Description => "polykey:" + KeynodeId(_node);

    private static string KeynodeId(TestKeynode node)
    {
        using var keynode = Polykey.Core.Keynode.Open(node.Path, null);
        return keynode.Id;
    }

    // No passphrase anywhere: PkProcess drops PK_PASSPHRASE*, and stdin is no terminal.
    private static PkResult GetWithoutPassphrase(TestKeynode node, string path = "prod/db/password") =>
        PkProcess.Pk(["-k", node.Path, "get", path]);

    private static PkResult Unlock(TestKeynode node, params string[] extra) => PkProcess.Pk(node.WithPassphrase(["unlock", .. extra]));

    private static void NeedsPassphrase(PkResult result) => Pk.Fails(result, 4, "no passphrase given and no terminal to ask on");

    [Fact]
    public void Unlock_ThenGetWithNoPassphrase_ReturnsTheValue()
    {
        PkResult unlocked = Pk.Ok(Unlock(_node, "--for", "10m"));
        Assert.Matches($"^unlocked {System.Text.RegularExpressions.Regex.Escape(_node.Path)} \\(keynode [0-9a-f]{{32}}\\) until \\d{{4}}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ \\(10m\\)", unlocked.Stderr);
        Assert.Single(unlocked.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        Assert.Equal("s3cret-value", Pk.Ok(GetWithoutPassphrase(_node)).Text);
        // Writes sign with the same key.
        Pk.Ok(PkProcess.Pk(["-k", _node.Path, "set", "prod/new"], "written-unlocked"u8.ToArray()));
        Assert.Equal("written-unlocked", Pk.Ok(GetWithoutPassphrase(_node, "prod/new")).Text);
        Pk.Ok(PkProcess.Pk(["-k", _node.Path, "verify"]));
    }

    [Fact]
    public void Unlock_StoresTheOwnerKeyNotThePassphrase_WithATimeoutAndOnlyViewForTheUser()
    {
        Pk.Ok(Unlock(_node, "--for", "10m"));
        int key = KernelKeys.Find(Description) ?? throw new Xunit.Sdk.XunitException("no key in the keyring after pk unlock");
        // id flags usage timeout perm uid gid type description
        string[] fields = KernelKeys.ProcLine(key).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches("^(9|10)m$", fields[3]);
        Assert.Equal("3f010000", fields[4]);
        Assert.Equal("user", fields[7]);

        byte[] payload = KernelKeys.Read(Description);
        int tag = (payload[0] & 0x40) != 0 ? payload[0] & 0x3F : (payload[0] >> 2) & 0x0F;
        Assert.Equal(5, tag); // an OpenPGP Secret-Key packet: the owner key, unprotected
        Assert.DoesNotContain(TestKeynode.Passphrase, Encoding.Latin1.GetString(payload));
    }

    [Fact]
    public void Unlock_DefaultsToFifteenMinutes_AndRefusesMoreThanTwelveHours()
    {
        Assert.Contains("(15m)", Pk.Ok(Unlock(_node)).Stderr);
        Assert.Matches("^1[45]m$", KernelKeys.ProcLine(KernelKeys.Find(Description)!.Value).Split(' ', StringSplitOptions.RemoveEmptyEntries)[3]);
        Pk.Fails(Unlock(_node, "--for", "13h"), 2, "longer than 12h");
        Pk.Fails(Unlock(_node, "--for", "soon"), 2, "--for soon is not a duration");
    }

    [Fact]
    public void Lock_ForgetsTheKey_NextGetNeedsThePassphrase()
    {
        Pk.Ok(Unlock(_node));
        Assert.Equal("s3cret-value", Pk.Ok(GetWithoutPassphrase(_node)).Text);

        PkResult locked = Pk.Ok(PkProcess.Pk(["-k", _node.Path, "lock"]));
        Assert.StartsWith($"locked {_node.Path}", locked.Stderr);
        Assert.Null(KernelKeys.Find(Description));
        NeedsPassphrase(GetWithoutPassphrase(_node));
        Assert.Equal("s3cret-value", Pk.Ok(PkProcess.Pk(_node.WithPassphrase("get", "prod/db/password"))).Text);
    }

    [Fact]
    public void Lock_WhenNotUnlocked_SaysSoAndSucceeds()
    {
        PkResult result = Pk.Ok(PkProcess.Pk(["-k", _node.Path, "lock"]));
        Assert.Contains("was not unlocked; nothing to forget", result.Stderr);
    }

    [Fact]
    public void LockAll_ForgetsEveryUnlockedKeynode_AndNoOtherProgramsKey()
    {
        TestKeynode second = Other("second");
        Pk.Ok(Unlock(_node));
        Pk.Ok(Unlock(second));
        string foreign = "polykey:not-made-by-pk-" + Guid.NewGuid().ToString("N");
        Plant(foreign, "someone else's"u8.ToArray());

        PkResult result = Pk.Ok(PkProcess.Pk(["lock", "--all"]));
        Assert.Contains(KeynodeId(_node), result.Stderr);
        Assert.Contains(KeynodeId(second), result.Stderr);
        NeedsPassphrase(GetWithoutPassphrase(_node));
        NeedsPassphrase(GetWithoutPassphrase(second));
        Assert.NotNull(KernelKeys.Find(foreign));
    }

    [Fact]
    public void UnlockForTwoSeconds_Expires_ThenGetNeedsThePassphrase()
    {
        Pk.Ok(Unlock(_node, "--for", "2s"));
        var unlockedAt = DateTime.UtcNow;
        Assert.Equal("s3cret-value", Pk.Ok(GetWithoutPassphrase(_node)).Text);
        Thread.Sleep(TimeSpan.FromSeconds(3.2) - (DateTime.UtcNow - unlockedAt));
        NeedsPassphrase(GetWithoutPassphrase(_node));

        // Unlocking again over the expired key works.
        Pk.Ok(Unlock(_node, "--for", "1m"));
        Assert.Equal("s3cret-value", Pk.Ok(GetWithoutPassphrase(_node)).Text);
    }

    [Fact]
    public void Unlock_WithAWrongPassphrase_StoresNothing()
    {
        string wrong = Path.Combine(_node.Directory, "wrong");
        File.WriteAllText(wrong, "not the passphrase\n");
        Pk.Fails(PkProcess.Pk(["-k", _node.Path, "--passphrase-file", wrong, "unlock"]), 4, "wrong passphrase");
        Assert.Null(KernelKeys.Find(Description));
        NeedsPassphrase(GetWithoutPassphrase(_node));
    }

    [Fact]
    public void AnotherKeynodesKey_PlantedUnderTheDescription_IsIgnoredWithAWarning()
    {
        TestKeynode other = Other("other");
        Pk.Ok(Unlock(other));
        Plant(Description, KernelKeys.Read("polykey:" + KeynodeId(other)));

        PkResult withoutPassphrase = GetWithoutPassphrase(_node);
        Assert.Equal(4, withoutPassphrase.ExitCode);
        Assert.StartsWith($"pk: warning: ignoring the kernel keyring's key {Description}: it holds key ", withoutPassphrase.Stderr);
        Assert.Contains("not the full key of this keynode's owner", withoutPassphrase.Stderr);
        Assert.Contains("pk: error: no passphrase given", withoutPassphrase.Stderr);

        PkResult withPassphrase = Pk.Ok(PkProcess.Pk(_node.WithPassphrase("get", "prod/db/password")));
        Assert.Equal("s3cret-value", withPassphrase.Text);
        Assert.Contains("pk: warning: ignoring the kernel keyring's key", withPassphrase.Stderr);
    }

    [Fact]
    public void GarbagePlantedUnderTheDescription_IsIgnoredWithAWarning()
    {
        Plant(Description, "not a key at all"u8.ToArray());
        PkResult result = Pk.Ok(PkProcess.Pk(_node.WithPassphrase("get", "prod/db/password")));
        Assert.Equal("s3cret-value", result.Text);
        Assert.Equal($"pk: warning: ignoring the kernel keyring's key {Description}: it holds no readable secret key ('pk lock' removes it)\n", result.Stderr);
        Assert.DoesNotContain("not a key at all", result.Stderr);

        // pk lock removes it; pk unlock would have replaced it.
        Pk.Ok(PkProcess.Pk(["-k", _node.Path, "lock"]));
        Assert.Equal("", Pk.Ok(PkProcess.Pk(_node.WithPassphrase("get", "prod/db/password"))).Stderr);
    }

    [Fact]
    public void Unlock_OfAKeynodeWhoseKeyLivesInAnIdentityFile_SaysSo()
    {
        TestKeynode owner = Other("owner");
        string keyFile = Path.Combine(owner.Directory, "owner.key");
        Pk.Ok(PkProcess.Pk(owner.WithPassphrase("identity", "export", "--secret", "-o", keyFile)));
        string machine = Path.Combine(owner.Directory, "machine.keynode");
        Pk.Ok(PkProcess.Pk(["init", "-k", machine, "--identity-file", keyFile]));

        Pk.Fails(PkProcess.Pk(["-k", machine, "--passphrase-file", owner.PassphraseFile, "unlock"]), 2, "keeps its owner key outside the file, in an identity file");
        Pk.Fails(PkProcess.Pk(["-k", machine, "--identity-file", keyFile, "unlock"]), 2, $"identity file {keyFile} is given");
    }

    [Fact]
    public void Get_InAFreshSessionKeyring_StillFindsTheUnlockedKey()
    {
        // Containers and some login managers start a session keyring that does not link the user keyring.
        KernelKeys.InFreshSessionKeyring(() => Pk.Ok(Unlock(_node)));
        Assert.Equal("s3cret-value", KernelKeys.InFreshSessionKeyring(() => Pk.Ok(GetWithoutPassphrase(_node))).Text);
        KernelKeys.InFreshSessionKeyring(() => Pk.Ok(PkProcess.Pk(["-k", _node.Path, "lock"])));
        Assert.Null(KernelKeys.Find(Description));
    }

    [Theory]
    [InlineData(1, "keyctl is not permitted here, e.g. under a seccomp filter or container policy (EPERM)")]
    [InlineData(13, "keyctl is not permitted here, e.g. under a seccomp filter or container policy (EACCES)")]
    [InlineData(38, "this kernel has no key retention service (ENOSYS)")]
    [InlineData(122, "this user's kernel key quota is full (EDQUOT")]
    public void KeyringRefused_UnlockFailsWithOneLine_OtherCommandsUseThePassphrase(int errno, string reason)
    {
        PkResult unlock = KernelKeys.WithKeyringRefused(errno, () => Unlock(_node));
        Pk.Fails(unlock, 1, $"cannot keep the owner key of {_node.Path} in the kernel keyring: {reason}");
        Assert.Equal(2, unlock.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        // An unlocked key is there, but this process may not reach it: quietly, the passphrase.
        Pk.Ok(Unlock(_node));
        PkResult get = KernelKeys.WithKeyringRefused(errno, () => PkProcess.Pk(_node.WithPassphrase("get", "prod/db/password")));
        Assert.Equal("s3cret-value", Pk.Ok(get).Text);
        Assert.Equal("", get.Stderr);
        NeedsPassphrase(KernelKeys.WithKeyringRefused(errno, () => GetWithoutPassphrase(_node)));
        Assert.Contains("nothing to forget: this process cannot reach the kernel keyring", Pk.Ok(KernelKeys.WithKeyringRefused(errno, () => PkProcess.Pk(["-k", _node.Path, "lock"]))).Stderr);
    }

    [Fact]
    public void Mount_UsesTheUnlockedKey_WithoutAskingForAPassphrase()
    {
        Pk.Ok(Unlock(_node));
        string target = Directory.CreateDirectory(Path.Combine(_node.Directory, "mnt")).FullName;
        try
        {
            Pk.Ok(PkProcess.Pk(["-k", _node.Path, "mount", target]));
            Assert.Equal("s3cret-value", File.ReadAllText(Path.Combine(target, "prod", "db", "password")));
        }
        finally
        {
            PkProcess.Pk(["unmount", target]);
            for (int i = 0; i < 100 && TestMount.IsMounted(target); i++) Thread.Sleep(50);
            if (TestMount.IsMounted(target)) PkProcess.Run("fusermount3", ["-u", "-z", target]);
        }
    }

    private TestKeynode Other(string name)
    {
        var other = new TestKeynode(name).Init(keyFile: false);
        Pk.Ok(PkProcess.Pk(other.WithPassphrase("set", "prod/db/password"), Encoding.UTF8.GetBytes(name + "-value")));
        _others.Add(other);
        return other;
    }

    private void Plant(string description, byte[] payload)
    {
        _planted.Add(description);
        KernelKeys.Add(description, payload);
    }

    public void Dispose()
    {
        foreach (TestKeynode node in _others.Prepend(_node))
        {
            PkProcess.Pk(["-k", node.Path, "lock"]);
            node.Dispose();
        }
        foreach (string description in _planted) KernelKeys.Forget(description);
    }
}
