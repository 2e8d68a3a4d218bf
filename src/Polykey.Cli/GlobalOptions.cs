using System.CommandLine;

namespace Polykey.Cli;

/// <summary>Options every command takes: which keynode, and how to unlock it.</summary>
internal sealed class GlobalOptions
{
    public Option<string?> Keynode { get; } = new Option<string?>("--keynode", "-k")
    {
        Description = "keynode file (default: $PK_KEYNODE, else ${XDG_DATA_HOME:-~/.local/share}/polykey/default.keynode)",
        Recursive = true,
    }.Completes(ValueHint.File);

    public Option<string?> PassphraseFile { get; } = new Option<string?>("--passphrase-file")
    {
        Description = "read the passphrase from this file (default: $PK_PASSPHRASE_FILE, then $PK_PASSPHRASE, then a prompt)",
        Recursive = true,
    }.Completes(ValueHint.File);

    public Option<string?> IdentityFile { get; } = new Option<string?>("--identity-file")
    {
        Description = "unlock with this unprotected key file, mode 0600 (default: $PK_IDENTITY_FILE, then $CREDENTIALS_DIRECTORY/pk-identity)",
        Recursive = true,
    }.Completes(ValueHint.File);

    public void AddTo(RootCommand root)
    {
        root.Options.Add(Keynode);
        root.Options.Add(PassphraseFile);
        root.Options.Add(IdentityFile);
    }

    public static Option<bool> Json() => new("--json") { Description = "print data as JSON" };
}
