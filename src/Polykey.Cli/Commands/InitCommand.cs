using System.CommandLine;
using Polykey.Core;

namespace Polykey.Cli.Commands;

internal static class InitCommand
{
    public static Command Create(GlobalOptions options)
    {
        var name = new Option<string?>("--name") { Description = "label of the owner identity (default: user@host)", HelpName = "LABEL" };
        var command = new Command("init", "Create a keynode and its owner identity.\n\nExample:\n  pk init --name admin -k ~/admin.keynode") { name };
        command.SetAction(parse =>
        {
            var session = new Session(parse, options);
            string label = parse.GetValue(name) ?? $"{Environment.UserName}@{Environment.MachineName}";
            using Keynode keynode = Keynode.Create(session.KeynodePath, label, session.Credential(forInit: true), Session.CacheDirectory, Session.StateDirectory);
            Output.Status($"created keynode {keynode.Path}");
            Output.Status($"owner {keynode.Owner.Label} {keynode.Owner.Fingerprint}");
            return ExitCodes.Success;
        });
        return command;
    }
}
