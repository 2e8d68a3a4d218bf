using System.Globalization;
using System.Text;

namespace Polykey.Core.Owner;

/// <summary>
/// "Owner key F of keynode K is compromised": the clear blob of the one version of a revocation
/// history, signed (its commit) by F itself when the certificate was made, so it can be applied
/// after F is lost. It takes power away only: from the change where a reader first meets it, no
/// new version signed by F is accepted.
/// </summary>
internal sealed record OwnerRevocation(string KeynodeId, string Key, DateTimeOffset Made)
{
    private const string Magic = "polykey-owner-revocation 1";

    public const int MaxBytes = 4096;

    public static byte[] Write(string keynodeId, string key, DateTimeOffset made) => Encoding.ASCII.GetBytes(
        $"{Magic}\nkeynode {keynodeId}\nkey {key}\nmade {made.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}\n");

    public static OwnerRevocation Parse(byte[] blob, string where)
    {
        string[] lines = blob.Length > MaxBytes ? [] : Encoding.ASCII.GetString(blob).Split('\n');
        string? keynode = lines.Length == 5 && lines[0] == Magic && lines[4].Length == 0 ? Value(lines[1], "keynode ") : null;
        string? key = keynode is null ? null : Value(lines[2], "key ");
        string? made = key is null ? null : Value(lines[3], "made ");
        if (keynode is null || !Storage.KeynodeLayout.IsHistoryId(keynode) || key is not { Length: 40 } || made is null
            || !long.TryParse(made, NumberStyles.None, CultureInfo.InvariantCulture, out long seconds) || seconds > 253402300799)
            throw PolykeyException.Failed($"{where} is not a valid owner revocation");
        return new OwnerRevocation(keynode, key, DateTimeOffset.FromUnixTimeSeconds(seconds));
    }

    private static string? Value(string line, string key) => line.StartsWith(key, StringComparison.Ordinal) ? line[key.Length..] : null;
}
