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
                "paths look like prod/db/password: '/'-separated, no empty segment, no '.' or '..', at most 255 bytes");
        return path;
    }

    public static bool IsValid(string path) => Check(path) is null;

    /// <summary>True when <paramref name="path"/> equals the prefix or lies below it as a directory.</summary>
    public static bool IsUnder(string path, string prefix)
    {
        if (prefix.Length == 0) return true;
        if (prefix.EndsWith('/')) return path.StartsWith(prefix, StringComparison.Ordinal);
        return path == prefix || path.StartsWith(prefix + "/", StringComparison.Ordinal);
    }

    private static string? Check(string path)
    {
        if (path.Length == 0) return "it is empty";
        if (path.Contains('\0')) return "it contains a NUL character";
        if (path.StartsWith('/')) return "it starts with '/'";
        if (path.EndsWith('/')) return "it ends with '/'";
        int bytes;
        try { bytes = new UTF8Encoding(false, true).GetByteCount(path); }
        catch (ArgumentException) { return "it is not valid UTF-8"; }
        if (bytes > MaxBytes) return $"it is {bytes} bytes long (the limit is {MaxBytes})";
        foreach (string segment in path.Split('/'))
        {
            if (segment.Length == 0) return "it has an empty segment";
            if (segment is "." or "..") return $"it has a '{segment}' segment";
        }
        return null;
    }

    // Paths in error messages are user input, so control characters are escaped rather than echoed raw.
    private static string Printable(string path)
    {
        var sb = new StringBuilder();
        foreach (char c in path.Length > 80 ? path[..80] + "…" : path)
            sb.Append(char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString());
        return sb.ToString();
    }
}
