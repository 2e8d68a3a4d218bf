namespace Polykey.Core.Access;

/// <summary>
/// Whether two path patterns can match a common path. Used to tell a grantee only the rules
/// that concern the paths it reads or writes. Errs towards "yes" (it ignores the rules of
/// path segments), never towards "no".
/// </summary>
internal static class PatternOverlap
{
    private enum Kind { Literal, One, Star, DoubleStar }

    private readonly record struct Token(Kind Kind, char Char)
    {
        public bool IsStar => Kind is Kind.Star or Kind.DoubleStar;

        // Whether this star may stand for a string holding the character c.
        public bool StarTakes(char c) => Kind == Kind.DoubleStar || c != '/';
    }

    public static bool MayOverlap(string a, string b)
    {
        Token[] x = Tokens(a), y = Tokens(b);
        var seen = new HashSet<(int, int)>();
        var pending = new Stack<(int, int)>();
        pending.Push((0, 0));
        while (pending.TryPop(out var state))
        {
            if (!seen.Add(state)) continue;
            (int i, int j) = state;
            if (i == x.Length && j == y.Length) return true;
            foreach (var next in Steps(x, y, i, j)) pending.Push(next);
            foreach (var next in Steps(y, x, j, i)) pending.Push((next.Item2, next.Item1));
        }
        return false;
    }

    // Moves where the token of `p` at i leads: a star matches nothing, or takes the other side's next character.
    private static IEnumerable<(int, int)> Steps(Token[] p, Token[] q, int i, int j)
    {
        if (i == p.Length) yield break;
        Token t = p[i];
        if (t.IsStar)
        {
            yield return (i + 1, j);
            if (j < q.Length && q[j] is { IsStar: false } c && (c.Kind == Kind.One || t.StarTakes(c.Char))) yield return (i, j + 1);
            yield break;
        }
        if (j == q.Length || q[j].IsStar) yield break; // the other side's star is handled from its side
        Token u = q[j];
        bool meets = (t.Kind, u.Kind) switch
        {
            (Kind.Literal, Kind.Literal) => t.Char == u.Char,
            (Kind.Literal, Kind.One) => t.Char != '/',
            (Kind.One, Kind.Literal) => u.Char != '/',
            _ => true,
        };
        if (meets) yield return (i + 1, j + 1);
    }

    private static Token[] Tokens(string pattern)
    {
        var tokens = new List<Token>(pattern.Length);
        for (int i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                tokens.Add(new Token(Kind.DoubleStar, '\0'));
                i++;
            }
            else if (pattern[i] == '*') tokens.Add(new Token(Kind.Star, '\0'));
            else if (pattern[i] == '?') tokens.Add(new Token(Kind.One, '\0'));
            else tokens.Add(new Token(Kind.Literal, pattern[i]));
        }
        return tokens.ToArray();
    }
}
