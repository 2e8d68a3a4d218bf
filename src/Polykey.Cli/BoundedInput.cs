using Polykey.Core;

namespace Polykey.Cli;

/// <summary>
/// Reads values, passphrases and key files with a limit: never more than one byte past it,
/// so /dev/zero or an endless pipe fails at once instead of filling memory. Buffers that held
/// the bytes are cleared when they are let go.
/// </summary>
internal static class BoundedInput
{
    private const int FirstChunk = 64 << 10;

    /// <summary>Everything <paramref name="stream"/> holds, or null when that is more than <paramref name="limit"/> bytes.</summary>
    public static byte[]? Read(Stream stream, long limit)
    {
        int max = checked((int)limit);
        long expected = stream.CanSeek ? stream.Length - stream.Position : FirstChunk;
        byte[] buffer = new byte[(int)Math.Clamp(expected, 0, max)];
        int used = 0;
        while (true)
        {
            if (used < buffer.Length)
            {
                int n = stream.Read(buffer, used, buffer.Length - used);
                if (n == 0) return Exact(buffer, used);
                used += n;
                continue;
            }
            // The buffer is full: one more byte says whether the input ends here.
            int next = stream.ReadByte();
            if (next < 0) return buffer;
            if (used == max)
            {
                Array.Clear(buffer);
                return null;
            }
            byte[] bigger = new byte[(int)Math.Min(max, Math.Max(FirstChunk, 2L * used))];
            buffer.AsSpan(0, used).CopyTo(bigger);
            Array.Clear(buffer);
            buffer = bigger;
            buffer[used++] = (byte)next;
        }
    }

    /// <summary>
    /// A file read with <see cref="Read"/>; a FIFO works, a directory is refused. Null when the
    /// file holds more than <paramref name="limit"/> bytes. <paramref name="what"/> names the
    /// file in errors ("value file"); <paramref name="unreadable"/> is the failure when it cannot be read.
    /// </summary>
    public static byte[]? ReadFile(string path, long limit, string what, FailureKind unreadable)
    {
        try
        {
            using var stream = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.ReadWrite | FileShare.Delete,
                BufferSize = 0, // no buffer of FileStream's own keeps a copy of the bytes
            });
            return Read(stream, limit);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw PolykeyException.NotFound($"{what} {path} does not exist");
        }
        catch (UnauthorizedAccessException) when (Directory.Exists(path))
        {
            throw PolykeyException.Failed($"{what} {path} is a directory");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PolykeyException(unreadable, $"cannot read {what} {path}" + (e is UnauthorizedAccessException ? ": permission denied" : ""));
        }
    }

    // The bytes read, in an array of their own length; the larger buffer is cleared.
    private static byte[] Exact(byte[] buffer, int used)
    {
        if (used == buffer.Length) return buffer;
        byte[] exact = buffer[..used];
        Array.Clear(buffer);
        return exact;
    }
}
