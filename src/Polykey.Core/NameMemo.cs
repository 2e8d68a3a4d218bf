using System.Buffers.Binary;
using System.Text;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Macs;
using Org.BouncyCastle.Crypto.Modes;
using Org.BouncyCastle.Crypto.Parameters;
using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core;

/// <summary>
/// What one reader learned by decrypting each history's tip (path, size, kind, time) as of its
/// open snapshot, so that no open decrypts 100,000 tips again and one name is found without
/// reading the others. Names stay as hidden as in the keynode: entries are sorted by a keyed
/// hash of their name and sealed in chunks with AES-256-GCM, under keys derived from the
/// reader's decryption key (<see cref="SecretIdentity.DeriveLocalKey"/>) and bound to the
/// keynode id and the snapshot's change record. A memo that does not open under this reader's
/// key, or belongs to another snapshot, is not used; the names are then decrypted from the file.
/// </summary>
internal sealed class NameMemo : IDisposable
{
    private static readonly byte[] Magic = Encoding.ASCII.GetBytes("polykey-names 2\n");

    /// <summary>Whether <paramref name="bytes"/> start as a memo of this reader's version.</summary>
    public static bool IsThisVersion(ReadOnlySpan<byte> bytes) => bytes.StartsWith(Magic);
    private const int TagBytes = 16;
    private const int NonceBytes = 12;
    private const int SealBytes = 16;
    private const int DirectoryEntryBytes = TagBytes + 4 + 4 + NonceBytes;
    // Keynode id, snapshot end offset and record hash, key check, chunk count.
    private const int HeaderBytes = 32 + 8 + 32 + TagBytes + 4;
    private const int EntriesPerChunk = 64;
    private const byte Unreadable = 0xff;
    // Above this much, OpenSSL's AES-NI (worth its ~7 ms to load) seals and opens; below it, BouncyCastle.
    private const int ManagedLimit = 256 << 10;
    private static readonly byte[] UnreadableTag = Enumerable.Repeat((byte)0xff, TagBytes).ToArray();

    private readonly MappedFile _file;
    private readonly byte[] _sealKey;
    private readonly byte[] _tagKey;
    private readonly string _keynodeId;
    private readonly int _chunks;
    private readonly int _chunksAt;

    private NameMemo(MappedFile file, byte[] sealKey, byte[] tagKey, string keynodeId, int chunks)
    {
        _file = file;
        _sealKey = sealKey;
        _tagKey = tagKey;
        _keynodeId = keynodeId;
        _chunks = chunks;
        _chunksAt = Magic.Length + HeaderBytes + chunks * DirectoryEntryBytes + TagBytes;
    }

    public static string PathFor(string cacheDirectory, string keynodeId) => Path.Combine(cacheDirectory, "polykey", keynodeId + ".names");

    /// <summary>
    /// The memo for this reader and snapshot, or null when there is none: none at all, another
    /// reader's or another snapshot's (no damage), or one of this reader and snapshot that does
    /// not read back whole (<paramref name="damaged"/>).
    /// </summary>
    public static NameMemo? Open(string path, string keynodeId, ScanPoint snapshot, SecretIdentity reader, out bool damaged)
    {
        damaged = false;
        if (MappedFile.TryOpen(path) is not { } file) return null;
        (byte[] sealKey, byte[] tagKey) = Keys(reader, keynodeId);
        ReadOnlySpan<byte> data = file.Span;
        int chunks = -1;
        byte[] expected = HeaderOf(keynodeId, snapshot, KeyCheck(tagKey), 0);
        int compared = Math.Min(data.Length, Magic.Length + HeaderBytes - 4);
        bool ours = data.Length >= Magic.Length + HeaderBytes && data[..Magic.Length].SequenceEqual(Magic)
            && expected.AsSpan(0, HeaderBytes - 4).SequenceEqual(data.Slice(Magic.Length, HeaderBytes - 4));
        if (ours)
        {
            chunks = BinaryPrimitives.ReadInt32LittleEndian(data.Slice(Magic.Length + HeaderBytes - 4));
            long directoryEnd = Magic.Length + HeaderBytes + (long)Math.Max(chunks, 0) * DirectoryEntryBytes;
            if (chunks < 0 || directoryEnd + TagBytes > data.Length
                || !Mac(tagKey, data[..(int)directoryEnd]).AsSpan().SequenceEqual(data.Slice((int)directoryEnd, TagBytes)))
                chunks = -1;
        }
        // This reader's memo of this snapshot that does not read back whole, or one cut inside its header.
        damaged = chunks < 0 && (ours || data.Length < Magic.Length + HeaderBytes
            && ((ReadOnlySpan<byte>)[.. Magic, .. expected.AsSpan(0, HeaderBytes - 4)]).StartsWith(data[..compared]));
        if (chunks >= 0) return new NameMemo(file, sealKey, tagKey, keynodeId, chunks);
        Array.Clear(sealKey);
        Array.Clear(tagKey);
        ((IDisposable)file).Dispose();
        return null;
    }

