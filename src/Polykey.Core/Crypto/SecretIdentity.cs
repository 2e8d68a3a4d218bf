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

    /// <summary>
    /// A symmetric key only this identity's holder can compute, for data pk keeps for it alone
    /// (its name memo): HKDF-SHA256 over the decryption key's secret, which every credential of
    /// the identity holds, read-only ones included.
    /// </summary>
    internal byte[] DeriveLocalKey(string purpose, string context)
    {
        byte[] secret = DecryptionKey.Key switch
        {
            X25519PrivateKeyParameters x => x.GetEncoded(),
            ECPrivateKeyParameters ec => ec.D.ToByteArrayUnsigned(),
            _ => throw PolykeyException.Failed($"identity {Public.Fingerprint} has a decryption key of a kind pk does not know"),
        };
        try
        {
            var hkdf = new Org.BouncyCastle.Crypto.Generators.HkdfBytesGenerator(new Org.BouncyCastle.Crypto.Digests.Sha256Digest());
            hkdf.Init(new HkdfParameters(secret, System.Text.Encoding.ASCII.GetBytes(purpose), System.Text.Encoding.ASCII.GetBytes(context)));
            byte[] key = new byte[32];
            hkdf.GenerateBytes(key, 0, key.Length);
            return key;
        }
        finally
        {
            Array.Clear(secret);
        }
    }

    public static SecretIdentity Generate(string label)
    {
        var random = KernelRandomGenerator.NewSecureRandom();
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
        catch (Exception e) when (HostileInput.IsParseFailure(e))
        {
            throw PolykeyException.Failed($"{source} is not a readable OpenPGP secret key");
        }
    }

    public byte[] ToBinary() => _ring.GetEncoded();

    /// <summary>The whole secret key, unprotected, armored: what gpg --import takes.</summary>
    public string ToArmored() => Armor.Wrap(_ring.Encode);

    /// <summary>
    /// A read-only credential: the same identity with the signing (primary) secret removed,
    /// marked the way GnuPG marks a stripped key (S2K 101 "GNU", mode 1), so it decrypts but
    /// cannot sign. gpg --import takes it too.
    /// </summary>
    public string ToReadOnlyArmored()
    {
        PgpSecretKey primary = _ring.GetSecretKey();
        byte[] full = primary.GetEncoded();
        using var output = new MemoryStream();
        // A Secret-Key packet (tag 5) holding the public key body, then: usage 255, cipher 0,
        // S2K type 101, hash 0, "GNU", mode 1 (no private key) — and no secret material.
        byte[] body = [.. primary.PublicKey.PublicKeyPacket.GetEncodedContents(), 0xFF, 0x00, 0x65, 0x00, (byte)'G', (byte)'N', (byte)'U', 0x01];
        WritePacket(output, 5, body);
        output.Write(full.AsSpan(PacketLength(full)));
        foreach (PgpSecretKey subkey in _ring.GetSecretKeys().Skip(1)) output.Write(subkey.GetEncoded());
        var stripped = new PgpSecretKeyRing(output.ToArray());
        return Armor.Wrap(stripped.Encode);
    }

    private static void WritePacket(Stream output, int tag, byte[] body)
    {
        output.WriteByte((byte)(0xC0 | tag));
        if (body.Length < 192) output.WriteByte((byte)body.Length);
        else if (body.Length < 8384)
        {
            int length = body.Length - 192;
            output.WriteByte((byte)((length >> 8) + 192));
            output.WriteByte((byte)length);
        }
        else
        {
            output.WriteByte(0xFF);
            output.Write([(byte)(body.Length >> 24), (byte)(body.Length >> 16), (byte)(body.Length >> 8), (byte)body.Length]);
        }
        output.Write(body);
    }

    // The size of the first packet (header and body) of an OpenPGP encoding.
    private static int PacketLength(byte[] data)
    {
        byte header = data[0];
        if ((header & 0x40) != 0)
        {
            int first = data[1];
            if (first < 192) return 2 + first;
            if (first < 224) return 3 + ((first - 192) << 8) + data[2] + 192;
            return 6 + (data[2] << 24 | data[3] << 16 | data[4] << 8 | data[5]);
        }
        return (header & 3) switch
        {
            0 => 2 + data[1],
            1 => 3 + (data[1] << 8 | data[2]),
            2 => 5 + (data[1] << 24 | data[2] << 16 | data[3] << 8 | data[4]),
            _ => throw new InvalidOperationException("indeterminate-length key packet"),
        };
    }
}
