using System.CommandLine;
using Polykey.Core;

namespace Polykey.Cli.Commands;

internal static class GetCommand
{
    public static Command Create(GlobalOptions options)
    {
        var path = SecretArguments.Path();
        var version = SecretArguments.Version("print this version (from 1; see 'pk log') instead of the current one");
        var command = new Command("get", "Print a secret's value to stdout, byte for byte (no newline added).\n\nExample:\n  DB_PASSWORD=$(pk get prod/db/password)") { path, version };
        command.SetAction(parse =>
        {
            string secretPath = SecretPath.ValidateLookup(parse.GetValue(path)!);
            using Keynode keynode = new Session(parse, options).Open();
            using SecretBytes value = keynode.Get(secretPath, parse.GetValue(version));
            Output.Bytes(value.Span);
            return ExitCodes.Success;
        });
        return command;
    }
}