    /// <summary>Every history the memo knows (no entry: a tip this reader cannot decrypt); null when a chunk is damaged.</summary>
    public List<(string Id, ObjectId Tip, IndexEntry? Entry)>? All()
    {
        var all = new List<(string, ObjectId, IndexEntry?)>();
        using var fast = _file.Length >= ManagedLimit ? new System.Security.Cryptography.AesGcm(_sealKey, SealBytes) : null;
        for (int chunk = 0; chunk < _chunks; chunk++)
        {
            byte[]? plain = OpenChunk(chunk, fast);
            if (plain is null) return null;
            foreach (var entry in Entries(plain, null)) all.Add(entry);
            Array.Clear(plain);
        }
        return all;
    }

    /// <summary>
    /// The entries of every history whose tip, as of the snapshot, carries <paramref name="path"/>:
    /// one or two chunks opened, whatever the keynode's size. Null when a chunk is damaged.
    /// </summary>
    public List<IndexEntry>? Named(string path)
    {
        byte[] tag = NameTag(_tagKey, path);
        var found = new List<IndexEntry>();
        // The last chunk starting at or below the tag; entries with this tag may run on into the next ones.
        int low = 0, high = _chunks - 1, first = -1;
        while (low <= high)
        {
            int middle = low + (high - low) / 2;
            if (FirstTag(middle).SequenceCompareTo(tag) <= 0)
            {
                first = middle;
                low = middle + 1;
            }
            else high = middle - 1;
        }
        if (first < 0) return found;
        // Chunks starting exactly at the tag may hold the tail of a run that began one chunk earlier.
        while (first > 0 && FirstTag(first).SequenceEqual(tag)) first--;
        for (int chunk = first; chunk < _chunks && (chunk == first || FirstTag(chunk).SequenceEqual(tag)); chunk++)
        {
            byte[]? plain = OpenChunk(chunk, null);
            if (plain is null) return null;
            foreach ((string _, ObjectId _, IndexEntry? entry) in Entries(plain, tag))
                if (entry is not null && entry.Path == path) found.Add(entry);
            Array.Clear(plain);
        }
        return found;
    }

    /// <summary>Writes the memo for <paramref name="snapshot"/>; false when it could not (caches only save time).</summary>
    public static bool Save(string path, string keynodeId, ScanPoint snapshot, SecretIdentity reader, IEnumerable<(string Id, ObjectId Tip, IndexEntry? Entry)> known) =>
        Build(keynodeId, snapshot, reader, known) is { } memo && PrivateFile.TryReplace(path, memo);

    /// <summary>The memo's bytes, as <see cref="Save"/> writes them; null when too large to hold.</summary>
    public static byte[]? Build(string keynodeId, ScanPoint snapshot, SecretIdentity reader, IEnumerable<(string Id, ObjectId Tip, IndexEntry? Entry)> known)
    {
        (byte[] sealKey, byte[] tagKey) = Keys(reader, keynodeId);
        var buffers = new List<byte[]>();
        try
        {
            var entries = known.Select(k => (Tag: k.Entry is { } e ? NameTag(tagKey, e.Path) : UnreadableTag, k.Id, k.Tip, k.Entry)).ToList();
            entries.Sort((a, b) => a.Tag.AsSpan().SequenceCompareTo(b.Tag));
            int chunks = (entries.Count + EntriesPerChunk - 1) / EntriesPerChunk;
            var output = new MemoryStream();
            output.Write(Magic);
            output.Write(HeaderOf(keynodeId, snapshot, KeyCheck(tagKey), chunks));
            long directoryAt = output.Position;
            output.Write(new byte[chunks * DirectoryEntryBytes + TagBytes]);
            var sealedChunks = new List<(byte[] FirstTag, byte[] Nonce, byte[] Sealed)>();
            long total = 0;
            for (int chunk = 0; chunk < chunks; chunk++)
            {
                var plain = new MemoryStream();
                foreach (var entry in entries.Skip(chunk * EntriesPerChunk).Take(EntriesPerChunk)) WriteEntry(plain, entry.Tag, entry.Id, entry.Tip, entry.Entry);
                byte[] bytes = plain.ToArray();
                buffers.Add(bytes);
                buffers.Add(plain.GetBuffer());
                byte[] nonce = Crypto.RandomBytes.Get(NonceBytes);
                byte[] sealedChunk = Seal(sealKey, nonce, bytes, AssociatedData(keynodeId, chunk));
                sealedChunks.Add((entries[chunk * EntriesPerChunk].Tag, nonce, sealedChunk));
                total += sealedChunk.Length;
            }
            if (total > int.MaxValue / 2) return null;
            byte[] all = output.ToArray();
            int offset = 0;
            for (int chunk = 0; chunk < chunks; chunk++)
            {
                Span<byte> entry = all.AsSpan((int)directoryAt + chunk * DirectoryEntryBytes, DirectoryEntryBytes);
                sealedChunks[chunk].FirstTag.CopyTo(entry);
                BinaryPrimitives.WriteInt32LittleEndian(entry[TagBytes..], offset);
                BinaryPrimitives.WriteInt32LittleEndian(entry[(TagBytes + 4)..], sealedChunks[chunk].Sealed.Length);
                sealedChunks[chunk].Nonce.CopyTo(entry[(TagBytes + 8)..]);
                offset += sealedChunks[chunk].Sealed.Length;
            }
            int directoryEnd = (int)directoryAt + chunks * DirectoryEntryBytes;
            Mac(tagKey, all.AsSpan(0, directoryEnd)).CopyTo(all.AsSpan(directoryEnd));
            var file = new MemoryStream();
            file.Write(all);
            foreach (var sealedChunk in sealedChunks) file.Write(sealedChunk.Sealed);
            return file.ToArray();
        }
        finally
        {
            Array.Clear(sealKey);
            Array.Clear(tagKey);
            foreach (byte[] buffer in buffers) Array.Clear(buffer);
        }
    }

