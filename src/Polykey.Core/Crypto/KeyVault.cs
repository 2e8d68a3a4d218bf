using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Security;

namespace Polykey.Core.Crypto;

/// <summary>
/// Seals the owner's secret key inside the keynode under a passphrase, as an OpenPGP
/// passphrase-encrypted message (so `gpg --decrypt` opens it too). BouncyCastle's own
/// key protection fixes the S2K work factor at 65,536 bytes; this vault sets a strong one.
/// </summary>
public static class KeyVault
{
    /// <summary>S2K iteration byte: 0xE0 hashes 16,777,216 bytes, about 130 ms here, near GnuPG's own calibration (~100 ms).</summary>
    public const int IterationCountByte = 0xE0;

    public static byte[] Seal(SecretIdentity identity, byte[] passphrase)
    {
        byte[] plain = identity.ToBinary();
        try
        {
            using var output = new MemoryStream();
            var generator = new PgpEncryptedDataGenerator(SymmetricKeyAlgorithmTag.Aes256, true, KernelRandomGenerator.NewSecureRandom());
            generator.AddMethodRaw(passphrase, HashAlgorithmTag.Sha256, IterationCountByte);
            using (Stream encrypted = generator.Open(output, new byte[1 << 12]))
            {
                var literal = new PgpLiteralDataGenerator();
                using Stream body = literal.Open(encrypted, PgpLiteralData.Binary, "owner.key", plain.Length, DateTime.UnixEpoch);
                body.Write(plain);
            }
            return output.ToArray();
        }
        finally
        {
            Array.Clear(plain);
        }
    }

    public static SecretIdentity Open(byte[] sealedKey, byte[] passphrase, string keynodeLabel)
    {
        byte[] plain;
        try
        {
            var factory = new PgpObjectFactory(PgpUtilities.GetDecoderStream(new MemoryStream(sealedKey)));
            PgpEncryptedDataList list = factory.NextPgpObject() as PgpEncryptedDataList
                ?? (PgpEncryptedDataList)factory.NextPgpObject();
            var pbe = list.GetEncryptedDataObjects().OfType<PgpPbeEncryptedData>().First();
            using Stream clear = pbe.GetDataStreamRaw(passphrase);
            var literal = (PgpLiteralData)new PgpObjectFactory(clear).NextPgpObject();
            using var buffer = new MemoryStream();
            literal.GetDataStream().CopyTo(buffer);
            if (!pbe.Verify()) throw new PgpException("integrity check failed");
            plain = buffer.ToArray();
        }
        catch (Exception e) when (HostileInput.IsParseFailure(e))
        {
            throw PolykeyException.Denied($"wrong passphrase for keynode {keynodeLabel} (or its sealed owner key is damaged)",
                "check --passphrase-file, $PK_PASSPHRASE_FILE or $PK_PASSPHRASE");
        }
        try
        {
            return SecretIdentity.Load(plain, $"the owner key of {keynodeLabel}");
        }
        finally
        {
            Array.Clear(plain);
        }
    }
}
