using System.CommandLine;
using Polykey.Core;

namespace Polykey.Cli.Commands;

internal static class UpgradeCommand
{
    public static Command Create(GlobalOptions options)
    {
        var command = new Command("upgrade",
            "Upgrade a format-1 keynode to format 2: every version is signed again by the owner, naming its history. " +
            "The old file is kept beside the new one as FILE.format1.\n\nExample:\n  pk upgrade -k old.keynode --identity-file owner.key");
        command.SetAction(parse =>
        {
            var session = new Session(parse, options);
            Keynode.UpgradeResult result = Keynode.Upgrade(session.KeynodePath, session.Credential(forInit: false));
            foreach (string dropped in result.Dropped) Output.Warning($"not carried over: {dropped}");
            Output.Line($"upgraded {session.KeynodePath} to format 2: {result.Histories} histories, {result.Versions} versions; the old file is {result.OldFile}");
            return ExitCodes.Success;
        });
        return command;
    }
}
