using System.Text;

namespace Polykey.Core.Storage;

/// <summary>
/// A note beside a cache file (its name + ".checked") saying that the file, as the file system
/// stamps it, once read back whole: its checksum matched and its tables were in order. An open
/// of the same, unchanged file trusts that check instead of hashing 13 MB again, so that a
/// warm open costs what it looks up. Any write to the file, or another file renamed over it,
/// changes the stamp and the check is made again; a file changed in the last seconds gets no
/// receipt (see <see cref="FileStamp.Settling"/>). Damage the file system cannot see (the disk
/// changing a byte by itself) is then met only where it is used: every object read is still
/// checked against its SHA-1, and never gives a wrong value, but the errors it causes last until
/// the snapshot is removed (format spec §8.2, §8.4).
/// </summary>
internal static class CheckReceipt
{
    private const string Magic = "polykey-checked 1";
    private const int MaxBytes = 256;

    public static string PathFor(string path) => path + ".checked";

    /// <summary>Whether a receipt names this very file (stamp and stored checksum).</summary>
    public static bool Holds(string path, FileStamp? stamp, ReadOnlySpan<byte> checksum)
    {
        if (stamp is not { } known) return false;
        try
        {
            string receipt = PathFor(path);
            if (!File.Exists(receipt)) return false;
            using var stream = new FileStream(receipt, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            Span<byte> buffer = stackalloc byte[MaxBytes];
            int read = stream.ReadAtLeast(buffer, MaxBytes, throwOnEndOfStream: false);
            return read < MaxBytes && buffer[..read].SequenceEqual(Encoding.ASCII.GetBytes(Line(known, checksum)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Leaves a receipt for a file just read back whole, unless it changed too recently to tell a later write by its stamp.</summary>
    public static void Write(string path, FileStamp? stamp, ReadOnlySpan<byte> checksum)
    {
        if (stamp is { } known && known.HasSettled(DateTimeOffset.UtcNow)) Record(path, known, checksum);
    }

    /// <summary>Leaves a receipt for the file as stamped, settled or not (tests forge one with it).</summary>
    internal static void Record(string path, FileStamp stamp, ReadOnlySpan<byte> checksum) =>
        PrivateFile.TryReplace(PathFor(path), Encoding.ASCII.GetBytes(Line(stamp, checksum)));

    private static string Line(FileStamp stamp, ReadOnlySpan<byte> checksum) => $"{Magic}\n{stamp} {Convert.ToHexStringLower(checksum)}\n";
}
