using System.Globalization;

namespace Polykey.Cli;

/// <summary>Sizes as users write them: 1048576, 512K, 2M, 1G, or 64KiB, 2MiB, 1GiB (all powers of 1024).</summary>
internal static class ByteSize
{
    private static readonly (string Suffix, long Factor)[] Units =
    [
        ("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10),
        ("G", 1L << 30), ("M", 1L << 20), ("K", 1L << 10),
    ];

    /// <summary>The size in bytes, or null when <paramref name="text"/> is not a size.</summary>
    public static long? Parse(string text)
    {
        string trimmed = text.Trim();
        long factor = 1;
        foreach ((string suffix, long f) in Units)
        {
            if (!trimmed.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) continue;
            trimmed = trimmed[..^suffix.Length].TrimEnd();
            factor = f;
            break;
        }
        if (trimmed.Length == 0 || !trimmed.All(char.IsAsciiDigit) || !long.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out long count))
            return null;
        return count <= long.MaxValue / factor ? count * factor : null;
    }

    /// <summary>"64 MiB", "1 GiB", "1000 bytes": the largest unit that divides the size evenly.</summary>
    public static string Format(long bytes)
    {
        foreach ((string suffix, long factor) in Units.Take(3))
            if (bytes >= factor && bytes % factor == 0) return $"{bytes / factor} {suffix}";
        return $"{bytes} bytes";
    }
}
