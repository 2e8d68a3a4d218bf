using System.CommandLine;
using System.Text;
using Polykey.Core;
using Polykey.Core.Crypto;

namespace Polykey.Cli.Commands;

/// <summary>`pk identity rotate`: the owner moves to a new key, signed by the old key and the new one.</summary>
internal static class IdentityRotateCommand
{
    public static Command Create(GlobalOptions options)
    {
        var output = new Option<string?>("--output", "-o") { Description = "write the new owner key here (mode 0600); required when the owner key lives in a key file" }.Completes(ValueHint.File);
        var name = new Option<string?>("--name") { Description = "label of the new owner key (default: the current one's)", HelpName = "LABEL" };
        var command = new Command("rotate",
            "Move the keynode's owner to a new key: a transition signed by the old and the new key, every secret re-encrypted to the new key " +
            "(and current grantees), the access list signed again. Versions the old key signs later are refused everywhere. " +
            "Key files and read-only credentials of the old key stop working: export new ones.\n\n" +
            "Examples:\n  pk identity rotate                          (passphrase keynode: the new key is sealed under the same passphrase)\n" +
            "  pk identity rotate --identity-file old.key -o new.key") { output, name };
        command.SetAction(parse =>
        {
            var session = new Session(parse, options);
            using Keynode keynode = session.Open();
            string? file = parse.GetValue(output);
            if (file is null && !keynode.SealsOwnerKey)
                throw PolykeyException.Usage($"the owner key of {keynode.Path} lives in a key file: name where to write the new one with -o FILE");
            keynode.Unlock(); // the passphrase is asked before anything is written
            // Unlocked by a key file, a keynode that seals its owner key still needs the passphrase to seal the new one.
            byte[]? passphrase = keynode.SealsOwnerKey && session.IdentityFile is not null ? session.Passphrase() : null;
            try
            {
                SecretIdentity next = SecretIdentity.Generate(parse.GetValue(name) ?? keynode.Owner.Label);
                // Written first: a rotation that lands is never left without its key.
                if (file is not null) IdentityCommand.WritePrivately(file, Encoding.ASCII.GetBytes(next.ToArmored()));
                Report(keynode, ProgressBar.Run("rotate", progress => keynode.Rotate(next, passphrase, progress)), file);
            }
            finally
            {
                if (passphrase is not null) Array.Clear(passphrase);
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static void Report(Keynode keynode, Keynode.RotationReport report, string? file)
    {
        Output.Status($"owner of {keynode.Path} rotated: {report.From} -> {report.To} at {Output.Time(report.Time)}; {report.Reencrypted} {(report.Reencrypted == 1 ? "history" : "histories")} signed again by the new key");
        if (file is not null) Output.Status($"the new owner key is in {file}; keep it as you kept the old one");
        Output.Notice("hint: key files and read-only credentials of the old key are refused from now on (exit 4): export new ones with 'pk identity export --secret' or '--read-only' -o FILE");
        Output.Notice("hint: make a new revocation certificate for the new key: pk identity revocation -o FILE");
    }
}
