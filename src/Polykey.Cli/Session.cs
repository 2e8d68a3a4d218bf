using System.CommandLine;
using Polykey.Core;
using Polykey.Core.Crypto;

namespace Polykey.Cli;

/// <summary>
/// What one command invocation knows from its options and environment: the keynode path
/// and the credential. Opens the keynode for the command.
/// </summary>
internal sealed class Session
{
    private readonly ParseResult _parse;
    private readonly GlobalOptions _options;

    public Session(ParseResult parse, GlobalOptions options)
    {
        _parse = parse;
        _options = options;
    }

    public string KeynodePath
    {
        get
        {
            string? path = _parse.GetValue(_options.Keynode) ?? Env("PK_KEYNODE");
            if (path is not null) return path;
            string data = Env("XDG_DATA_HOME") ?? System.IO.Path.Combine(Home, ".local", "share");
            return System.IO.Path.Combine(data, "polykey", "default.keynode");
        }
    }

    /// <param name="useUnlockedKey">Take the owner key from the kernel keyring when `pk unlock` left it there (false: only the passphrase will do).</param>
    /// <param name="warnOfGrowth">Warn on a terminal when the file is mostly old values (false for `pk gc`, which is the answer).</param>
    public Keynode Open(bool useUnlockedKey = true, bool warnOfGrowth = true)
    {
        Keynode keynode = Keynode.Open(KeynodePath, Credential(forInit: false, useUnlockedKey), CacheDirectory, StateDirectory);
        foreach (string warning in keynode.Warnings) Output.Warning(warning);
        if (warnOfGrowth) GrowthWarning.Check(keynode, CacheDirectory);
        return keynode;
    }

    /// <summary>
    /// The key file if one is named, else a passphrase read lazily from file, environment or
    /// terminal, unless an owner key unlocked by `pk unlock` is in the kernel keyring (looked up
    /// only when a key is needed).
    /// </summary>
    public Credential Credential(bool forInit, bool useUnlockedKey = true)
    {
        if (IdentityFile is { } keyFile) return new Credential.KeyFile(LoadKeyFile(keyFile), keyFile);
        return new Credential.Passphrase(() => ReadPassphrase(forInit), forInit || !useUnlockedKey ? null : UnlockedKeys.Find);
    }

    /// <summary>The identity file named by option, environment or systemd credential, if any.</summary>
    public string? IdentityFile
    {
        get
        {
            string? keyFile = _parse.GetValue(_options.IdentityFile) ?? Env("PK_IDENTITY_FILE");
            if (keyFile is null && Env("CREDENTIALS_DIRECTORY") is { } credentials && File.Exists(System.IO.Path.Combine(credentials, "pk-identity")))
                keyFile = System.IO.Path.Combine(credentials, "pk-identity");
            return keyFile;
        }
    }

    private static SecretIdentity LoadKeyFile(string path)
    {
        if (!File.Exists(path)) throw PolykeyException.NotFound($"identity file {path} does not exist");
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
            throw PolykeyException.Denied($"identity file {path} is readable by other users", $"restrict it: chmod 600 {path}");
        byte[] data = BoundedInput.ReadFile(path, Limits.MaxSmallMemberBytes, "identity file", FailureKind.AccessDenied)
            ?? throw PolykeyException.Failed($"identity file {path} is larger than {Limits.MaxSmallMemberBytes} bytes; it is not a key file");
        try
        {
            return SecretIdentity.Load(data, $"identity file {path}");
        }
        finally
        {
            Array.Clear(data);
        }
    }

    /// <summary>The passphrase from file, environment or terminal (never the kernel keyring): to seal a new owner key.</summary>
    public byte[] Passphrase() => ReadPassphrase(forInit: false);

    private byte[] ReadPassphrase(bool forInit)
    {
        string? file = _parse.GetValue(_options.PassphraseFile) ?? Env("PK_PASSPHRASE_FILE");
        if (file is not null)
        {
            byte[] bytes = BoundedInput.ReadFile(file, Limits.MaxPassphraseBytes, "passphrase file", FailureKind.AccessDenied)
                ?? throw PolykeyException.Failed($"passphrase file {file} is larger than {Limits.MaxPassphraseBytes} bytes; it holds no passphrase");
            int length = bytes.Length;
            if (length > 0 && bytes[length - 1] == '\n') length--;
            if (length > 0 && bytes[length - 1] == '\r') length--;
            byte[] trimmed = bytes[..length];
            Array.Clear(bytes);
            return Checked(trimmed);
        }
        if (Env("PK_PASSPHRASE") is { } fromEnv) return Checked(System.Text.Encoding.UTF8.GetBytes(fromEnv));
        if (Commands.MountCommand.PassphraseComesOnStdin) return Checked(ReadStandardInput());
        if (!Terminal.IsInteractive)
            throw PolykeyException.Denied("no passphrase given and no terminal to ask on",
                "pass --passphrase-file, set $PK_PASSPHRASE_FILE, or use --identity-file");
        byte[] first = Terminal.ReadHidden(forInit ? "New passphrase for the keynode: " : "Passphrase: ");
        if (forInit)
        {
            byte[] again = Terminal.ReadHidden("Repeat the passphrase: ");
            bool same = first.AsSpan().SequenceEqual(again);
            Array.Clear(again);
            if (!same) throw PolykeyException.Usage("the two passphrases differ");
        }
        return Checked(first);
    }

    // The mount daemon receives its parent's passphrase through a pipe, never the environment.
    private static byte[] ReadStandardInput()
    {
        using Stream stdin = Console.OpenStandardInput();
        return BoundedInput.Read(stdin, Limits.MaxPassphraseBytes)
            ?? throw PolykeyException.Failed($"the passphrase on stdin is larger than {Limits.MaxPassphraseBytes} bytes");
    }

    private static byte[] Checked(byte[] passphrase)
    {
        if (passphrase.Length == 0) throw PolykeyException.Denied("the passphrase is empty");
        if (passphrase.Length <= Limits.MaxPassphraseBytes) return passphrase;
        Array.Clear(passphrase);
        throw PolykeyException.Failed($"the passphrase is longer than {Limits.MaxPassphraseBytes} bytes");
    }

    /// <summary>Where pk remembers which commits it already verified: ${XDG_CACHE_HOME:-~/.cache}.</summary>
    public static string CacheDirectory => Env("XDG_CACHE_HOME") ?? System.IO.Path.Combine(Home, ".cache");

    /// <summary>Where pk pins each keynode's owner and access list: ${XDG_STATE_HOME:-~/.local/state}.</summary>
    public static string StateDirectory => Env("XDG_STATE_HOME") ?? System.IO.Path.Combine(Home, ".local", "state");

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;

    private static string Home => Env("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
}
