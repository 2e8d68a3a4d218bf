using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace Polykey.Core.Crypto;

/// <summary>
/// An identity with its private keys unlocked in memory. The decryption key is always
/// present; the signing key is absent for a read-only credential.
/// </summary>
public sealed class SecretIdentity
{
    private readonly PgpSecretKeyRing _ring;

    private SecretIdentity(PgpSecretKeyRing ring)
    {
        _ring = ring;
        Public = new Identity(Identity.PublicRingOf(ring));
        PgpSecretKey? encryption = ring.GetSecretKey(Public.EncryptionKey.KeyId);
        DecryptionKey = encryption is { IsPrivateKeyEmpty: false }
            ? encryption.ExtractPrivateKeyRaw(Array.Empty<byte>())
            : throw PolykeyException.Failed($"identity {Public.Fingerprint} has no decryption key");
        PgpSecretKey primary = ring.GetSecretKey();
        SigningKey = primary.IsPrivateKeyEmpty ? null : primary.ExtractPrivateKeyRaw(Array.Empty<byte>());
    }

    public Identity Public { get; }
    internal PgpPrivateKey DecryptionKey { get; }
    internal PgpPrivateKey? SigningKey { get; }
    public bool CanSign => SigningKey is not null;

    public static SecretIdentity Generate(string label)
    {
        var random = new SecureRandom();
        DateTime now = DateTime.UtcNow;
        var ed = new Ed25519KeyPairGenerator();
        ed.Init(new Ed25519KeyGenerationParameters(random));
        var primary = new PgpKeyPair(PublicKeyAlgorithmTag.EdDsa_Legacy, ed.GenerateKeyPair(), now);
        var x = new X25519KeyPairGenerator();
        x.Init(new X25519KeyGenerationParameters(random));
        var subkey = new PgpKeyPair(PublicKeyAlgorithmTag.ECDH, x.GenerateKeyPair(), now);

        var primaryPackets = new PgpSignatureSubpacketGenerator();
        primaryPackets.SetKeyFlags(false, PgpKeyFlags.CanCertify | PgpKeyFlags.CanSign);
        primaryPackets.SetPreferredSymmetricAlgorithms(false, [(int)SymmetricKeyAlgorithmTag.Aes256]);
        primaryPackets.SetPreferredHashAlgorithms(false, [(int)HashAlgorithmTag.Sha256, (int)HashAlgorithmTag.Sha512]);
        primaryPackets.SetPreferredCompressionAlgorithms(false, [(int)CompressionAlgorithmTag.Uncompressed]);
        var subkeyPackets = new PgpSignatureSubpacketGenerator();
        subkeyPackets.SetKeyFlags(false, PgpKeyFlags.CanEncryptCommunications | PgpKeyFlags.CanEncryptStorage);

        var generator = new PgpKeyRingGenerator(PgpSignature.PositiveCertification, primary, label,
            SymmetricKeyAlgorithmTag.Null, HashAlgorithmTag.Sha256, Array.Empty<byte>(), false,
            primaryPackets.Generate(), null, random);
        generator.AddSubKey(subkey, subkeyPackets.Generate(), null, HashAlgorithmTag.Sha256);
        return new SecretIdentity(generator.GenerateSecretKeyRing());
    }

    /// <summary>Reads an unprotected secret key, armored or binary (a key file, or a vault's contents).</summary>
    public static SecretIdentity Load(byte[] data, string source)
    {
        try
        {
            var factory = new PgpObjectFactory(Armor.Unwrap(data));
            if (factory.NextPgpObject() is not PgpSecretKeyRing ring)
                throw PolykeyException.Failed($"{source} holds no OpenPGP secret key");
            return new SecretIdentity(ring);
        }
        catch (PgpException e) when (e.Message.Contains("passphrase", StringComparison.OrdinalIgnoreCase) || e.InnerException is not null)
        {
            throw PolykeyException.Denied($"{source} is a passphrase-protected key; pk needs it unprotected",
                "export it with 'pk identity export --secret', or with gpg --export-secret-keys after removing its passphrase");
        }
        catch (Exception e) when (e is IOException or PgpException)
        {
            throw PolykeyException.Failed($"{source} is not a readable OpenPGP secret key");
        }
    }

    public byte[] ToBinary() => _ring.GetEncoded();

    /// <summary>The whole secret key, unprotected, armored: what gpg --import takes.</summary>
    public string ToArmored() => Armor.Wrap(_ring.Encode);
}
