using System.Security.Cryptography;

namespace Polykey.Core;

/// <summary>
/// Decrypted bytes of a secret. Cannot be printed by accident (ToString says only the
/// length) and wipes its buffer when disposed.
/// </summary>
public sealed class SecretBytes : IDisposable
{
    private byte[] _bytes;

    public SecretBytes(byte[] bytes) => _bytes = bytes;

    public int Length => _bytes.Length;

    public ReadOnlySpan<byte> Span => _bytes;

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_bytes);
        _bytes = Array.Empty<byte>();
    }

    public override string ToString() => $"[secret, {Length} bytes]";
}
