namespace Polykey.Cli;

/// <summary>"Did you mean ...": the known names closest to what was typed, by edit distance.</summary>
internal static class Suggestions
{
    /// <summary>
    /// The names nearest to <paramref name="typed"/> (ties all returned), or none when even the
    /// nearest is too far to be a typo: more than a third of the word, and never more than 3 edits.
    /// A name the typed word begins (pk remo -> remote) always counts as near.
    /// </summary>
    public static IReadOnlyList<string> Closest(string typed, IEnumerable<string> names)
    {
        int allowed = Math.Clamp(typed.Length / 3, 1, 3);
        List<(string Name, int Distance)> scored = names
            .Distinct()
            .Select(n => (n, n.StartsWith(typed, StringComparison.Ordinal) && typed.Length >= 2 ? 0 : Distance(typed, n)))
            .Where(s => s.Item2 <= allowed)
            .ToList();
        if (scored.Count == 0) return [];
        int best = scored.Min(s => s.Distance);
        return scored.Where(s => s.Distance == best).Select(s => s.Name).ToList();
    }

    /// <summary>Edits (insert, delete, substitute, swap two neighbours) from a to b: optimal string alignment distance.</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }

    /// <summary>"'a'", "'a' or 'b'", "'a', 'b' or 'c'".</summary>
    public static string Quoted(IReadOnlyList<string> names) =>
        names.Count == 1 ? $"'{names[0]}'" : string.Join(", ", names.SkipLast(1).Select(n => $"'{n}'")) + $" or '{names[^1]}'";
}
