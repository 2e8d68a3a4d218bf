using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Polykey.Core.Storage;

/// <summary>
/// The member that closes every change: it names the change's first byte and the SHA-256 of
/// all bytes from there to its own header, and chains to the record before it. A change
/// counts only once its record is wholly on disk and matches.
/// </summary>
internal sealed record TxnRecord(long Sequence, long Start, byte[] ContentHash, byte[] PreviousRecordHash)
{
    public const string MemberName = "polykey/txn";
    private const string Magic = "polykey-txn 1";

    /// <summary>How every record's data begins: what a search for records past damage looks for.</summary>
    public static ReadOnlySpan<byte> MagicBytes => "polykey-txn 1\n"u8;

    public byte[] Serialize() => Encoding.ASCII.GetBytes(
        $"{Magic}\nseq {Sequence.ToString(CultureInfo.InvariantCulture)}\nstart {Start.ToString(CultureInfo.InvariantCulture)}\n" +
        $"sha256 {Convert.ToHexStringLower(ContentHash)}\nprev {Convert.ToHexStringLower(PreviousRecordHash)}\n");

    public static byte[] HashOf(ReadOnlySpan<byte> serialized) => Digests.Sha256(serialized);

    public static TxnRecord? TryParse(ReadOnlySpan<byte> data)
    {
        string text;
        try { text = new UTF8Encoding(false, true).GetString(data); }
        catch (ArgumentException) { return null; }
        string[] lines = text.Split('\n');
        if (lines.Length < 5 || lines[0] != Magic) return null;
        var fields = new Dictionary<string, string>();
        foreach (string line in lines.Skip(1))
        {
            int space = line.IndexOf(' ');
            if (space > 0) fields[line[..space]] = line[(space + 1)..];
        }
        try
        {
            return new TxnRecord(
                long.Parse(fields["seq"], CultureInfo.InvariantCulture),
                long.Parse(fields["start"], CultureInfo.InvariantCulture),
                Convert.FromHexString(fields["sha256"]),
                Convert.FromHexString(fields["prev"]));
        }
        catch (Exception e) when (e is KeyNotFoundException or FormatException or OverflowException)
        {
            return null;
        }
    }
}
