using System.Globalization;

namespace Polykey.Core.Git;

/// <summary>
/// What a commit says it is, inside what its signer signed: the history (secret id) it belongs
/// to, the keynode whose rules govern that history (its origin, format 3), and its version
/// number there. So a signed version cannot be replayed under another id or another keynode's
/// rules, and a history's versions count up one by one from 1.
/// </summary>
internal readonly record struct HistoryBinding(string HistoryId, string? Origin, long Sequence)
{
    private const string Title = "polykey version\n";

    /// <summary>The commit message: a fixed title, then the binding; nothing about the secret itself.</summary>
    public string Message() => Origin is null
        ? $"{Title}\nhistory {HistoryId}\nsequence {Number()}\n"
        : $"{Title}\nhistory {HistoryId}\norigin {Origin}\nsequence {Number()}\n";

    private string Number() => Sequence.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The binding a message states, or null when it is not exactly of the form <see cref="Message"/>
    /// writes. Format-2 messages have no origin line (read only to be upgraded).
    /// </summary>
    public static HistoryBinding? TryParse(string message)
    {
        string[] lines = message.Split('\n');
        if (lines.Length is not (5 or 6) || lines[0] + "\n" != Title || lines[1].Length != 0 || lines[^1].Length != 0) return null;
        string? id = Value(lines[2], "history ");
        string? origin = lines.Length == 6 ? Value(lines[3], "origin ") : null;
        string? number = Value(lines[^2], "sequence ");
        if (id is null || number is null || lines.Length == 6 && (origin is null || !Storage.KeynodeLayout.IsHistoryId(origin))) return null;
        if (!Storage.KeynodeLayout.IsHistoryId(id) || number.Length is 0 or > 18 || number[0] == '0'
            || !long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out long sequence))
            return null;
        return new HistoryBinding(id, origin, sequence);
    }

    private static string? Value(string line, string key) => line.StartsWith(key, StringComparison.Ordinal) ? line[key.Length..] : null;
}
