using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Digests;

namespace Polykey.Core;

/// <summary>
/// SHA-256 and SHA-1. .NET hashes through OpenSSL, whose loading costs about 7 ms per process
/// here — a quarter of a `pk get`. Small inputs (most keynodes, every git object) go through
/// BouncyCastle's managed digests instead; large ones through OpenSSL, which is ~6x faster per byte.
/// </summary>
internal static class Digests
{
    private const int ManagedLimit = 1 << 20;

    public static byte[] Sha256(ReadOnlySpan<byte> data) =>
        data.Length < ManagedLimit ? Managed(new Sha256Digest(), data) : System.Security.Cryptography.SHA256.HashData(data);

    public static byte[] Sha1(ReadOnlySpan<byte> data) =>
        data.Length < ManagedLimit ? Managed(new Sha1Digest(), data) : System.Security.Cryptography.SHA1.HashData(data);

    private static byte[] Managed(IDigest digest, ReadOnlySpan<byte> data)
    {
        digest.BlockUpdate(data);
        byte[] hash = new byte[digest.GetDigestSize()];
        digest.DoFinal(hash);
        return hash;
    }
}