    /// <summary>Entries as the memo stores them (with an all-0xff tag), for another sealed cache to carry.</summary>
    internal static byte[] Encode(IEnumerable<(string Id, ObjectId Tip, IndexEntry? Entry)> known)
    {
        var plain = new MemoryStream();
        foreach ((string id, ObjectId tip, IndexEntry? entry) in known) WriteEntry(plain, UnreadableTag, id, tip, entry);
        return plain.ToArray();
    }

    internal static List<(string Id, ObjectId Tip, IndexEntry? Entry)> Decode(byte[] plain) => Entries(plain, null).ToList();

    private static void WriteEntry(Stream output, byte[] tag, string id, ObjectId tip, IndexEntry? entry)
    {
        output.Write(tag);
        output.Write(Convert.FromHexString(id));
        output.Write(tip.ToBytes());
        if (entry is null)
        {
            output.WriteByte(Unreadable);
            return;
        }
        Span<byte> number = stackalloc byte[8];
        output.WriteByte((byte)entry.Kind);
        BinaryPrimitives.WriteInt64LittleEndian(number, entry.Modified.ToUnixTimeSeconds());
        output.Write(number);
        BinaryPrimitives.WriteInt64LittleEndian(number, entry.Size);
        output.Write(number);
        byte[] name = Encoding.UTF8.GetBytes(entry.Path);
        BinaryPrimitives.WriteUInt16LittleEndian(number, (ushort)name.Length);
        output.Write(number[..2]);
        output.Write(name);
        Array.Clear(name);
    }

    // Entries of one opened chunk (only those with the tag, when one is given). Sealed, so well formed; checked anyway.
    private static IEnumerable<(string, ObjectId, IndexEntry?)> Entries(byte[] plain, byte[]? tag)
    {
        var strict = new UTF8Encoding(false, true);
        var entries = new List<(string, ObjectId, IndexEntry?)>();
        int at = 0;
        while (at < plain.Length)
        {
            bool wanted = tag is null || plain.AsSpan(at, TagBytes).SequenceEqual(tag);
            at += TagBytes;
            string? id = wanted ? Convert.ToHexStringLower(plain.AsSpan(at, 16)) : null;
            ObjectId tip = wanted ? ObjectId.FromBytes(plain.AsSpan(at + 16, 20)) : default;
            byte kind = plain[at + 36];
            at += 37;
            if (kind == Unreadable)
            {
                if (wanted) entries.Add((id!, tip, null));
                continue;
            }
            if (kind > (byte)VersionKind.OwnerRevocation) throw new FormatException("a name memo entry of an unknown kind");
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(plain.AsSpan(at + 16));
            if (wanted)
            {
                long time = BinaryPrimitives.ReadInt64LittleEndian(plain.AsSpan(at));
                long size = BinaryPrimitives.ReadInt64LittleEndian(plain.AsSpan(at + 8));
                string name = strict.GetString(plain.AsSpan(at + 18, nameLength));
                entries.Add((id!, tip, new IndexEntry(id!, tip, name, size, DateTimeOffset.FromUnixTimeSeconds(time), (VersionKind)kind)));
            }
            at += 18 + nameLength;
        }
        return entries;
    }

