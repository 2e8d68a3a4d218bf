using Org.BouncyCastle.Bcpg;

namespace Polykey.Core.Crypto;

/// <summary>ASCII armor without BouncyCastle's version header, so output is the same whatever library version wrote it.</summary>
internal static class Armor
{
    public static string Wrap(Action<Stream> writeBinary)
    {
        using var text = new MemoryStream();
        using (var armored = new ArmoredOutputStream(text, addVersionHeader: false))
            writeBinary(armored);
        return System.Text.Encoding.ASCII.GetString(text.ToArray());
    }

    /// <summary>Accepts armored or binary OpenPGP data and returns the decoder stream over it.</summary>
    public static Stream Unwrap(byte[] data) => Org.BouncyCastle.Bcpg.OpenPgp.PgpUtilities.GetDecoderStream(new MemoryStream(data, writable: false));
}
