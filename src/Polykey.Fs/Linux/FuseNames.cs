using System.Runtime.InteropServices;
using System.Text;

namespace Polykey.Fs.Linux;

/// <summary>Names cross the kernel boundary as NUL-terminated UTF-8.</summary>
internal static unsafe class FuseNames
{
    // Strict: a name that is not valid UTF-8 is refused (EINVAL) rather than stored under a
    // name with U+FFFD in it, which no later lookup of the original bytes would find.
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Longest encoded name we pass to the kernel; NAME_MAX is 255 bytes.</summary>
    public const int MaxEncodedLength = 1024;

    public static string Decode(byte* name)
    {
        var bytes = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(name);
        try
        {
            return Strict.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new FsException(FsError.InvalidName, "file name is not valid UTF-8");
        }
    }

    /// <summary>Encodes into <paramref name="buffer"/> with a trailing NUL; returns the length without it, or -1 when too long.</summary>
    public static int Encode(string name, Span<byte> buffer)
    {
        if (Encoding.UTF8.GetMaxByteCount(name.Length) + 1 > buffer.Length && Encoding.UTF8.GetByteCount(name) + 1 > buffer.Length)
            return -1;
        var length = Encoding.UTF8.GetBytes(name, buffer);
        buffer[length] = 0;
        return length;
    }
}
