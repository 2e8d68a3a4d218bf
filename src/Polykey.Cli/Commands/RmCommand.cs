using System.CommandLine;
using Polykey.Core;

namespace Polykey.Cli.Commands;

internal static class RmCommand
{
    public static Command Create(GlobalOptions options)
    {
        var path = SecretArguments.Path();
        var command = new Command("rm", "Remove a secret (its history is kept; 'pk restore' brings it back).\n\nExample:\n  pk rm prod/old/token") { path };
        command.SetAction(parse =>
        {
            string secretPath = SecretPath.ValidateLookup(parse.GetValue(path)!);
            using Keynode keynode = new Session(parse, options).Open();
            keynode.Remove(secretPath);
            return ExitCodes.Success;
        });
        return command;
    }
}
