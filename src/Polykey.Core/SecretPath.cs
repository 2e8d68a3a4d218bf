using System.Text;

namespace Polykey.Core;

/// <summary>A validated secret name: '/'-separated UTF-8 segments, at most 255 bytes.</summary>
public static class SecretPath
{
    public const int MaxBytes = 255;

    /// <summary>Returns the path unchanged if valid, else throws a usage error naming the rule broken.</summary>
    public static string Validate(string path)
    {
        string? problem = Check(path);
        if (problem is not null)
            throw PolykeyException.Usage($"invalid secret path \"{Printable(path)}\": {problem}",
                "paths look like prod/db/password: '/'-separated, no empty segment, no '.' or '..', no control characters, at most 255 bytes");
        return path;
    }

    public static bool IsValid(string path) => Check(path) is null;

    /// <summary>
    /// For names that may already exist: every rule but the character rules (an older pk or a
    /// grantee may have stored a control character), which the keynode applies to new names.
    /// </summary>
    public static string ValidateLookup(string path)
    {
        if (Check(path, characters: false) is null) return path;
        return Validate(path);
    }

    /// <summary>True when <paramref name="path"/> equals the prefix or lies below it as a directory.</summary>
    public static bool IsUnder(string path, string prefix)
    {
        if (prefix.Length == 0) return true;
        if (prefix.EndsWith('/')) return path.StartsWith(prefix, StringComparison.Ordinal);
        return path == prefix || path.StartsWith(prefix + "/", StringComparison.Ordinal);
    }

    private static string? Check(string path, bool characters = true)
    {
        if (path.Length == 0) return "it is empty";
        if (path.StartsWith('/')) return "it starts with '/'";
        if (path.EndsWith('/')) return "it ends with '/'";
        for (int i = 0; i < path.Length; i++)
        {
            if (IsPairAt(path, i)) i++;
            else if (path[i] == '\0' || characters) { if (CharacterProblem(path[i]) is { } problem) return problem; }
        }
        int bytes = Encoding.UTF8.GetByteCount(path);
        if (bytes > MaxBytes) return $"it is {bytes} bytes long (the limit is {MaxBytes})";
        foreach (string segment in path.Split('/'))
        {
            if (segment.Length == 0) return "it has an empty segment";
            if (segment is "." or "..") return $"it has a '{segment}' segment";
        }
        return null;
    }

    // Names are stored as UTF-8 and shown on terminals: no controls, nothing that is not a
    // character, and no U+FFFD, which .NET puts in place of invalid UTF-8 in arguments (two
    // different invalid names would otherwise become one secret).
    private static string? CharacterProblem(char c) => c switch
    {
        '\0' => "it contains a NUL character",
        _ when char.IsControl(c) => $"it contains the control character U+{(int)c:X4}",
        '\uFFFD' => "it contains U+FFFD, the character that stands in for invalid UTF-8",
        _ when char.IsSurrogate(c) => "it is not valid UTF-8 (it holds a lone surrogate)",
        _ => null,
    };

    /// <summary>
    /// Text from a keynode or from the user made safe to print on a terminal: control characters
    /// become \xNN and lone surrogates \uXXXX; everything else stays as it is.
    /// </summary>
    public static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsControl(c)) escaped.Append($"\\x{(int)c:x2}");
            else if (IsPairAt(text, i)) escaped.Append(c).Append(text[++i]);
            else if (char.IsSurrogate(c)) escaped.Append($"\\u{(int)c:x4}");
            else escaped.Append(c);
        }
        return escaped.ToString();
    }

    private static bool IsPairAt(string text, int i) =>
        char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);

    // Paths in error messages are user input, so control characters are escaped rather than echoed raw.
    private static string Printable(string path) => Escape(path.Length > 80 ? path[..80] + "…" : path);
}
