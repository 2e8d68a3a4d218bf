using Microsoft.Win32.SafeHandles;

namespace Polykey.Core.Storage;

/// <summary>A member's data read straight from the file, a piece at a time (large values never sit whole in memory to be scanned).</summary>
internal sealed class MemberStream(SafeFileHandle handle, long offset, long length) : Stream
{
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset1, int count) => Read(buffer.AsSpan(offset1, count));

    public override int Read(Span<byte> buffer)
    {
        int want = (int)Math.Min(buffer.Length, length - _position);
        if (want <= 0) return 0;
        int n = RandomAccess.Read(handle, buffer[..want], offset + _position);
        if (n == 0) throw new Git.MisplacedObjectException("the keynode ended early while a member was read");
        _position += n;
        return n;
    }

    public override void Flush() { }
    public override long Seek(long offset1, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset1, int count) => throw new NotSupportedException();
}
