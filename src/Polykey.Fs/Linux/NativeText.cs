using System.Runtime.InteropServices;
using System.Text;

namespace Polykey.Fs.Linux;

internal static unsafe class NativeText
{
    /// <summary>A NUL-terminated UTF-8 copy in native memory; free it with NativeMemory.Free.</summary>
    public static byte* Alloc(string text)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        var buffer = (byte*)NativeMemory.Alloc((nuint)length + 1);
        Encoding.UTF8.GetBytes(text, new Span<byte>(buffer, length));
        buffer[length] = 0;
        return buffer;
    }
}
