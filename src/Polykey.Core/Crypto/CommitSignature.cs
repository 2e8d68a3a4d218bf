using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Polykey.Core.Crypto;

/// <summary>Detached, armored OpenPGP signatures over commit payloads, as git's gpgsig header holds them.</summary>
internal static class CommitSignature
{
    public static string Sign(byte[] payload, SecretIdentity signer)
    {
        PgpPrivateKey key = signer.SigningKey
            ?? throw PolykeyException.Denied($"identity {signer.Public.Fingerprint} is a read-only credential and cannot sign changes");
        var generator = new PgpSignatureGenerator(PublicKeyAlgorithmTag.EdDsa_Legacy, HashAlgorithmTag.Sha256);
        generator.InitSign(PgpSignature.BinaryDocument, key);
        var subpackets = new PgpSignatureSubpacketGenerator();
        subpackets.SetSignatureCreationTime(false, DateTime.UtcNow);
        subpackets.SetIssuerFingerprint(false, signer.Public.SigningKey);
        generator.SetHashedSubpackets(subpackets.Generate());
        generator.Update(payload);
        PgpSignature signature = generator.Generate();
        return Armor.Wrap(s => signature.Encode(s));
    }

    /// <summary>True when <paramref name="armored"/> is a good signature by <paramref name="signer"/> over the payload.</summary>
    public static bool Verify(byte[] payload, string armored, Identity signer)
    {
        try
        {
            var factory = new PgpObjectFactory(Armor.Unwrap(System.Text.Encoding.ASCII.GetBytes(armored)));
            if (factory.NextPgpObject() is not PgpSignatureList { Count: 1 } list) return false;
            PgpSignature signature = list[0];
            if (signature.KeyId != signer.SigningKey.KeyId) return false;
            signature.InitVerify(signer.SigningKey);
            signature.Update(payload);
            return signature.Verify();
        }
        catch (Exception e) when (HostileInput.IsParseFailure(e))
        {
            return false;
        }
    }
}
