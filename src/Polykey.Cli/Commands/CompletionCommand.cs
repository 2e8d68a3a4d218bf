using System.CommandLine;
using System.Text;
using Polykey.Cli.Completion;

namespace Polykey.Cli.Commands;

/// <summary>pk completion bash|zsh|fish: a completion script made from this binary's own command tree, so it is never out of date.</summary>
internal static class CompletionCommand
{
    public static Command Create()
    {
        var shell = new Argument<string>("shell") { Description = "bash, zsh or fish" };
        shell.AcceptOnlyFromAmong("bash", "zsh", "fish");
        var command = new Command("completion", "Print a completion script for bash, zsh or fish: commands, options, files, and secret names when the keynode opens without a passphrase prompt.\n\nExamples:\n  source <(pk completion bash)\n  pk completion fish > ~/.config/fish/completions/pk.fish") { shell };
        command.SetAction(parse =>
        {
            Command root = parse.RootCommandResult.Command;
            IReadOnlyList<CommandEntry> commands = CommandTree.Walk(root);
            IReadOnlyList<OptionEntry> globalOptions = CommandTree.GlobalOptions(root);
            string script = parse.GetValue(shell) switch
            {
                "zsh" => ZshCompletion.Script(commands, globalOptions),
                "fish" => FishCompletion.Script(commands, globalOptions),
                _ => BashCompletion.Script(commands, globalOptions),
            };
            // Raw bytes, not Output.Line: the fish script's tabs must stay tabs.
            Output.Bytes(Encoding.UTF8.GetBytes(script));
            return ExitCodes.Success;
        });
        return command;
    }
}
