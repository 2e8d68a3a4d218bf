using System.Text;

namespace Polykey.Cli.Manual;

/// <summary>
/// Writes man(7) roff. Text is escaped so that nothing in a description can become a request:
/// a leading '.' or '\'' is neutralised, every '-' is a real minus (so a copied option or example
/// works), and characters past ASCII are named (\[u2026]) because groff reads its input as Latin-1
/// unless a preprocessor says otherwise.
/// </summary>
internal sealed class Roff
{
    private readonly StringBuilder _text = new();

    public override string ToString() => _text.ToString();

    /// <summary>A request line: .TH, .SH, .TP, with its arguments already escaped or quoted.</summary>
    public Roff Request(string name, params string[] arguments)
    {
        _text.Append('.').Append(name);
        foreach (string argument in arguments) _text.Append(' ').Append(argument);
        _text.Append('\n');
        return this;
    }

    /// <summary>Raw roff (already escaped), as one line.</summary>
    public Roff Raw(string line)
    {
        _text.Append(line).Append('\n');
        return this;
    }

    /// <summary>Text as one filled paragraph line.</summary>
    public Roff Text(string text) => Raw(Escape(text));

    /// <summary>Lines kept as they are (an example), indented.</summary>
    public Roff Literal(IEnumerable<string> lines)
    {
        Request("RS", "4").Request("nf");
        foreach (string line in lines) Text(line);
        return Request("fi").Request("RE");
    }

    /// <summary>A quoted request argument: .SS "pk identity show".</summary>
    public static string Quoted(string text) => "\"" + Escape(text).Replace("\"", "\\(dq") + "\"";

    public static string Bold(string text) => $"\\fB{Escape(text)}\\fR";

    public static string Italic(string text) => $"\\fI{Escape(text)}\\fR";

    public static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length + 8);
        foreach (Rune rune in text.EnumerateRunes())
        {
            switch (rune.Value)
            {
                case '\\': escaped.Append("\\e"); break;
                case '-': escaped.Append("\\-"); break;
                case '\n' or '\t': escaped.Append(' '); break;
                case < 0x20 or 0x7f: break;
                case < 0x80: escaped.Append((char)rune.Value); break;
                default: escaped.Append($"\\[u{rune.Value:X4}]"); break;
            }
        }
        // A line starting with . or ' would be read as a request.
        if (escaped.Length > 0 && escaped[0] is '.' or '\'') escaped.Insert(0, "\\&");
        return escaped.ToString();
    }
}
