using System.Formats.Tar;
using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core.Tests;

/// <summary>Reads and appends keynode members below the Keynode API, as an attacker with write access to the file would.</summary>
internal static class RawKeynode
{
    public static KeynodeState State(string path)
    {
        using KeynodeFile file = KeynodeFile.Open(path);
        var state = new KeynodeState();
        state.Apply(file.ReadChanges(ScanPoint.Origin), path, new List<string>());
        return state;
    }

    public static byte[] ReadObject(string path, ObjectId id)
    {
        using KeynodeFile file = KeynodeFile.Open(path);
        var state = new KeynodeState();
        state.Apply(file.ReadChanges(ScanPoint.Origin), path, new List<string>());
        Assert.True(state.TryGetObject(id, out TarMember member), $"object {id} is in the file");
        return StoredObjects.ReadWhole(file, id, member).Content;
    }

    /// <summary>The keynode's id: the origin its own histories name.</summary>
    public static string Id(string path) => State(path).KeynodeId!;

    public static Commit ReadCommit(string path, ObjectId id) => Commit.Decode(id, ReadObject(path, id)).Commit;

    /// <summary>The next version number after <paramref name="parent"/> (1 for a new history).</summary>
    public static long NextSequence(string path, ObjectId? parent) =>
        parent is { } p ? HistoryBinding.TryParse(ReadCommit(path, p).Message)!.Value.Sequence + 1 : 1;

    /// <summary>Appends one well-formed change holding exactly these members.</summary>
    public static void Append(string path, IReadOnlyList<PendingMember> members)
    {
        using KeynodeFile file = KeynodeFile.Open(path);
        using (file.LockExclusive())
            file.WriteChange(file.ReadChanges(ScanPoint.Origin), members, DateTimeOffset.UtcNow);
    }

    /// <summary>
    /// Appends a change made of any tar entries (links, devices, odd names), closed by a correct
    /// change record: what a hostile writer who knows the format can add.
    /// </summary>
    public static void AppendEntries(string path, Action<TarWriter> write)
    {
        using KeynodeFile file = KeynodeFile.Open(path);
        using (file.LockExclusive())
        {
            ScanResult fresh = file.ReadChanges(ScanPoint.Origin);
            byte[] members = TarBytes(write);
            var record = new TxnRecord(fresh.End.Sequence + 1, fresh.WriteAt, Digests.Sha256(members), fresh.End.RecordHash);
            byte[] closing = TarBytes(tar => tar.WriteEntry(Regular(TxnRecord.MemberName, record.Serialize())));
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            stream.Position = fresh.WriteAt;
            stream.Write(members);
            stream.Write(closing);
            stream.Write(new byte[1024]);
        }
    }

    public static UstarTarEntry Regular(string name, byte[] data) =>
        new(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) };

    // The entries' bytes without the two zero blocks a tar writer ends with.
    private static byte[] TarBytes(Action<TarWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var tar = new TarWriter(buffer, TarEntryFormat.Ustar, leaveOpen: true)) write(tar);
        return buffer.ToArray()[..^1024];
    }

    /// <summary>Where a member's header starts (the last member of that name).</summary>
    public static long HeaderOffset(string path, string name) =>
        FindHeader(File.ReadAllBytes(path), name);

    private static long FindHeader(byte[] bytes, string name)
    {
        long found = -1;
        for (long pos = 0; pos + 512 <= bytes.Length;)
        {
            if (TarHeader.TryParse(bytes.AsSpan((int)pos, 512)) is not { } header) { pos += 512; continue; }
            if (header.Name == name) found = pos;
            pos += 512 + TarHeader.Padded(header.Size);
        }
        return found;
    }

    /// <summary>
    /// Appends a well-formed change holding one member of <paramref name="size"/> zero bytes
    /// (left sparse on disk) under a name pk ignores: a cheap way to a keynode of many GiB.
    /// </summary>
    public static void AppendZeros(string path, string name, long size)
    {
        using KeynodeFile file = KeynodeFile.Open(path);
        using (file.LockExclusive())
        {
            ScanResult fresh = file.ReadChanges(ScanPoint.Origin);
            byte[] header = UstarHeader(name, size);
            using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
            hash.AppendData(header);
            byte[] zeros = new byte[1 << 20];
            for (long left = TarHeader.Padded(size); left > 0; left -= zeros.Length) hash.AppendData(zeros, 0, (int)Math.Min(left, zeros.Length));
            long recordAt = fresh.WriteAt + header.Length + TarHeader.Padded(size);
            var record = new TxnRecord(fresh.End.Sequence + 1, fresh.WriteAt, hash.GetHashAndReset(), fresh.End.RecordHash);
            byte[] closing = TarBytes(tar => tar.WriteEntry(Regular(TxnRecord.MemberName, record.Serialize())));
            RandomAccess.Write(file.Handle, header, fresh.WriteAt);
            RandomAccess.SetLength(file.Handle, recordAt); // the zeros stay a hole
            RandomAccess.Write(file.Handle, [.. closing, .. new byte[1024]], recordAt);
        }
    }

    /// <summary>A POSIX ustar header for a regular file, for sizes up to 8 GiB.</summary>
    public static byte[] UstarHeader(string name, long size)
    {
        byte[] block = new byte[512];
        System.Text.Encoding.ASCII.GetBytes(name).CopyTo(block, 0);
        void Octal(int at, int width, long value) =>
            System.Text.Encoding.ASCII.GetBytes(Convert.ToString(value, 8).PadLeft(width - 1, '0')).CopyTo(block, at);
        Octal(100, 8, 384); // mode 0600
        Octal(108, 8, 0);
        Octal(116, 8, 0);
        Octal(124, 12, size);
        Octal(136, 12, 0);
        block[156] = (byte)'0';
        "ustar\0"u8.CopyTo(block.AsSpan(257));
        "00"u8.CopyTo(block.AsSpan(263));
        for (int i = 148; i < 156; i++) block[i] = (byte)' ';
        long sum = block.Sum(b => (long)b);
        System.Text.Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(block, 148);
        return block;
    }
}
