using System.CommandLine;
using Polykey.Core;

namespace Polykey.Cli.Commands;

internal static class InitCommand
{
    public static Command Create(GlobalOptions options)
    {
        var name = new Option<string?>("--name") { Description = "label of the owner identity (default: user@host)", HelpName = "LABEL" };
        var revocation = new Option<string?>("--revocation") { Description = "also write a revocation certificate for the owner key here (mode 0600); keep it offline", HelpName = "FILE" }.Completes(ValueHint.File);
        var command = new Command("init", "Create a keynode and its owner identity.\n\nExamples:\n  pk init --name admin -k ~/admin.keynode\n  pk init --revocation /media/usb/admin.revoke") { name, revocation };
        command.SetAction(parse =>
        {
            var session = new Session(parse, options);
            string label = parse.GetValue(name) ?? $"{Environment.UserName}@{Environment.MachineName}";
            if (parse.GetValue(revocation) is { } taken && File.Exists(taken))
                throw PolykeyException.Conflict($"{taken} already exists", "choose another file for the revocation certificate, or remove it first");
            using Keynode keynode = Keynode.Create(session.KeynodePath, label, session.Credential(forInit: true), Session.CacheDirectory, Session.StateDirectory);
            Output.Status($"created keynode {keynode.Path}");
            Output.Status($"owner {keynode.Owner.Label} {keynode.Owner.Fingerprint}");
            if (parse.GetValue(revocation) is { } file)
            {
                IdentityCommand.WritePrivately(file, keynode.MakeOwnerRevocation());
                Output.Status($"revocation certificate written to {file}; keep it offline");
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
