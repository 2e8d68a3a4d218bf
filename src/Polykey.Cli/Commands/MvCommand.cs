using System.CommandLine;
using Polykey.Core;

namespace Polykey.Cli.Commands;

internal static class MvCommand
{
    public static Command Create(GlobalOptions options)
    {
        var source = SecretArguments.Path("current path");
        var destination = new Argument<string>("destination") { Description = "new path" }.Completes(ValueHint.Secret);
        var command = new Command("mv", "Rename a secret; its history moves with it.\n\nExample:\n  pk mv prod/db/pass prod/db/password") { source, destination };
        command.SetAction(parse =>
        {
            string from = SecretPath.ValidateLookup(parse.GetValue(source)!);
            string to = SecretPath.Validate(parse.GetValue(destination)!);
            using Keynode keynode = new Session(parse, options).Open();
            keynode.Move(from, to);
            return ExitCodes.Success;
        });
        return command;
    }
}
