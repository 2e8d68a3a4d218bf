using System.CommandLine;
using Polykey.Core;

namespace Polykey.Cli.Commands;

internal static class GetCommand
{
    public static Command Create(GlobalOptions options)
    {
        var path = SecretArguments.Path();
        var version = SecretArguments.Version("print this version (from 1; see 'pk log') instead of the current one");
        var theirs = new Option<bool>("--theirs") { Description = "for a secret in conflict after a pull: print the other keynode's value" };
        var command = new Command("get", "Print a secret's value to stdout, byte for byte (no newline added).\n\nExample:\n  DB_PASSWORD=$(pk get prod/db/password)") { path, version, theirs };
        command.SetAction(parse =>
        {
            string secretPath = SecretPath.ValidateLookup(parse.GetValue(path)!);
            using Keynode keynode = new Session(parse, options).Open();
            if (parse.GetValue(theirs) && parse.GetValue(version) is not null) throw PolykeyException.Usage("--theirs and --version do not go together");
            using SecretBytes value = parse.GetValue(theirs) ? keynode.GetTheirs(secretPath) : keynode.Get(secretPath, parse.GetValue(version));
            Output.Bytes(value.Span);
            return ExitCodes.Success;
        });
        return command;
    }
}
