using Microsoft.Win32.SafeHandles;

namespace Polykey.Core.Storage;

/// <summary>
/// Positional reads of a keynode file through one bounded buffer, so scanning a file of any
/// size costs a fixed amount of memory and offsets stay 64-bit throughout. A file that ends
/// inside a 512-byte block reads as if zeros filled the block: a change cut only in its
/// record's zero padding is whole (the padding carries nothing).
/// </summary>
internal sealed class BlockReader(SafeFileHandle handle, long fileLength, string fileLabel)
{
    private readonly long length = TarHeader.Padded(fileLength);

    public const int BufferSize = 1 << 20;

    // Sized to what is left to read (a mount's refresh after each change reads a few KiB), at most BufferSize.
    private byte[] _buffer = [];
    private long _bufferStart = -1;
    private int _bufferLength;
    private bool _borrowed;

    /// <summary>
    /// Serves [<paramref name="offset"/>, + bytes) from <paramref name="bytes"/>: what this process
    /// just wrote there and holds the lock on, so the file cannot say otherwise.
    /// </summary>
    public void WithWritten(long offset, byte[] bytes)
    {
        if (offset < 0 || offset + bytes.Length > length || offset % TarHeader.BlockSize != 0) return;
        _buffer = bytes;
        _bufferStart = offset;
        _bufferLength = bytes.Length;
        _borrowed = true;
    }

    /// <summary>The file length when the scan began, rounded up to a whole block (a lock keeps it from changing underneath).</summary>
    public long Length => length;

    /// <summary>Bytes [offset, offset + count); count at most <see cref="BufferSize"/>, range inside the file.</summary>
    public ReadOnlySpan<byte> Read(long offset, int count)
    {
        if (count < 0 || count > BufferSize || offset < 0 || offset > length - count)
            throw new ArgumentOutOfRangeException(nameof(count), "a read past the end of the keynode");
        if (_bufferStart < 0 || offset < _bufferStart || offset + count > _bufferStart + _bufferLength)
            Fill(offset);
        return _buffer.AsSpan((int)(offset - _bufferStart), count);
    }

    private void Fill(long offset)
    {
        int want = (int)Math.Min(BufferSize, length - offset);
        if (_buffer.Length < want || _borrowed) _buffer = new byte[want];
        _borrowed = false;
        int present = (int)Math.Clamp(fileLength - offset, 0, want);
        _buffer.AsSpan(present, want - present).Clear();
        int done = 0;
        while (done < present)
        {
            int n = RandomAccess.Read(handle, _buffer.AsSpan(done, present - done), offset + done);
            if (n == 0) throw PolykeyException.Failed($"keynode {fileLabel} became shorter while it was read",
                "another program truncated or replaced it; open it again");
            done += n;
        }
        _bufferStart = offset;
        _bufferLength = want;
    }

    /// <summary>SHA-256 of bytes [from, to), read a buffer at a time.</summary>
    public byte[] Sha256(long from, long to)
    {
        using Digests.Incremental hash = Digests.Sha256Of(to - from);
        for (long at = from; at < to;)
        {
            int n = (int)Math.Min(BufferSize, to - at);
            hash.Append(Read(at, n));
            at += n;
        }
        return hash.Finish();
    }

    /// <summary>The first offset at or after <paramref name="from"/> where <paramref name="pattern"/> starts, or -1.</summary>
    public long Find(long from, ReadOnlySpan<byte> pattern)
    {
        for (long at = from; at <= length - pattern.Length;)
        {
            int n = (int)Math.Min(BufferSize, length - at);
            int hit = Read(at, n).IndexOf(pattern);
            if (hit >= 0) return at + hit;
            if (at + n >= length) break;
            at += n - pattern.Length + 1;
        }
        return -1;
    }

    /// <summary>One past the last non-zero byte in [from, length), or <paramref name="from"/> when all are zero.</summary>
    public long EndOfData(long from)
    {
        long end = from;
        for (long at = from; at < length;)
        {
            int n = (int)Math.Min(BufferSize, length - at);
            int last = Read(at, n).LastIndexOfAnyExcept((byte)0);
            if (last >= 0) end = at + last + 1;
            at += n;
        }
        return end;
    }
}
