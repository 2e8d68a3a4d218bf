using System.Text;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Security;

namespace Polykey.Core.Crypto;

/// <summary>
/// One secret version as an OpenPGP message: SEIPD (AES-256, MDC) to every reader's
/// encryption key, holding a literal-data packet whose file name is the secret's path
/// and whose body is its value. Uncompressed: compression would leak through sizes.
/// </summary>
internal static class SecretMessage
{
    private static readonly SecureRandom Random = new();

    public static byte[] Encrypt(string path, ReadOnlySpan<byte> value, DateTimeOffset time, IEnumerable<Identity> readers)
    {
        using var output = new MemoryStream(value.Length + 512);
        var generator = new PgpEncryptedDataGenerator(SymmetricKeyAlgorithmTag.Aes256, true, Random);
        foreach (Identity reader in readers) generator.AddMethod(reader.EncryptionKey);
        using (Stream encrypted = generator.Open(output, new byte[1 << 14]))
        {
            var literal = new PgpLiteralDataGenerator();
            using Stream body = literal.Open(encrypted, PgpLiteralData.Binary, path, value.Length, time.UtcDateTime);
            body.Write(value);
        }
        return output.ToArray();
    }

    /// <summary>The key ids a message is encrypted to, read without decrypting it.</summary>
    public static IReadOnlyList<long> RecipientKeyIds(byte[] message)
    {
        try
        {
            var factory = new PgpObjectFactory(new MemoryStream(message, writable: false));
            return factory.NextPgpObject() is PgpEncryptedDataList list
                ? list.GetEncryptedDataObjects().OfType<PgpPublicKeyEncryptedData>().Select(d => d.KeyId).ToList()
                : [];
        }
        catch (Exception e) when (e is PgpException or IOException)
        {
            return [];
        }
    }

    /// <summary>Decrypts with <paramref name="identity"/>; null when the message is not encrypted to it.</summary>
    public static (string Path, SecretBytes Value)? TryDecrypt(byte[] message, SecretIdentity identity, string where)
    {
        try
        {
            var factory = new PgpObjectFactory(new MemoryStream(message, writable: false));
            var list = factory.NextPgpObject() as PgpEncryptedDataList
                ?? throw new PgpException("not an encrypted message");
            PgpPublicKeyEncryptedData? mine = list.GetEncryptedDataObjects().OfType<PgpPublicKeyEncryptedData>()
                .FirstOrDefault(d => d.KeyId == identity.DecryptionKey.KeyId);
            if (mine is null) return null;
            using Stream clear = mine.GetDataStream(identity.DecryptionKey);
            var literal = new PgpObjectFactory(clear).NextPgpObject() as PgpLiteralData
                ?? throw new PgpException("no literal data");
            byte[] name = literal.GetRawFileName();
            using var buffer = new MemoryStream();
            literal.GetDataStream().CopyTo(buffer);
            if (!mine.IsIntegrityProtected() || !mine.Verify()) throw new PgpException("integrity check failed");
            byte[] value = buffer.ToArray();
            Array.Clear(buffer.GetBuffer());
            return (new UTF8Encoding(false, true).GetString(name), new SecretBytes(value));
        }
        catch (Exception e) when (e is PgpException or IOException or ArgumentException)
        {
            throw PolykeyException.Failed($"{where} cannot be decrypted: the message is damaged",
                "run 'pk verify' for a full report");
        }
    }
}
