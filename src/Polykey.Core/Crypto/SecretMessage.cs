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
    private static readonly SecureRandom Random = KernelRandomGenerator.NewSecureRandom();

    public static byte[] Encrypt(string path, ReadOnlySpan<byte> value, DateTimeOffset time, IEnumerable<Identity> readers)
    {
        Identity[] recipients = readers.ToArray();
        // Room for the value, its packet framing and one session-key packet per reader: no copy while it grows.
        using var output = new MemoryStream(value.Length + value.Length / 1024 + 512 + 128 * recipients.Length);
        var generator = new PgpEncryptedDataGenerator(SymmetricKeyAlgorithmTag.Aes256, true, Random);
        foreach (Identity reader in recipients) generator.AddMethod(reader.EncryptionKey);
        using (Stream encrypted = generator.Open(output, new byte[1 << 14]))
        {
            var literal = new PgpLiteralDataGenerator();
            using Stream body = literal.Open(encrypted, PgpLiteralData.Binary, path, value.Length, time.UtcDateTime);
            body.Write(value);
        }
        return output.ToArray();
    }

    /// <summary>The key ids a message is encrypted to, read without decrypting it.</summary>
    public static IReadOnlyList<long> RecipientKeyIds(byte[] message) => RecipientKeyIds(new MemoryStream(message, writable: false));

    /// <summary>The key ids a message is encrypted to, from the head of a stream (the rest is not read).</summary>
    public static IReadOnlyList<long> RecipientKeyIds(Stream message)
    {
        try
        {
            var factory = new PgpObjectFactory(message);
            return factory.NextPgpObject() is PgpEncryptedDataList list
                ? list.GetEncryptedDataObjects().OfType<PgpPublicKeyEncryptedData>().Select(d => d.KeyId).ToList()
                : [];
        }
        catch (Exception e) when (e is PgpException or IOException)
        {
            return [];
        }
    }

    // The message's encrypted data for this identity's key, or null when it holds none.
    private static PgpPublicKeyEncryptedData? EncryptedTo(Stream message, SecretIdentity identity)
    {
        var list = new PgpObjectFactory(message).NextPgpObject() as PgpEncryptedDataList
            ?? throw new PgpException("not an encrypted message");
        return list.GetEncryptedDataObjects().OfType<PgpPublicKeyEncryptedData>()
            .FirstOrDefault(d => d.KeyId == identity.DecryptionKey.KeyId);
    }

    /// <summary>Decrypts with <paramref name="identity"/>; null when the message is not encrypted to it.</summary>
    public static (string Path, SecretBytes Value)? TryDecrypt(byte[] message, SecretIdentity identity, string where) =>
        TryDecrypt(new MemoryStream(message, writable: false), identity, where);

    /// <summary>Decrypts a message read from a stream (a value is held once, not once per layer).</summary>
    public static (string Path, SecretBytes Value)? TryDecrypt(Stream message, SecretIdentity identity, string where)
    {
        try
        {
            if (EncryptedTo(message, identity) is not { } mine) return null;
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
        catch (Exception e) when (HostileInput.IsParseFailure(e))
        {
            throw PolykeyException.Failed($"{where} cannot be decrypted: the message is damaged",
                "run 'pk verify' for a full report");
        }
    }

    /// <summary>
    /// The path and value size of a message, reading only as far as the literal packet's header
    /// (the cost of a name does not grow with the value). Null when the message is not encrypted
    /// to <paramref name="identity"/>; Size is -1 when the packet does not state its length (then
    /// only a full decrypt tells). The message's MDC is not checked here: callers read messages
    /// whose object hash they check, under a verified signature.
    /// </summary>
    public static (string Path, long Size)? TryPeek(Stream message, SecretIdentity identity, string where)
    {
        try
        {
            if (EncryptedTo(message, identity) is not { } mine) return null;
            Stream clear = mine.GetDataStream(identity.DecryptionKey);
            long bodyLength = LiteralBodyLength(clear);
            int format = clear.ReadByte(), nameLength = clear.ReadByte();
            if (format < 0 || nameLength < 0) throw new PgpException("a truncated literal packet");
            byte[] name = new byte[nameLength];
            clear.ReadExactly(name);
            clear.ReadExactly(new byte[4]);
            long size = bodyLength < 0 ? -1 : bodyLength - 6 - nameLength;
            if (bodyLength >= 0 && size < 0) throw new PgpException("a literal packet shorter than its header");
            return (new UTF8Encoding(false, true).GetString(name), size);
        }
        catch (Exception e) when (HostileInput.IsParseFailure(e))
        {
            throw PolykeyException.Failed($"{where} cannot be decrypted: the message is damaged",
                "run 'pk verify' for a full report");
        }
    }

    // A literal-data packet header (RFC 4880 §4.2); -1 when the body length is not stated up front.
    private static long LiteralBodyLength(Stream clear)
    {
        int tag = clear.ReadByte();
        if (tag < 0) throw new PgpException("an empty message");
        if ((tag & 0xC0) == 0xC0)
        {
            if ((tag & 0x3F) != (int)PacketTag.LiteralData) throw new PgpException("not a literal packet");
            int first = clear.ReadByte();
            return first switch
            {
                < 0 => throw new PgpException("a truncated packet"),
                < 192 => first,
                < 224 => ((first - 192) << 8) + ReadByteOrThrow(clear) + 192,
                255 => ReadBigEndian(clear, 4),
                _ => -1, // partial body lengths
            };
        }
        if ((tag & 0x80) == 0 || ((tag >> 2) & 0x0F) != (int)PacketTag.LiteralData) throw new PgpException("not a literal packet");
        return (tag & 3) switch
        {
            0 => ReadBigEndian(clear, 1),
            1 => ReadBigEndian(clear, 2),
            2 => ReadBigEndian(clear, 4),
            _ => -1,
        };
    }

    private static int ReadByteOrThrow(Stream stream) => stream.ReadByte() is >= 0 and var b ? b : throw new PgpException("a truncated packet");

    private static long ReadBigEndian(Stream stream, int bytes)
    {
        long value = 0;
        for (int i = 0; i < bytes; i++) value = (value << 8) | (uint)ReadByteOrThrow(stream);
        return value;
    }
}
