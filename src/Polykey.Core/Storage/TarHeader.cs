using System.Text;

namespace Polykey.Core.Storage;

/// <summary>One parsed 512-byte POSIX ustar header: only what a keynode reader needs.</summary>
internal readonly record struct TarHeader(string Name, long Size, char Type)
{
    public const int BlockSize = 512;
    public const char RegularFile = '0';
    public const char Directory = '5';

    public static long Padded(long size) => (size + BlockSize - 1) / BlockSize * BlockSize;

    public static bool IsZeroBlock(ReadOnlySpan<byte> block) => !block[..BlockSize].ContainsAnyExcept((byte)0);

    /// <summary>Parses a header; null when the checksum or a field is malformed.</summary>
    public static TarHeader? TryParse(ReadOnlySpan<byte> block)
    {
        if (block.Length < BlockSize) return null;
        block = block[..BlockSize];
        if (!TryOctal(block.Slice(148, 8), out long storedSum)) return null;
        long sum = 0;
        for (int i = 0; i < BlockSize; i++)
            sum += i is >= 148 and < 156 ? (byte)' ' : block[i];
        if (sum != storedSum) return null;
        if (!TryOctal(block.Slice(124, 12), out long size) || size < 0) return null;
        string name = CString(block[..100]);
        if (block.Slice(257, 5).SequenceEqual("ustar"u8))
        {
            string prefix = CString(block.Slice(345, 155));
            if (prefix.Length > 0) name = prefix + "/" + name;
        }
        char type = block[156] == 0 ? '0' : (char)block[156];
        return new TarHeader(name, size, type);
    }

    private static string CString(ReadOnlySpan<byte> field)
    {
        int end = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? field : field[..end]);
    }

    private static bool TryOctal(ReadOnlySpan<byte> field, out long value)
    {
        value = 0;
        bool any = false;
        foreach (byte b in field)
        {
            if (b is 0 or (byte)' ')
            {
                if (any) break;
                continue;
            }
            if (b is < (byte)'0' or > (byte)'7') return false;
            value = value * 8 + (b - '0');
            any = true;
        }
        return any;
    }
}
