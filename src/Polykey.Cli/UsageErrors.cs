using System.CommandLine;
using System.CommandLine.Parsing;

namespace Polykey.Cli;

/// <summary>
/// Turns a failed parse into one `pk: error:` line and a hint. A word where a command was
/// expected is an unknown command ("unknown command 'frobnicate'", with the nearest real one),
/// not System.CommandLine's "Required command was not provided", which misleads: one was given.
/// </summary>
internal static class UsageErrors
{
    public static (string Message, string Hint) Describe(ParseResult parse)
    {
        Command command = parse.CommandResult.Command;
        string path = CommandPath(parse);
        string help = $"see '{path} --help'";
        if (parse.UnmatchedTokens.FirstOrDefault() is { } token)
        {
            bool looksLikeOption = token.Length > 1 && token.StartsWith('-');
            if (!looksLikeOption && command.Subcommands.Count > 0 && command.Arguments.Count == 0)
            {
                string words = path == "pk" ? token : $"{path[3..]} {token}";
                IEnumerable<string> names = command.Subcommands.Where(c => !c.Hidden).SelectMany(c => c.Aliases.Prepend(c.Name));
                return ($"unknown command '{words}'", DidYouMean(token, names, path == "pk" ? "" : path[3..] + " ") ?? $"{help} for the commands");
            }
            if (looksLikeOption)
            {
                IEnumerable<string> names = OptionsOf(parse).Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name)).Where(n => n.StartsWith('-'));
                return ($"unknown option '{token}' for '{path}'", DidYouMean(token, names, "") ?? $"{help} for its options");
            }
        }
        return (parse.Errors[0].Message, help);
    }

    private static string? DidYouMean(string typed, IEnumerable<string> names, string prefix)
    {
        IReadOnlyList<string> closest = Suggestions.Closest(typed, names);
        return closest.Count == 0 ? null : $"did you mean {Suggestions.Quoted(closest.Select(n => prefix + n).ToList())}?";
    }

    // The command's own options and those its ancestors pass down (--keynode, --help).
    private static IEnumerable<Option> OptionsOf(ParseResult parse)
    {
        var options = new List<Option>(parse.CommandResult.Command.Options);
        for (SymbolResult? result = parse.CommandResult.Parent; result is CommandResult ancestor; result = ancestor.Parent)
            options.AddRange(ancestor.Command.Options.Where(o => o.Recursive));
        return options;
    }

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (SymbolResult? result = parse.CommandResult; result is CommandResult c; result = c.Parent)
            names.Insert(0, c.Command.Name);
        names[0] = "pk";
        return string.Join(' ', names);
    }
}
