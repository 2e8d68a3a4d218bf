using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Polykey.Core.Crypto;

/// <summary>
/// The public half of an identity: an OpenPGP certificate with an Ed25519 signing primary key
/// and a Cv25519 encryption subkey. Named by its v4 fingerprint.
/// </summary>
public sealed class Identity
{
    internal Identity(PgpPublicKeyRing ring)
    {
        Ring = ring;
        PgpPublicKey primary = ring.GetPublicKey();
        Fingerprint = Convert.ToHexString(primary.GetFingerprint());
        Label = primary.GetUserIds().FirstOrDefault() ?? "";
        SigningKey = primary;
        EncryptionKey = ring.GetPublicKeys().FirstOrDefault(k => !k.IsMasterKey && k.IsEncryptionKey)
            ?? throw PolykeyException.Failed($"identity {Fingerprint} has no encryption subkey");
    }

    internal PgpPublicKeyRing Ring { get; }
    internal PgpPublicKey SigningKey { get; }
    internal PgpPublicKey EncryptionKey { get; }

    /// <summary>40 upper-case hex digits.</summary>
    public string Fingerprint { get; }
    public string Label { get; }
    public DateTimeOffset Created => new(DateTime.SpecifyKind(SigningKey.CreationTime, DateTimeKind.Utc));

    public byte[] ToBinary() => Ring.GetEncoded();

    public string ToArmored() => Armor.Wrap(Ring.Encode);

    /// <summary>Reads a public certificate, armored or binary.</summary>
    public static Identity Load(byte[] data, string source)
    {
        try
        {
            var factory = new PgpObjectFactory(Armor.Unwrap(data));
            return factory.NextPgpObject() switch
            {
                PgpPublicKeyRing ring => new Identity(ring),
                PgpSecretKeyRing secret => new Identity(PublicRingOf(secret)),
                _ => throw PolykeyException.Failed($"{source} holds no OpenPGP key"),
            };
        }
        catch (Exception e) when (HostileInput.IsParseFailure(e))
        {
            throw PolykeyException.Failed($"{source} is not a readable OpenPGP key");
        }
    }

    /// <summary>
    /// The certificate inside a secret key ring. BouncyCastle encodes a secret ring's subkeys
    /// with the primary-key packet tag (6); a certificate needs the subkey tag (14) there.
    /// </summary>
    internal static PgpPublicKeyRing PublicRingOf(PgpSecretKeyRing secret)
    {
        using var encoded = new MemoryStream();
        bool primary = true;
        foreach (PgpPublicKey key in secret.GetPublicKeys())
        {
            byte[] bytes = key.GetEncoded();
            if (!primary) bytes[0] = AsSubkeyTag(bytes[0]);
            encoded.Write(bytes);
            primary = false;
        }
        return new PgpPublicKeyRing(encoded.ToArray());
    }

    private static byte AsSubkeyTag(byte packetHeader)
    {
        const int publicKeyTag = 6, publicSubkeyTag = 14;
        bool newFormat = (packetHeader & 0x40) != 0;
        int tag = newFormat ? packetHeader & 0x3F : (packetHeader >> 2) & 0x0F;
        if (tag != publicKeyTag) return packetHeader;
        return newFormat
            ? (byte)(0xC0 | publicSubkeyTag)
            : (byte)((packetHeader & 0x83) | (publicSubkeyTag << 2));
    }

    internal long EncryptionKeyId => EncryptionKey.KeyId;
}
