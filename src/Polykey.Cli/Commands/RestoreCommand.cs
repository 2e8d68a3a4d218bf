using System.CommandLine;
using Polykey.Core;

namespace Polykey.Cli.Commands;

internal static class RestoreCommand
{
    public static Command Create(GlobalOptions options)
    {
        var path = SecretArguments.Path();
        var version = SecretArguments.Version("the version to make current again");
        version.Required = true;
        var command = new Command("restore", "Make an old version current again (as a new version; history is kept).\n\nExample:\n  pk restore prod/db/password --version 1") { path, version };
        command.SetAction(parse =>
        {
            string secretPath = SecretPath.ValidateLookup(parse.GetValue(path)!);
            using Keynode keynode = new Session(parse, options).Open();
            int made = keynode.Restore(secretPath, parse.GetValue(version)!.Value);
            Output.Status($"{secretPath}: version {parse.GetValue(version)} restored as version {made}");
            return ExitCodes.Success;
        });
        return command;
    }
}
