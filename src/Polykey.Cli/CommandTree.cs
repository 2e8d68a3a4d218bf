using System.CommandLine;

namespace Polykey.Cli;

/// <summary>One option as completion and the man page see it.</summary>
/// <param name="Names">Every spelling, the primary name first (--keynode, -k).</param>
/// <param name="ValueName">What its value is called (FILE, SIZE), or null for a flag.</param>
internal sealed record OptionEntry(IReadOnlyList<string> Names, string? ValueName, ValueHint Hint, IReadOnlyList<string> Choices, string Description)
{
    public bool IsFlag => ValueName is null;
}

/// <summary>One positional argument: its name, what it holds, and how many of it there may be.</summary>
internal sealed record ArgumentEntry(string Name, ValueHint Hint, IReadOnlyList<string> Choices, bool Optional, bool Repeats, string Description);

/// <summary>
/// One visible command, by its full path ("pk identity show"), with the options it accepts
/// (its own and those its ancestors pass down), its arguments and its subcommands.
/// </summary>
internal sealed record CommandEntry(
    string Path, string Description, IReadOnlyList<string> Subcommands,
    IReadOnlyList<OptionEntry> Options, IReadOnlyList<OptionEntry> OwnOptions, IReadOnlyList<ArgumentEntry> Arguments)
{
    public string Name => Path[(Path.LastIndexOf(' ') + 1)..];

    /// <summary>The first paragraph of the description, which reads as a one-line summary.</summary>
    public string Summary => CommandTree.FirstParagraph(Description);
}

/// <summary>
/// The RootCommand's tree flattened into entries, in definition order, hidden commands and
/// options left out. Completion scripts and the man page are built from this at run time,
/// so they always match the commands this binary really has.
/// </summary>
internal static class CommandTree
{
    public static IReadOnlyList<CommandEntry> Walk(Command root)
    {
        var entries = new List<CommandEntry>();
        Visit(root, "pk", inherited: [], entries);
        return entries;
    }

    /// <summary>The options of <paramref name="root"/> that every command accepts (--keynode, --help, ...).</summary>
    public static IReadOnlyList<OptionEntry> GlobalOptions(Command root) =>
        root.Options.Where(o => o.Recursive && !o.Hidden).Select(Entry).ToList();

    public static string FirstParagraph(string text)
    {
        int end = text.IndexOf("\n\n", StringComparison.Ordinal);
        return (end < 0 ? text : text[..end]).Replace('\n', ' ').Trim();
    }

    private static void Visit(Command command, string path, IReadOnlyList<Option> inherited, List<CommandEntry> entries)
    {
        List<Option> own = command.Options.Where(o => !o.Hidden).ToList();
        // An option the command defines itself wins over an inherited one of the same name.
        var names = new HashSet<string>(own.SelectMany(Spellings));
        List<Option> all = [.. own, .. inherited.Where(o => !Spellings(o).Any(names.Contains))];
        List<Command> subcommands = command.Subcommands.Where(c => !c.Hidden).ToList();
        entries.Add(new CommandEntry(
            path,
            command.Description ?? "",
            subcommands.Select(c => c.Name).ToList(),
            all.Select(Entry).ToList(),
            own.Where(o => !o.Recursive).Select(Entry).ToList(),
            command.Arguments.Where(a => !a.Hidden).Select(Entry).ToList()));
        List<Option> passedDown = [.. inherited, .. own.Where(o => o.Recursive)];
        foreach (Command subcommand in subcommands)
            Visit(subcommand, $"{path} {subcommand.Name}", passedDown, entries);
    }

    private static OptionEntry Entry(Option option)
    {
        bool flag = option.Arity.MaximumNumberOfValues == 0 || option.ValueType == typeof(bool);
        ValueHint hint = flag ? ValueHint.Text : ValueHints.Of(option);
        string? valueName = flag ? null : (option.HelpName ?? hint switch
        {
            ValueHint.File => "FILE",
            ValueHint.Directory => "DIR",
            _ => option.Name.TrimStart('-'),
        }).ToUpperInvariant();
        return new OptionEntry(Spellings(option).ToList(), valueName, hint, flag ? [] : ValueHints.Choices(option), option.Description ?? "");
    }

    private static ArgumentEntry Entry(Argument argument) => new(
        argument.Name, ValueHints.Of(argument), ValueHints.Choices(argument),
        argument.Arity.MinimumNumberOfValues == 0, argument.Arity.MaximumNumberOfValues > 1, argument.Description ?? "");

    /// <summary>
    /// The names a user types: the primary name, then its aliases, leaving out the DOS-style
    /// spellings of --help (/h, /?, -?) that only make shell patterns awkward.
    /// </summary>
    private static IEnumerable<string> Spellings(Option option) =>
        new[] { option.Name }.Concat(option.Aliases.OrderByDescending(a => a.Length))
            .Where(n => n.StartsWith('-') && n.Skip(1).All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            .Distinct();
}
