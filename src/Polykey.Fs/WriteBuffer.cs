using System.Security.Cryptography;

namespace Polykey.Fs;

/// <summary>
/// The bytes of a file being written, shared by every handle that has it open for writing
/// (and by readers opened while it is). Scratch files are write buffers that are never saved.
/// Lock the buffer itself around any access to its bytes.
/// </summary>
internal sealed class WriteBuffer
{
    public const int MaxSize = 64 << 20;

    private byte[] _data = GC.AllocateUninitializedArray<byte>(256, pinned: true);

    public WriteBuffer(string path, bool scratch, ReadOnlySpan<byte> initial, DateTimeOffset modified)
    {
        Path = path;
        Scratch = scratch;
        Write(0, initial);
        Modified = modified;
    }

    public string Path { get; set; }
    public bool Scratch { get; set; }

    /// <summary>Bytes differ from the last saved version (or the file was created and never saved).</summary>
    public bool Dirty { get; set; }

    /// <summary>Unlinked while open: its handles still work, but nothing is saved any more.</summary>
    public bool Detached { get; set; }

    /// <summary>For a scratch file that holds a secret renamed away (vim's backup): that secret's path.</summary>
    public string? Origin { get; set; }

    /// <summary>A write-back stretch short of the file's end arrived since the last save: the end of its pass saves it.</summary>
    public bool AwaitsEndOfPass { get; set; }

    /// <summary>When its save was first put off for a quiet time (a write-back in parts); null once saved.</summary>
    public DateTimeOffset? DeferredSince { get; set; }

    /// <summary>A quiet-time save of it failed and was reported; the next failure is not reported again.</summary>
    public bool SaveFailureReported { get; set; }

    public int Handles { get; set; }
    public int Length { get; private set; }
    public DateTimeOffset Modified { get; set; }

    public ReadOnlySpan<byte> Span => _data.AsSpan(0, Length);

    public int Read(long offset, Span<byte> buffer)
    {
        if (offset >= Length) return 0;
        int n = (int)Math.Min(buffer.Length, Length - offset);
        _data.AsSpan((int)offset, n).CopyTo(buffer);
        return n;
    }

    public void Write(long offset, ReadOnlySpan<byte> bytes)
    {
        long end = offset + bytes.Length;
        if (end > MaxSize) throw new FsException(FsError.TooBig, "a secret may hold at most 64 MiB");
        Reserve((int)end);
        if (offset > Length) _data.AsSpan(Length, (int)offset - Length).Clear();
        bytes.CopyTo(_data.AsSpan((int)offset));
        Length = Math.Max(Length, (int)end);
    }

    public void Truncate(long size)
    {
        if (size > MaxSize) throw new FsException(FsError.TooBig, "a secret may hold at most 64 MiB");
        Reserve((int)size);
        if (size > Length) _data.AsSpan(Length, (int)size - Length).Clear();
        else _data.AsSpan((int)size, Length - (int)size).Clear();
        Length = (int)size;
    }

    public void Wipe()
    {
        CryptographicOperations.ZeroMemory(_data);
        Length = 0;
    }

    private void Reserve(int size)
    {
        if (size <= _data.Length) return;
        byte[] bigger = GC.AllocateUninitializedArray<byte>(Math.Max(size, Math.Min(_data.Length * 2, MaxSize)), pinned: true);
        _data.AsSpan(0, Length).CopyTo(bigger);
        CryptographicOperations.ZeroMemory(_data);
        _data = bigger;
    }
}
