using System.IO.Compression;
using System.Text;

namespace Polykey.Core.Git;

/// <summary>
/// A loose object's content, inflated as it is read. Its header's declared size is checked
/// before anything else is inflated; <see cref="Finish"/> reads what is left and checks the
/// length and the SHA-1 against the object's name. Nothing read from it may be trusted until
/// Finish returns.
/// </summary>
internal sealed class ObjectStream : Stream
{
    private const long MinInflateAllowance = 64 << 10;
    private const long MaxInflateRatio = 8;
    private const int MaxHeaderLength = 32;

    private readonly ObjectId _expected;
    private readonly ZLibStream _inflate;
    private readonly Digests.Incremental _sha1;
    private long _remaining;

    private ObjectStream(ObjectId expected, ZLibStream inflate, byte[] header, ObjectType type, long size)
    {
        _expected = expected;
        _inflate = inflate;
        _sha1 = Digests.Sha1Of(header.Length + size);
        _sha1.Append(header);
        Type = type;
        ContentLength = _remaining = size;
    }

    public ObjectType Type { get; }

    /// <summary>The content's size, as declared and checked.</summary>
    public long ContentLength { get; }

    /// <param name="storedSize">The compressed length: an honest object inflates to at most 8 times it (pk stores ciphertext and short text).</param>
    public static ObjectStream Open(ObjectId expected, Stream compressed, long storedSize, long maxContent)
    {
        var inflate = new ZLibStream(compressed, CompressionMode.Decompress);
        try
        {
            byte[] header = Inflating(expected, () => ReadHeader(inflate)) ?? throw Damaged(expected, "its header is malformed");
            (ObjectType type, long size) = ParseHeader(header) ?? throw Damaged(expected, "its header is malformed");
            if (size > maxContent || size > Math.Max(MinInflateAllowance, storedSize * MaxInflateRatio))
                throw Damaged(expected, $"it claims {size} bytes, more than an object of its kind and stored size may hold");
            return new ObjectStream(expected, inflate, header, type, size);
        }
        catch
        {
            inflate.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A packed object: <paramref name="entry"/> is its pack entry (type and size header, then
    /// zlib of the content alone), <paramref name="entryLength"/> its length in the pack. Bounded
    /// and checked exactly as a loose object: the SHA-1 covers git's "type size\0" and the content.
    /// </summary>
    public static ObjectStream OpenPacked(ObjectId expected, Stream entry, long entryLength, long maxContent)
    {
        (ObjectType type, long size) = PackEntry.Read(entry, out string refused) ?? throw Damaged(expected, refused);
        if (size > maxContent || size > Math.Max(MinInflateAllowance, entryLength * MaxInflateRatio))
            throw Damaged(expected, $"it claims {size} bytes, more than an object of its kind and stored size may hold");
        var inflate = new ZLibStream(entry, CompressionMode.Decompress);
        return new ObjectStream(expected, inflate, LooseObject.HeaderOf(type, size), type, size);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int want = (int)Math.Min(buffer.Length, _remaining);
        if (want == 0) return 0;
        int n;
        try { n = _inflate.Read(buffer[..want]); }
        catch (Exception e) when (IsZlibComplaint(e)) { throw Damaged(_expected, "it does not inflate"); }
        if (n == 0) throw Damaged(_expected, "it is shorter than its header says");
        _sha1.Append(buffer[..n]);
        _remaining -= n;
        return n;
    }

    /// <summary>Reads the rest and checks length and name; throws when the object is not what its name says.</summary>
    public void Finish()
    {
        if (_remaining > 0)
        {
            // Only for a reader that stopped early; most have read the whole content already.
            byte[] scratch = new byte[(int)Math.Min(_remaining, 64 << 10)];
            while (_remaining > 0) _ = Read(scratch.AsSpan());
        }
        if (Inflating(_expected, () => _inflate.ReadByte()) != -1) throw Damaged(_expected, "it is longer than its header says");
        if (ObjectId.FromBytes(_sha1.Finish()) != _expected) throw Damaged(_expected, "its hash does not match its name");
    }

    // zlib's own complaint about a stream is the object's damage.
    private static T Inflating<T>(ObjectId id, Func<T> inflate)
    {
        try { return inflate(); }
        catch (Exception e) when (IsZlibComplaint(e)) { throw Damaged(id, "it does not inflate"); }
    }

    // Bad data is InvalidDataException; some states of a hostile stream make zlib return an
    // error code .NET reports as its internal ZLibException (an IOException): damage too. Told
    // apart by type name from an IOException of the disk under it, which is not the object's fault.
    private static bool IsZlibComplaint(Exception e) => e is InvalidDataException || e is IOException && e.GetType().Name == "ZLibException";

    // "type size\0", read a byte at a time so nothing past it is inflated yet.
    private static byte[]? ReadHeader(Stream input)
    {
        var header = new List<byte>(MaxHeaderLength);
        while (header.Count < MaxHeaderLength)
        {
            int b = input.ReadByte();
            if (b < 0) return null;
            header.Add((byte)b);
            if (b == 0) return header.ToArray();
        }
        return null;
    }

    private static (ObjectType, long)? ParseHeader(byte[] header)
    {
        string text = Encoding.ASCII.GetString(header, 0, header.Length - 1);
        int space = text.IndexOf(' ');
        if (space < 0) return null;
        ObjectType? type = text[..space] switch
        {
            "blob" => ObjectType.Blob,
            "tree" => ObjectType.Tree,
            "commit" => ObjectType.Commit,
            _ => null,
        };
        string digits = text[(space + 1)..];
        if (type is null || digits.Length is 0 or > 18 || (digits.Length > 1 && digits[0] == '0')
            || !long.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long size))
            return null;
        return (type.Value, size);
    }

    public static PolykeyException Damaged(ObjectId id, string why) => new DamagedObjectException(id, why);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inflate.Dispose();
            _sha1.Dispose();
        }
        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => ContentLength;
    public override long Position { get => ContentLength - _remaining; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>An object that is not what its name says: damage, or bytes altered after they were written.</summary>
internal sealed class DamagedObjectException(ObjectId id, string why)
    : PolykeyException(FailureKind.Failure, $"git object {id} in the keynode is damaged: {why}", "run 'pk verify' for a full report");

/// <summary>An object not where this handle was told it lies: its bytes run past the end of the file.</summary>
internal sealed class MisplacedObjectException(string message) : PolykeyException(FailureKind.Failure, message, "run 'pk verify' for a full report");
