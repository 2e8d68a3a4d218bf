using System.Text;
using System.Text.RegularExpressions;

namespace Polykey.Core.Access;

/// <summary>
/// A grant's path pattern: `*` matches within one segment, `**` across segments, `?` one
/// character; anything else is literal. `prod/**` covers every secret under prod/.
/// </summary>
public sealed class PathPattern
{
    private readonly Regex _regex;

    public PathPattern(string text)
    {
        if (text.Length == 0 || text.StartsWith('/') || text.Contains('\0'))
            throw PolykeyException.Usage($"invalid pattern \"{text}\"", "patterns look like prod/** or prod/*/password");
        Text = text;
        var regex = new StringBuilder("^");
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '*' && i + 1 < text.Length && text[i + 1] == '*')
            {
                regex.Append(".*");
                i++;
            }
            else if (text[i] == '*') regex.Append("[^/]*");
            else if (text[i] == '?') regex.Append("[^/]");
            else regex.Append(Regex.Escape(text[i].ToString()));
        }
        _regex = new Regex(regex.Append('$').ToString(), RegexOptions.CultureInvariant | RegexOptions.Singleline);
    }

    public string Text { get; }

    public bool Matches(string path) => _regex.IsMatch(path);

    public override string ToString() => Text;
}
