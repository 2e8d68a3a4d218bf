using System.Globalization;
using System.Text;

namespace Polykey.Core.Storage;

/// <summary>The fixed member names of a keynode archive and the header that opens it.</summary>
internal static class KeynodeLayout
{
    public const string HeaderMember = "polykey/keynode";
    public const string OwnerPublicKeyMember = "polykey/owner.pub";
    public const string OwnerSealedKeyMember = "polykey/owner.key.pgp";
    public const string SecretRefPrefix = "refs/secrets/";
    /// <summary>Another keynode's tip of a history that diverged from this one's, kept until the conflict is settled.</summary>
    public const string ConflictRefPrefix = "refs/conflicts/";
    /// <summary>What this pk writes. Formats 1 (no bound histories) and 2 (no origins) are read only to upgrade them.</summary>
    public const int FormatVersion = 3;
    public const int LegacyFormatVersion = 1;
    private const string HeaderMagic = "polykey-keynode";

    /// <summary>Git files that make the extracted archive a valid bare repository.</summary>
    public static IEnumerable<PendingMember> GitSkeleton() =>
    [
        new("HEAD", Encoding.ASCII.GetBytes("ref: refs/heads/main\n")),
        new("config", Encoding.ASCII.GetBytes("[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n")),
        PendingMember.Directory("objects/"),
        PendingMember.Directory("refs/"),
        PendingMember.Directory("refs/heads/"),
        PendingMember.Directory("refs/secrets/"),
    ];

    public static byte[] Header(string keynodeId) =>
        Encoding.ASCII.GetBytes($"{HeaderMagic} {FormatVersion.ToString(CultureInfo.InvariantCulture)}\nid {keynodeId}\n");

    /// <summary>Parses the header member; returns the keynode id and the format version.</summary>
    public static (string Id, int Version) ParseHeader(byte[] data, string fileLabel)
    {
        if (data.Length > 512 || data.AsSpan().ContainsAnyExceptInRange((byte)0x0a, (byte)0x7e)) throw NotAKeynode(fileLabel);
        string[] lines = Encoding.ASCII.GetString(data).Split('\n');
        string[] first = lines[0].Split(' ');
        if (first.Length != 2 || first[0] != HeaderMagic || !int.TryParse(first[1], NumberStyles.None, CultureInfo.InvariantCulture, out int version))
            throw NotAKeynode(fileLabel);
        if (version is < LegacyFormatVersion or > FormatVersion)
            throw PolykeyException.Failed($"{fileLabel} uses keynode format {version}; this pk reads formats {LegacyFormatVersion} to {FormatVersion}",
                "install a newer pk");
        string? id = lines.Skip(1).FirstOrDefault(l => l.StartsWith("id ", StringComparison.Ordinal))?[3..];
        return id is not null && IsHistoryId(id) ? (id, version) : throw NotAKeynode(fileLabel);
    }

    /// <summary>Whether a file's first block is the header member every keynode starts with.</summary>
    public static bool StartsAsKeynode(ReadOnlySpan<byte> firstBlock) =>
        TarHeader.TryParse(firstBlock) is { Name: HeaderMember };

    /// <summary>History and keynode ids: 32 lower-case hex digits (128 random bits).</summary>
    public static bool IsHistoryId(string id) => id.Length == 32 && !id.AsSpan().ContainsAnyExcept("0123456789abcdef");

    public static PolykeyException NotAKeynode(string fileLabel) =>
        PolykeyException.Failed($"{fileLabel} is not a keynode file", "name a file made by 'pk init' with --keynode");
}
