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
    public const int FormatVersion = 1;
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

    /// <summary>Parses the header member; returns the keynode id.</summary>
    public static string ParseHeader(byte[] data, string fileLabel)
    {
        string[] lines = Encoding.ASCII.GetString(data).Split('\n');
        string[] first = lines[0].Split(' ');
        if (first.Length != 2 || first[0] != HeaderMagic || !int.TryParse(first[1], out int version))
            throw NotAKeynode(fileLabel);
        if (version != FormatVersion)
            throw PolykeyException.Failed($"{fileLabel} uses keynode format {version}; this pk reads format {FormatVersion}",
                "install a newer pk");
        string? id = lines.Skip(1).FirstOrDefault(l => l.StartsWith("id ", StringComparison.Ordinal))?[3..];
        return id ?? throw NotAKeynode(fileLabel);
    }

    public static PolykeyException NotAKeynode(string fileLabel) =>
        PolykeyException.Failed($"{fileLabel} is not a keynode file", "name a file made by 'pk init' with --keynode");
}
