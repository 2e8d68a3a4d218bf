using System.Buffers.Binary;

namespace Polykey.Core.Git;

/// <summary>
/// A zlib stream (RFC 1950) of stored deflate blocks (RFC 1951 §3.2.4), which any inflater,
/// git's included, reads. For content that cannot shrink (ciphertext): a compressor would set up
/// its state (hundreds of KiB, cleared per stream) and search in vain before storing it anyway.
/// </summary>
internal static class StoredZlib
{
    private const int MaxBlock = ushort.MaxValue;
    private const uint AdlerModulus = 65521;
    private const int AdlerRun = 5552; // the most bytes whose sums cannot overflow 32 bits before the modulus

    /// <summary>The stream of <paramref name="head"/> followed by <paramref name="body"/>.</summary>
    public static byte[] Wrap(ReadOnlySpan<byte> head, ReadOnlySpan<byte> body)
    {
        long total = (long)head.Length + body.Length;
        long blocks = Math.Max(1, (total + MaxBlock - 1) / MaxBlock);
        var output = new byte[2 + total + 5 * blocks + 4];
        output[0] = 0x78; // deflate, 32 KiB window
        output[1] = 0x01; // no dictionary, fastest level; (0x78 << 8 | 0x01) is a multiple of 31, as the header must be
        int at = 2;
        long left = total;
        ReadOnlySpan<byte> first = head, second = body;
        do
        {
            int n = (int)Math.Min(MaxBlock, left);
            left -= n;
            output[at] = (byte)(left == 0 ? 1 : 0); // the last block says so; type 00, stored
            BinaryPrimitives.WriteUInt16LittleEndian(output.AsSpan(at + 1), (ushort)n);
            BinaryPrimitives.WriteUInt16LittleEndian(output.AsSpan(at + 3), (ushort)~n);
            at += 5;
            int fromFirst = Math.Min(n, first.Length);
            first[..fromFirst].CopyTo(output.AsSpan(at));
            second[..(n - fromFirst)].CopyTo(output.AsSpan(at + fromFirst));
            first = first[fromFirst..];
            second = second[(n - fromFirst)..];
            at += n;
        } while (left > 0);
        BinaryPrimitives.WriteUInt32BigEndian(output.AsSpan(at), Adler32(Adler32(1, head), body));
        return output;
    }

    private static uint Adler32(uint adler, ReadOnlySpan<byte> data)
    {
        uint a = adler & 0xffff, b = adler >> 16;
        while (!data.IsEmpty)
        {
            int n = Math.Min(AdlerRun, data.Length);
            foreach (byte x in data[..n])
            {
                a += x;
                b += a;
            }
            a %= AdlerModulus;
            b %= AdlerModulus;
            data = data[n..];
        }
        return b << 16 | a;
    }
}
