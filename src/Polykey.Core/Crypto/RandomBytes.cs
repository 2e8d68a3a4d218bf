using System.Runtime.InteropServices;
using Polykey.Core.Native;

namespace Polykey.Core.Crypto;

/// <summary>
/// Bytes from the kernel's CSPRNG. On Linux straight from getrandom(2): .NET's
/// RandomNumberGenerator loads and initialises OpenSSL first, several milliseconds of a
/// command (a pull, a set) that needs OpenSSL for nothing else.
/// </summary>
public static class RandomBytes
{
    public static byte[] Get(int count)
    {
        byte[] bytes = new byte[count];
        Fill(bytes);
        return bytes;
    }

    public static unsafe void Fill(Span<byte> destination)
    {
        if (!OperatingSystem.IsLinux())
        {
            System.Security.Cryptography.RandomNumberGenerator.Fill(destination);
            return;
        }
        fixed (byte* start = destination)
        {
            int filled = 0;
            while (filled < destination.Length)
            {
                nint got = LibC.getrandom(start + filled, (nuint)(destination.Length - filled), 0);
                if (got > 0) filled += (int)got;
                else if (got < 0 && Marshal.GetLastPInvokeError() == LibC.EINTR) continue;
                else throw new IOException($"getrandom failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
    }
}

/// <summary>BouncyCastle's random source fed by <see cref="RandomBytes"/> (its default one goes through OpenSSL).</summary>
internal sealed class KernelRandomGenerator : Org.BouncyCastle.Crypto.Prng.IRandomGenerator
{
    public static Org.BouncyCastle.Security.SecureRandom NewSecureRandom() => new(new KernelRandomGenerator());

    // The kernel mixes its own entropy: seed material offered here is not needed.
    public void AddSeedMaterial(byte[] seed) { }
    public void AddSeedMaterial(ReadOnlySpan<byte> seed) { }
    public void AddSeedMaterial(long seed) { }

    public void NextBytes(byte[] bytes) => RandomBytes.Fill(bytes);
    public void NextBytes(byte[] bytes, int start, int len) => RandomBytes.Fill(bytes.AsSpan(start, len));
    public void NextBytes(Span<byte> bytes) => RandomBytes.Fill(bytes);
}
