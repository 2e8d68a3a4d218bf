using System.CommandLine;
using Polykey.Core;

namespace Polykey.Cli.Commands;

/// <summary>`pk identity revoke-owner CERT`: applies a revocation certificate; needs no key.</summary>
internal static class IdentityRevokeOwnerCommand
{
    public static Command Create(GlobalOptions options)
    {
        var certificate = new Argument<string>("CERTIFICATE") { Description = "a file made by 'pk identity revocation'" }.Completes(ValueHint.File);
        var command = new Command("revoke-owner",
            "Apply an owner revocation certificate: from this change on, no new version signed by that key is accepted here or " +
            "wherever the revocation travels (push, pull). Needs no key: use it when the owner key leaked or is lost.\n\n" +
            "Example:\n  pk identity revoke-owner /media/usb/admin.revoke") { certificate };
        command.SetAction(parse =>
        {
            string file = parse.GetValue(certificate)!;
            byte[] data = BoundedInput.ReadFile(file, 64 * 1024, "revocation certificate", FailureKind.NotFound)
                ?? throw PolykeyException.Failed($"{file} is larger than a revocation certificate can be");
            using Keynode keynode = new Session(parse, options).Open();
            string key = keynode.ApplyOwnerRevocation(data, file);
            Output.Status($"owner key {key} of {keynode.Path} is revoked: nothing it signs from now on is accepted");
            if (key == keynode.Owner.Fingerprint)
                Output.Notice("hint: the keynode can no longer be changed; its readers still read it. Make a new keynode (pk init) and copy the secrets into it");
            return ExitCodes.Success;
        });
        return command;
    }
}
