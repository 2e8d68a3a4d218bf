using System.Buffers;
using System.IO.MemoryMappedFiles;

namespace Polykey.Core.Storage;

/// <summary>
/// A file mapped read-only into memory. Reading a 13 MB cache through a mapping touches only
/// the pages a lookup needs (and the kernel maps page-cache pages in runs), where reading it
/// into a new array pays a page fault for every 4 KiB of fresh memory: on this machine kind,
/// 45 ms against 4 ms.
/// </summary>
internal sealed unsafe class MappedFile : MemoryManager<byte>
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _start;
    private readonly int _length;

    private MappedFile(MemoryMappedFile map, MemoryMappedViewAccessor view, int length, FileStamp? stamp)
    {
        _map = map;
        _view = view;
        _length = length;
        Stamp = stamp;
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _start = pointer + view.PointerOffset;
    }

    /// <summary>The file mapped whole, or null when it is missing, empty, too large or unreadable.</summary>
    public static MappedFile? TryOpen(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            long length = stream.Length;
            if (length == 0 || length > int.MaxValue) return null;
            FileStamp? stamp = FileStamp.Of(stream.SafeFileHandle);
            var map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            return new MappedFile(map, map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read), (int)length, stamp);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public int Length => _length;

    /// <summary>The mapped file's stamp, taken when it was opened; null where none can be taken.</summary>
    public FileStamp? Stamp { get; }

    public ReadOnlySpan<byte> Span => new(_start, _length);

    public override Span<byte> GetSpan() => new(_start, _length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(_start + elementIndex);

    public override void Unpin() { }

    protected override void Dispose(bool disposing)
    {
        if (!disposing) return;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
