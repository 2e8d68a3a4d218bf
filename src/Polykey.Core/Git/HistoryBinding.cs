using System.Globalization;

namespace Polykey.Core.Git;

/// <summary>
/// What a format-2 commit says it is, inside what its signer signed: the history (secret id)
/// it belongs to and its version number there. So a signed version cannot be replayed under
/// another id, and a history's versions count up one by one from 1.
/// </summary>
internal readonly record struct HistoryBinding(string HistoryId, long Sequence)
{
    private const string Title = "polykey version\n";

    /// <summary>The commit message: a fixed title, then the binding; nothing about the secret itself.</summary>
    public string Message() =>
        $"{Title}\nhistory {HistoryId}\nsequence {Sequence.ToString(CultureInfo.InvariantCulture)}\n";

    /// <summary>The binding a message states, or null when it is not exactly of the form <see cref="Message"/> writes.</summary>
    public static HistoryBinding? TryParse(string message)
    {
        string[] lines = message.Split('\n');
        if (lines.Length != 5 || lines[0] + "\n" != Title || lines[1].Length != 0 || lines[4].Length != 0) return null;
        if (!lines[2].StartsWith("history ", StringComparison.Ordinal) || !lines[3].StartsWith("sequence ", StringComparison.Ordinal)) return null;
        string id = lines[2]["history ".Length..];
        string number = lines[3]["sequence ".Length..];
        if (!Storage.KeynodeLayout.IsHistoryId(id) || number.Length is 0 or > 18 || number[0] == '0'
            || !long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out long sequence))
            return null;
        return new HistoryBinding(id, sequence);
    }
}
