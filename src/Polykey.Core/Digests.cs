using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Digests;

namespace Polykey.Core;

/// <summary>
/// SHA-256 and SHA-1. .NET hashes through OpenSSL, whose loading costs about 7 ms per process
/// here — a quarter of a `pk get`. Small inputs (most keynodes, every git object) go through
/// BouncyCastle's managed digests instead; large ones through OpenSSL, which is ~6x faster per
/// byte, and so do all inputs once a process has hashed a few MiB of small ones (a cold open of
/// 10,000 appended changes hashes 51 MB, 5 KB at a time).
/// </summary>
internal static class Digests
{
    private const int ManagedLimit = 1 << 20;
    // ~10 ms of managed hashing here: past it, loading OpenSSL has paid for itself.
    private const long ManagedBudget = 2L << 20;
    private static long s_managedBytes;

    private static bool IsManaged(long length) => length < ManagedLimit && Interlocked.Read(ref s_managedBytes) < ManagedBudget;

    public static byte[] Sha256(ReadOnlySpan<byte> data) =>
        IsManaged(data.Length) ? Managed(new Sha256Digest(), data) : System.Security.Cryptography.SHA256.HashData(data);

    public static byte[] Sha1(ReadOnlySpan<byte> data) =>
        IsManaged(data.Length) ? Managed(new Sha1Digest(), data) : System.Security.Cryptography.SHA1.HashData(data);

    private static byte[] Managed(IDigest digest, ReadOnlySpan<byte> data)
    {
        Interlocked.Add(ref s_managedBytes, data.Length);
        digest.BlockUpdate(data);
        byte[] hash = new byte[digest.GetDigestSize()];
        digest.DoFinal(hash);
        return hash;
    }

    /// <summary>A hash fed piece by piece, managed or OpenSSL by the length expected, as above.</summary>
    public static Incremental Sha256Of(long expectedLength) =>
        IsManaged(expectedLength) ? new(new Sha256Digest()) : new(System.Security.Cryptography.HashAlgorithmName.SHA256);

    public static Incremental Sha1Of(long expectedLength) =>
        IsManaged(expectedLength) ? new(new Sha1Digest()) : new(System.Security.Cryptography.HashAlgorithmName.SHA1);

    internal sealed class Incremental : IDisposable
    {
        private readonly IDigest? _managed;
        private readonly System.Security.Cryptography.IncrementalHash? _native;

        public Incremental(IDigest managed) => _managed = managed;

        public Incremental(System.Security.Cryptography.HashAlgorithmName native) =>
            _native = System.Security.Cryptography.IncrementalHash.CreateHash(native);

        public void Append(ReadOnlySpan<byte> data)
        {
            if (_managed is not null)
            {
                Interlocked.Add(ref s_managedBytes, data.Length);
                _managed.BlockUpdate(data);
            }
            else _native!.AppendData(data);
        }

        /// <summary>The hash of everything appended; the hasher starts over.</summary>
        public byte[] Finish()
        {
            if (_native is not null) return _native.GetHashAndReset();
            byte[] hash = new byte[_managed!.GetDigestSize()];
            _managed.DoFinal(hash);
            return hash;
        }

        public void Dispose() => _native?.Dispose();
    }
}