    private ReadOnlySpan<byte> DirectoryEntry(int chunk) => _file.Span.Slice(Magic.Length + HeaderBytes + chunk * DirectoryEntryBytes, DirectoryEntryBytes);

    private ReadOnlySpan<byte> FirstTag(int chunk) => DirectoryEntry(chunk)[..TagBytes];

    private byte[]? OpenChunk(int chunk, System.Security.Cryptography.AesGcm? fast)
    {
        ReadOnlySpan<byte> entry = DirectoryEntry(chunk);
        int offset = BinaryPrimitives.ReadInt32LittleEndian(entry[TagBytes..]);
        int length = BinaryPrimitives.ReadInt32LittleEndian(entry[(TagBytes + 4)..]);
        if (offset < 0 || length < SealBytes || (long)_chunksAt + offset + length > _file.Length) return null;
        ReadOnlySpan<byte> sealedChunk = _file.Span.Slice(_chunksAt + offset, length);
        byte[] associated = AssociatedData(_keynodeId, chunk);
        ReadOnlySpan<byte> nonce = entry[(TagBytes + 8)..];
        if (fast is null)
        {
            try
            {
                return Unseal(_sealKey, nonce, sealedChunk, associated);
            }
            catch (Org.BouncyCastle.Crypto.InvalidCipherTextException)
            {
                return null;
            }
        }
        byte[] plain = new byte[length - SealBytes];
        try
        {
            fast.Decrypt(nonce, sealedChunk[..^SealBytes], sealedChunk[^SealBytes..], plain, associated);
            return plain;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            Array.Clear(plain);
            return null;
        }
    }

    /// <summary>What <see cref="Seal"/> sealed (BouncyCastle's AES-GCM, for small pieces); throws when it was altered.</summary>
    internal static byte[] Unseal(byte[] key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> sealedBytes, byte[] associated)
    {
        var gcm = new GcmBlockCipher(new AesEngine());
        gcm.Init(false, new AeadParameters(new KeyParameter(key), SealBytes * 8, nonce.ToArray(), associated));
        byte[] plain = new byte[sealedBytes.Length];
        try
        {
            int written = gcm.ProcessBytes(sealedBytes, plain);
            written += gcm.DoFinal(plain.AsSpan(written));
            return plain[..written];
        }
        finally
        {
            Array.Clear(plain);
        }
    }

    internal static byte[] Seal(byte[] key, byte[] nonce, byte[] plain, byte[] associated)
    {
        byte[] output = new byte[plain.Length + SealBytes];
        var gcm = new GcmBlockCipher(new AesEngine());
        gcm.Init(true, new AeadParameters(new KeyParameter(key), SealBytes * 8, nonce, associated));
        int written = gcm.ProcessBytes(plain, output);
        gcm.DoFinal(output.AsSpan(written));
        return output;
    }

    private static byte[] HeaderOf(string keynodeId, ScanPoint snapshot, byte[] keyCheck, int chunks)
    {
        byte[] header = new byte[HeaderBytes];
        Encoding.ASCII.GetBytes(keynodeId).CopyTo(header, 0);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(32), snapshot.Offset);
        snapshot.RecordHash.CopyTo(header, 40);
        keyCheck.CopyTo(header, 72);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(72 + TagBytes), chunks);
        return header;
    }

    // Names the reader's key without revealing it, so another reader's memo is told from a damaged one.
    private static byte[] KeyCheck(byte[] tagKey) => Mac(tagKey, "polykey names key check"u8);


    private static byte[] AssociatedData(string keynodeId, int chunk) => [.. Magic, .. Encoding.ASCII.GetBytes(keynodeId), .. BitConverter.GetBytes(chunk)];

    private static (byte[] Seal, byte[] Tag) Keys(SecretIdentity reader, string keynodeId) =>
        (reader.DeriveLocalKey("polykey names 2 seal", keynodeId), reader.DeriveLocalKey("polykey names 2 tag", keynodeId));

    private static byte[] NameTag(byte[] tagKey, string path) => Mac(tagKey, Encoding.UTF8.GetBytes(path));

    private static byte[] Mac(byte[] key, ReadOnlySpan<byte> data)
    {
        var hmac = new HMac(new Sha256Digest());
        hmac.Init(new KeyParameter(key));
        hmac.BlockUpdate(data);
        byte[] full = new byte[hmac.GetMacSize()];
        hmac.DoFinal(full, 0);
        return full[..TagBytes];
    }

    public void Dispose()
    {
        Array.Clear(_sealKey);
        Array.Clear(_tagKey);
        ((IDisposable)_file).Dispose();
    }
}
