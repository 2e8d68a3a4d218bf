using System.CommandLine;
using System.Runtime.CompilerServices;

namespace Polykey.Cli;

/// <summary>What kind of value an option or argument takes, so shell completion can offer candidates.</summary>
internal enum ValueHint
{
    /// <summary>Free text (a label, a duration, a number): nothing to offer.</summary>
    Text,
    /// <summary>One of a fixed set (from AcceptOnlyFromAmong).</summary>
    Choice,
    File,
    Directory,
    /// <summary>A secret path or prefix in the keynode: completed from `pk ls`.</summary>
    Secret,
    /// <summary>A remote's name (from `pk remote ls`) or a keynode file.</summary>
    Remote,
    User,
    Group,
    /// <summary>A program to run, then its arguments (files).</summary>
    Command,
}

/// <summary>
/// The value hint of each option and argument, set where the symbol is defined
/// (<c>new Option&lt;string?&gt;("--file").Completes(ValueHint.File)</c>) so the completion
/// scripts and the man page are generated from the definitions and cannot drift from them.
/// System.CommandLine 2 has no place for such a note on a symbol, hence this side table.
/// </summary>
internal static class ValueHints
{
    private static readonly ConditionalWeakTable<Symbol, object> Hints = new();

    public static TSymbol Completes<TSymbol>(this TSymbol symbol, ValueHint hint) where TSymbol : Symbol
    {
        Hints.AddOrUpdate(symbol, hint);
        return symbol;
    }

    /// <summary>The hint set with <see cref="Completes"/>; else Choice when the symbol lists its values, else Text.</summary>
    public static ValueHint Of(Symbol symbol)
    {
        if (Hints.TryGetValue(symbol, out object? hint)) return (ValueHint)hint;
        return Choices(symbol).Count > 0 ? ValueHint.Choice : ValueHint.Text;
    }

    /// <summary>The fixed values a symbol accepts (AcceptOnlyFromAmong), or none. Booleans are flags, not choices.</summary>
    public static IReadOnlyList<string> Choices(Symbol symbol)
    {
        Type? type = symbol switch { Option o => o.ValueType, Argument a => a.ValueType, _ => null };
        if (type == typeof(bool) || type == typeof(bool?)) return [];
        var context = System.CommandLine.Completions.CompletionContext.Empty;
        IEnumerable<System.CommandLine.Completions.CompletionItem> items = symbol switch
        {
            Option o => o.GetCompletions(context),
            Argument a => a.GetCompletions(context),
            _ => [],
        };
        return items.Select(i => i.Label).ToList();
    }
}
