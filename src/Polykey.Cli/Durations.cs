using System.Globalization;
using Polykey.Core;

namespace Polykey.Cli;

/// <summary>Durations on the command line: a whole number with s, m, h or d (seconds when bare).</summary>
internal static class Durations
{
    private static readonly Dictionary<char, long> Seconds = new() { ['s'] = 1, ['m'] = 60, ['h'] = 3600, ['d'] = 86400 };
    private const long MaxSeconds = 366L * 86400;

    public static TimeSpan Parse(string text, string option)
    {
        bool suffixed = text.Length > 0 && Seconds.ContainsKey(text[^1]);
        long unit = suffixed ? Seconds[text[^1]] : 1;
        string digits = suffixed ? text[..^1] : text;
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long count) || count < 1 || count > MaxSeconds / unit)
            throw PolykeyException.Usage($"{option} {text} is not a duration", "say 30s, 5m, 12h or 7d");
        return TimeSpan.FromSeconds(count * unit);
    }
}
