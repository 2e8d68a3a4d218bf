using System.CommandLine;
using System.Reflection;
using System.Text;
using Polykey.Cli.Manual;

namespace Polykey.Cli.Commands;

/// <summary>pk man: the manual page pk(1) as roff, made from this binary's own command tree (scripts/install.sh installs it).</summary>
internal static class ManCommand
{
    public static Command Create()
    {
        var command = new Command("man", "Print pk's manual page, pk(1), as roff (scripts/install.sh installs it, so 'man pk' works).\n\nExample:\n  pk man | man -l -");
        command.SetAction(parse =>
        {
            Command root = parse.RootCommandResult.Command;
            IReadOnlyList<CommandEntry> commands = CommandTree.Walk(root);
            // commands[0] is pk itself: its own options (--version) are not passed down.
            string page = ManPage.Render(commands, CommandTree.GlobalOptions(root), commands[0].OwnOptions, Version());
            Output.Bytes(Encoding.UTF8.GetBytes(page));
            return ExitCodes.Success;
        });
        return command;
    }

    // 1.0.0 of 1.0.0+<commit>: the page names the release, not the build.
    private static string Version()
    {
        string? version = Assembly.GetEntryAssembly()?.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        return version?.Split('+')[0] ?? "";
    }
}
