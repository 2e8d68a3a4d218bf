using System.CommandLine;
using Polykey.Core;

namespace Polykey.Cli.Commands;

/// <summary>`pk identity revocation -o F`: a certificate, signed now by the owner key, that can revoke it later without it.</summary>
internal static class IdentityRevocationCommand
{
    public static Command Create(GlobalOptions options)
    {
        var output = new Option<string>("--output", "-o") { Description = "write the certificate here (mode 0600)", Required = true }.Completes(ValueHint.File);
        var command = new Command("revocation",
            "Make a revocation certificate for the current owner key. Keep it offline: whoever holds it can apply it " +
            "(pk identity revoke-owner), after which nothing new that key signs is accepted.\n\nExample:\n  pk identity revocation -o /media/usb/admin.revoke") { output };
        command.SetAction(parse =>
        {
            using Keynode keynode = new Session(parse, options).Open();
            string file = parse.GetValue(output)!;
            IdentityCommand.WritePrivately(file, keynode.MakeOwnerRevocation());
            Output.Status($"revocation certificate for owner key {keynode.Owner.Fingerprint} written to {file}; keep it offline");
            return ExitCodes.Success;
        });
        return command;
    }
}
