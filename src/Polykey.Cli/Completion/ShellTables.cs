using System.Text;

namespace Polykey.Cli.Completion;

/// <summary>
/// The command tree as shell functions made of `case` statements, valid in bash and zsh alike:
/// which subcommands and options a command has, what an option's value is, and what each
/// positional argument holds. The hand-written drivers in <see cref="BashCompletion"/> and
/// <see cref="ZshCompletion"/> walk the command line with these.
/// </summary>
internal static class ShellTables
{
    public static void Write(StringBuilder script, IReadOnlyList<CommandEntry> commands, IReadOnlyList<OptionEntry> globalOptions)
    {
        script.AppendLine("# Global options that choose or unlock the keynode: passed on to the `pk ls` that lists secret names.");
        script.AppendLine($"__pk_forwarded_options={Quote(string.Join(' ', globalOptions.Where(o => !o.IsFlag).SelectMany(o => o.Names)))}");
        script.AppendLine();

        script.AppendLine("# The subcommands of a command (by its path: 'pk', 'pk identity').");
        Table(script, "__pk_subcommands", commands.Where(c => c.Subcommands.Count > 0), c => $"echo {Quote(string.Join(' ', c.Subcommands))}");

        script.AppendLine("# Every option a command accepts, its own and those it inherits.");
        Table(script, "__pk_options", commands, c => $"echo {Quote(string.Join(' ', c.Options.SelectMany(o => o.Names)))}");

        script.AppendLine("# What the value of a command's option ($2) is; nothing for a flag.");
        Table(script, "__pk_option_value", commands.Where(c => c.Options.Any(o => !o.IsFlag)), c =>
        {
            var inner = new StringBuilder("case $2 in");
            foreach (OptionEntry option in c.Options.Where(o => !o.IsFlag))
                inner.Append($" {string.Join('|', option.Names.Select(Quote))}) echo {Quote(Hint(option.Hint, option.Choices))} ;;");
            return inner.Append(" esac").ToString();
        });

        script.AppendLine("# What a command's positional argument number $2 (from 0) holds.");
        Table(script, "__pk_argument_value", commands.Where(c => c.Arguments.Count > 0), c => $"case $2 in {ArgumentCases(c.Arguments)} esac");
    }

    /// <summary>The hint as the drivers spell it: file, dir, secret, remote, user, group, command, text, or choice:A B.</summary>
    public static string Hint(ValueHint hint, IReadOnlyList<string> choices) => hint switch
    {
        ValueHint.Choice => "choice:" + string.Join(' ', choices),
        ValueHint.Directory => "dir",
        _ => hint.ToString().ToLowerInvariant(),
    };

    /// <summary>
    /// One case per position; the last argument, when it repeats, takes every later position
    /// too. A command to run (pk env -- CMD ARGS) is a program name, then files.
    /// </summary>
    private static string ArgumentCases(IReadOnlyList<ArgumentEntry> arguments)
    {
        var cases = new StringBuilder();
        for (int i = 0; i < arguments.Count; i++)
        {
            ArgumentEntry argument = arguments[i];
            cases.Append($"{i}) echo {Quote(Hint(argument.Hint, argument.Choices))} ;; ");
            if (argument.Repeats && i == arguments.Count - 1)
                cases.Append($"*) echo {Quote(argument.Hint == ValueHint.Command ? "file" : Hint(argument.Hint, argument.Choices))} ;; ");
        }
        return cases.ToString().TrimEnd();
    }

    private static void Table(StringBuilder script, string name, IEnumerable<CommandEntry> commands, Func<CommandEntry, string> body)
    {
        script.AppendLine($"{name}() {{");
        script.AppendLine("    case $1 in");
        foreach (CommandEntry command in commands)
            script.AppendLine($"        {Quote(command.Path)}) {body(command)} ;;");
        script.AppendLine("    esac");
        script.AppendLine("}");
        script.AppendLine();
    }

    /// <summary>A single-quoted word for sh, bash and zsh: nothing inside is special but the quote itself.</summary>
    public static string Quote(string text) => "'" + text.Replace("'", "'\\''") + "'";
}
