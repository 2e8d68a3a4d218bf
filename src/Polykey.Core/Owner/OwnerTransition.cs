using System.Globalization;
using System.Text;
using Polykey.Core.Crypto;

namespace Polykey.Core.Owner;

/// <summary>
/// "The owner of keynode K moves from key A to key B at time T": the blob of a version of the
/// keynode's owner history, in clear (both certificates are public anyway). The new key signs
/// the statement (so nobody can be named owner without holding that key); the commit that holds
/// it is signed by the old key (so nobody can move the owner without holding the old one).
/// </summary>
internal sealed record OwnerTransition(string KeynodeId, string From, Identity To, DateTimeOffset Time)
{
    private const string Magic = "polykey-owner-transition 1";

    /// <summary>Bigger blobs are refused unread: a certificate and a signature fit in a few KiB.</summary>
    public const int MaxBytes = 64 * 1024;

    /// <summary>The statement, signed by the new key (its secret half is needed once, here).</summary>
    public static byte[] Write(string keynodeId, string from, SecretIdentity to, DateTimeOffset time)
    {
        byte[] statement = Statement(keynodeId, from, to.Public, time);
        string signature = CommitSignature.Sign(statement, to);
        return [.. statement, .. "\n"u8, .. Encoding.ASCII.GetBytes(signature)];
    }

    private static byte[] Statement(string keynodeId, string from, Identity to, DateTimeOffset time) => Encoding.ASCII.GetBytes(
        $"{Magic}\nkeynode {keynodeId}\nfrom {from}\nto {to.Fingerprint}\ntime {time.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}\n" +
        $"key {Convert.ToBase64String(to.ToBinary())}\n");

    /// <summary>The statement a blob holds, checked against the new key's own signature; throws, saying why, when it is not one.</summary>
    public static OwnerTransition Parse(byte[] blob, string where)
    {
        if (blob.Length > MaxBytes) throw Bad(where, "it is larger than a transition can be");
        string text = Encoding.ASCII.GetString(blob);
        int split = text.IndexOf("\n\n", StringComparison.Ordinal);
        if (split < 0) throw Bad(where, "it has no signature by the new key");
        string[] lines = text[..(split + 1)].Split('\n');
        if (lines.Length != 7 || lines[0] != Magic || lines[6].Length != 0) throw Bad(where, "it is not a transition statement");
        string? keynode = Value(lines[1], "keynode "), from = Value(lines[2], "from "), to = Value(lines[3], "to ");
        string? time = Value(lines[4], "time "), key = Value(lines[5], "key ");
        if (keynode is null || !Storage.KeynodeLayout.IsHistoryId(keynode) || from is not { Length: 40 } || to is not { Length: 40 }
            || time is null || !long.TryParse(time, NumberStyles.None, CultureInfo.InvariantCulture, out long seconds) || seconds > 253402300799 || key is null)
            throw Bad(where, "it is not a transition statement");
        Identity identity;
        try
        {
            identity = Identity.Load(Convert.FromBase64String(key), where);
        }
        catch (FormatException)
        {
            throw Bad(where, "its new key is not readable");
        }
        if (identity.Fingerprint != to) throw Bad(where, "its new key is not the one it names");
        if (from == to) throw Bad(where, "it moves the owner to the key it already has");
        byte[] signed = Encoding.ASCII.GetBytes(text[..(split + 1)]);
        if (!CommitSignature.Verify(signed, text[(split + 2)..], identity))
            throw Bad(where, "it is not signed by the new key it names");
        return new OwnerTransition(keynode, from, identity, DateTimeOffset.FromUnixTimeSeconds(seconds));
    }

    private static string? Value(string line, string key) => line.StartsWith(key, StringComparison.Ordinal) ? line[key.Length..] : null;

    private static PolykeyException Bad(string where, string why) => PolykeyException.Failed($"{where} is not a valid owner transition: {why}");
}
