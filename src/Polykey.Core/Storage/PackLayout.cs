namespace Polykey.Core.Storage;

/// <summary>
/// The names of packed members (docs/keynode-format.md §4.3, §4.4): a pack and its index,
/// `objects/pack/pack-&lt;40 hex&gt;.pack` and `.idx`, named by the pack's checksum as git names
/// them, and `packed-refs`. Which of them a scan reads whole, and up to how much.
/// </summary>
internal static class PackLayout
{
    public const string PackDirectory = "objects/pack/";
    public const string PackedRefsMember = "packed-refs";
    private const string PackPrefix = PackDirectory + "pack-";
    private const string PackSuffix = ".pack";
    private const string IndexSuffix = ".idx";

    /// <summary>A pack's first 12 bytes ("PACK", version, count) and last 20 (its checksum).</summary>
    public const int EndsBytes = Git.PackIndex.PackHeaderBytes + Git.PackIndex.PackTrailerBytes;

    public static string PackMember(string checksumHex) => PackPrefix + checksumHex + PackSuffix;

    public static string IndexMember(string checksumHex) => PackPrefix + checksumHex + IndexSuffix;

    public static bool IsPack(string name) => name.StartsWith(PackDirectory, StringComparison.Ordinal) && name.EndsWith(PackSuffix, StringComparison.Ordinal);

    public static bool IsIndex(string name) => name.StartsWith(PackDirectory, StringComparison.Ordinal) && name.EndsWith(IndexSuffix, StringComparison.Ordinal);

    /// <summary>The largest size at which a scan reads a member whole (an index, packed-refs); null for members it does not.</summary>
    public static long? ReadWhole(string name) =>
        name == PackedRefsMember ? Limits.MaxPackedRefsBytes : IsIndex(name) ? Limits.MaxPackIndexBytes : null;

    /// <summary>The 40 lower-case hex digits a pack or index member is named by; null when its name is not one.</summary>
    public static string? ChecksumOf(string name)
    {
        string suffix = IsPack(name) ? PackSuffix : IsIndex(name) ? IndexSuffix : "";
        if (suffix.Length == 0 || name.Length != PackPrefix.Length + 40 + suffix.Length || !name.StartsWith(PackPrefix, StringComparison.Ordinal)) return null;
        string hex = name.Substring(PackPrefix.Length, 40);
        return hex.AsSpan().ContainsAnyExcept("0123456789abcdef") ? null : hex;
    }
}
