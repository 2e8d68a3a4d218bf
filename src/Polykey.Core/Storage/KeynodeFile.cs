namespace Polykey.Core.Storage;

/// <summary>
/// The keynode file on disk: reads committed changes from any point, appends a change
/// durably under the writer lock. Knows tar and the change framing, nothing about git or keys.
/// </summary>
internal sealed class KeynodeFile : IDisposable
{
    private readonly FileStream _stream;
    private string? _readOnlyReason;

    private KeynodeFile(string path, FileStream stream)
    {
        Path = path;
        _stream = stream;
    }

    public string Path { get; }

    public Microsoft.Win32.SafeHandles.SafeFileHandle Handle => _stream.SafeFileHandle;

    /// <summary>Opens for reading and, where permissions and the filesystem allow, for appending.</summary>
    public static KeynodeFile Open(string path)
    {
        KeynodePathCheck.RequireRegularFile(path);
        try
        {
            return new KeynodeFile(path, OpenStream(path, FileAccess.ReadWrite));
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException { HResult: 30 })
        {
            string reason = Describe(e);
            return new KeynodeFile(path, OpenStream(path, FileAccess.Read)) { _readOnlyReason = reason };
        }
    }

    private static FileStream OpenStream(string path, FileAccess access)
    {
        try
        {
            return new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = access,
                Share = FileShare.ReadWrite | FileShare.Delete,
                BufferSize = 0,
            });
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw PolykeyException.NotFound($"no keynode at {path}", "create one with 'pk init', or name another with --keynode");
        }
        catch (UnauthorizedAccessException) when (access == FileAccess.Read)
        {
            throw PolykeyException.Failed($"cannot open {path}: permission denied");
        }
        catch (IOException e) when (access == FileAccess.Read)
        {
            throw PolykeyException.Failed($"cannot open {path}: {Describe(e)}");
        }
    }

    /// <summary>Creates the file (never over an existing one) and writes its first change.</summary>
    public static KeynodeFile Create(string path, IReadOnlyList<PendingMember> members, DateTimeOffset time)
    {
        KeynodePathCheck.RequireRegularFile(path);
        string? directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        FileStream stream;
        try
        {
            if (directory is not null) Directory.CreateDirectory(directory);
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.ReadWrite,
                Share = FileShare.ReadWrite | FileShare.Delete,
                BufferSize = 0,
            };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            stream = new FileStream(path, options);
        }
        catch (IOException) when (File.Exists(path))
        {
            throw PolykeyException.Conflict($"{path} already exists", "choose another path with --keynode, or remove the old file first");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw PolykeyException.Failed($"cannot create {path}: {Describe(e)}");
        }
        var file = new KeynodeFile(path, stream);
        try
        {
            using (FileLock.Exclusive(stream.SafeFileHandle))
                file.WriteChange(ScanPoint.Origin, 0, members, time);
            if (directory is not null) Native.LibC.FsyncDirectory(directory);
            return file;
        }
        catch
        {
            file.Dispose();
            File.Delete(path);
            throw;
        }
    }

    private long _appendingTo = -1;

    // The last change this handle wrote, for the scan that reads it back next; taken once.
    private (long Offset, byte[] Bytes)? _justWritten;

    /// <summary>
    /// The length the file has once the last append this handle made (or is making) is
    /// written; read without a lock, by a watcher asking whether a change it heard of is ours.
    /// </summary>
    public long AppendingTo => Volatile.Read(ref _appendingTo);

    /// <summary>
    /// Whether another file was renamed over this one's path since it was opened (as `pk gc`
    /// does): a writer must then append to the new file, or its change would be lost with the old.
    /// </summary>
    public bool Replaced
    {
        get
        {
            if (!OperatingSystem.IsLinux()) return false;
            try
            {
                // The kernel names an open file whose last link is gone "<path> (deleted)".
                string? target = new FileInfo($"/proc/self/fd/{_stream.SafeFileHandle.DangerousGetHandle()}").LinkTarget;
                return target is null || target.EndsWith(" (deleted)", StringComparison.Ordinal);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        }
    }

    public FileLock LockShared() => FileLock.Shared(_stream.SafeFileHandle);

    public FileLock LockExclusive() => FileLock.Exclusive(_stream.SafeFileHandle);

    /// <summary>Reads every change committed after <paramref name="from"/>. Call with a lock held.</summary>
    public ScanResult ReadChanges(ScanPoint from, ScanPoint? checkedUpTo = null)
    {
        long length = RandomAccess.GetLength(_stream.SafeFileHandle);
        if (TarHeader.Padded(length) < from.Offset)
            throw PolykeyException.Failed($"keynode {Path} became shorter than its last known change",
                "another program truncated or replaced it; open it again");
        var reader = new BlockReader(_stream.SafeFileHandle, length, Path);
        // Reading back the change this handle just wrote (under the lock it still holds): from memory.
        (long Offset, byte[] Bytes)? written = _justWritten;
        _justWritten = null;
        if (written is { } w && w.Offset == from.Offset && w.Offset + w.Bytes.Length == length) reader.WithWritten(w.Offset, w.Bytes);
        return ChangeScanner.Scan(reader, from, Path, checkedUpTo) with
        {
            // Up to a change end known before: its record chain is trusted, as a resumed reader trusts it.
            Earlier = upTo => ChangeScanner.Scan(new BlockReader(_stream.SafeFileHandle, upTo.Offset, Path), ScanPoint.Origin, Path, upTo),
        };
    }

    // The keynode id from the header member, read before anything else so caches can be found.
    public string? PeekKeynodeId()
    {
        try
        {
            byte[] head = new byte[1024];
            if (RandomAccess.Read(Handle, head, 0) < 1024) return null;
            if (TarHeader.TryParse(head) is not { Name: KeynodeLayout.HeaderMember, Size: < 512 } header) return null;
            return KeynodeLayout.ParseHeader(head.AsSpan(512, (int)header.Size).ToArray(), Path).Id;
        }
        catch (PolykeyException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether the change record that ends at <paramref name="point"/> is the one remembered
    /// there: every record hashes the one before it, so the same record means the same chain of
    /// changes up to it. Only records written as pk writes them (one block of data) are looked for.
    /// </summary>
    public bool EndsWithRecord(ScanPoint point)
    {
        if (point.Offset < 2 * TarHeader.BlockSize || RandomAccess.GetLength(_stream.SafeFileHandle) < point.Offset) return false;
        byte[] tail = new byte[2 * TarHeader.BlockSize];
        if (RandomAccess.Read(_stream.SafeFileHandle, tail, point.Offset - tail.Length) != tail.Length) return false;
        if (TarHeader.TryParse(tail) is not { Name: TxnRecord.MemberName, Size: > 0 and <= TarHeader.BlockSize } header) return false;
        ReadOnlySpan<byte> data = tail.AsSpan(TarHeader.BlockSize, (int)header.Size);
        return TxnRecord.TryParse(data) is { } record && record.Sequence == point.Sequence
            && TxnRecord.HashOf(data).AsSpan().SequenceEqual(point.RecordHash);
    }

    /// <summary>A member's data as a stream read from the file as it goes (large members never sit whole in memory).</summary>
    public Stream OpenData(TarMember member) =>
        member.Inline is { } inline ? new MemoryStream(inline, writable: false) : new MemberStream(_stream.SafeFileHandle, member.DataOffset, member.Size);

    /// <summary>A member's data; small members were read with their header.</summary>
    public byte[] ReadData(TarMember member)
    {
        if (member.Inline is { } inline) return (byte[])inline.Clone();
        if (member.Size > Array.MaxLength) throw PolykeyException.Failed($"a member of keynode {Path} is too large to read ({member.Size} bytes)");
        byte[] data = new byte[member.Size];
        ReadExactly(member.DataOffset, data);
        return data;
    }

    /// <summary>
    /// Appends one change after the last committed one and makes it durable. Call with the
    /// exclusive lock held and <paramref name="at"/> and <paramref name="writeAt"/> fresh from
    /// <see cref="ReadChanges"/>: the change starts at <paramref name="writeAt"/>, which lies past
    /// any bytes that belong to no change, so nothing but zeros is ever overwritten.
    /// </summary>
    public Change WriteChange(ScanPoint at, long writeAt, IReadOnlyList<PendingMember> members, DateTimeOffset time)
    {
        if (_readOnlyReason is not null)
            throw PolykeyException.Failed($"cannot write to {Path}: {_readOnlyReason}; the change was not saved");
        if (writeAt < at.Offset) throw new ArgumentOutOfRangeException(nameof(writeAt));
        (byte[] bytes, Change change) = ChangeWriter.Build(at, writeAt, members, time);
        Volatile.Write(ref _appendingTo, writeAt + bytes.Length);
        try
        {
            RandomAccess.Write(_stream.SafeFileHandle, bytes, writeAt);
            long end = writeAt + bytes.Length;
            // Only zeros lie past writeAt (the scan saw to that): the old end-of-archive blocks.
            if (RandomAccess.GetLength(_stream.SafeFileHandle) > end) _stream.SetLength(end);
            _stream.Flush(flushToDisk: true);
            _justWritten = (writeAt, bytes);
        }
        catch (IOException e)
        {
            Volatile.Write(ref _appendingTo, -1); // that length may yet be another writer's
            RollBack(writeAt);
            throw PolykeyException.Failed($"cannot write to {Path}: {Describe(e)}; the change was not saved",
                "the keynode still holds every earlier change; free space and try again");
        }
        return change;
    }

    /// <summary>Appends after what <paramref name="fresh"/> found (a scan taken under the exclusive lock).</summary>
    public Change WriteChange(ScanResult fresh, IReadOnlyList<PendingMember> members, DateTimeOffset time) =>
        WriteChange(fresh.End, fresh.WriteAt, members, time);

    // Puts back the bytes that were there before a failed append: the end-of-archive blocks.
    private void RollBack(long offset)
    {
        try
        {
            _stream.SetLength(offset);
            RandomAccess.Write(_stream.SafeFileHandle, new byte[ChangeWriter.EndOfArchiveLength], offset);
            _stream.Flush(flushToDisk: true);
        }
        catch (IOException)
        {
            // The unfinished change has no closing record, so readers ignore it anyway.
        }
    }

    private void ReadExactly(long offset, Span<byte> buffer)
    {
        int done = 0;
        while (done < buffer.Length)
        {
            int n = RandomAccess.Read(_stream.SafeFileHandle, buffer[done..], offset + done);
            if (n == 0) throw PolykeyException.Failed($"keynode {Path} ended early while reading");
            done += n;
        }
    }

    private static string Describe(Exception e) => e switch
    {
        UnauthorizedAccessException => "permission denied",
        IOException { HResult: 28 } => "no space left on device",
        IOException { HResult: 30 } => "read-only file system",
        IOException { HResult: 122 } => "disk quota exceeded",
        _ => e.Message,
    };

    public void Dispose() => _stream.Dispose();
}
