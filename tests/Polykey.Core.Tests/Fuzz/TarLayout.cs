using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Polykey.Core.Tests.Fuzz;

/// <summary>A tar member as the harness's own parser finds it: where its header lies, what it claims.</summary>
internal readonly record struct RawMember(long Header, string Name, char Type, long Size)
{
    public long Data => Header + TarLayout.Block;
    public long End => Data + TarLayout.Padded(Size);
}

/// <summary>A change: members up to and including the closing polykey/txn record.</summary>
internal sealed record RawChange(long Start, IReadOnlyList<RawMember> Members, RawMember Record, long Sequence)
{
    public long End => Record.End;
}

internal enum ParseStop { EndOfFile, ZeroBlock, BadHeader }

/// <summary>The changes found from byte 0, and where and why the walk stopped.</summary>
internal sealed record RawLayout(IReadOnlyList<RawChange> Changes, long StopAt, ParseStop Stop)
{
    public long ChangesEnd => Changes.Count == 0 ? 0 : Changes[^1].End;

    public IEnumerable<RawMember> Members => Changes.SelectMany(c => c.Members);

    public IEnumerable<RawMember> AllHeaders => Changes.SelectMany(c => c.Members.Append(c.Record));

    /// <summary>How many changes from the first are whole and numbered 1, 2, 3… (before any swapped, repeated or missing one).</summary>
    public int IntactChanges
    {
        get
        {
            int intact = 0;
            while (intact < Changes.Count && Changes[intact].Sequence == intact + 1) intact++;
            return intact;
        }
    }

    /// <summary>The last member of that name (as tar -x, the one that wins), or null.</summary>
    public RawMember? LastNamed(string name) => Members.Where(m => m.Name == name).Select(m => (RawMember?)m).LastOrDefault();
}

/// <summary>What the next change's record must name: the end of the last change, its sequence and record hash.</summary>
internal readonly record struct ChainPoint(long Offset, long Sequence, byte[] RecordHash)
{
    public static ChainPoint Origin => new(0, 0, new byte[32]);
}

/// <summary>
/// The harness's own tar and change framing (docs/keynode-format.md §3), written from the
/// document rather than from the reader, so that a rewrite of the reader cannot break the
/// harness and a bug in the reader is not mirrored here. Parses headers without checking
/// change hashes; writes raw headers of any type and claimed size.
/// </summary>
internal static class TarLayout
{
    public const int Block = 512;
    public const int EndOfArchive = 2 * Block;
    public const string RecordName = "polykey/txn";

    public static long Padded(long size) => (size + Block - 1) / Block * Block;

    public static RawLayout Parse(byte[] file)
    {
        var changes = new List<RawChange>();
        var members = new List<RawMember>();
        long start = 0, pos = 0;
        while (true)
        {
            if (pos + Block > file.Length) return new RawLayout(changes, pos, ParseStop.EndOfFile);
            if (!file.AsSpan((int)pos, Block).ContainsAnyExcept((byte)0)) return new RawLayout(changes, pos, ParseStop.ZeroBlock);
            if (ReadHeader(file, pos) is not { } member) return new RawLayout(changes, pos, ParseStop.BadHeader);
            if (member.End > file.Length) return new RawLayout(changes, pos, ParseStop.EndOfFile);
            if (member.Name == RecordName)
            {
                changes.Add(new RawChange(start, members.ToArray(), member, SequenceOf(file, member)));
                members.Clear();
                start = member.End;
            }
            else
            {
                members.Add(member);
            }
            pos = member.End;
        }
    }

    /// <summary>A header whose checksum and size field parse; null otherwise.</summary>
    public static RawMember? ReadHeader(byte[] file, long at)
    {
        if (at < 0 || at + Block > file.Length) return null;
        ReadOnlySpan<byte> h = file.AsSpan((int)at, Block);
        if (!TryOctal(h.Slice(148, 8), out long stored) || stored != Checksum(h)) return null;
        if (!TryOctal(h.Slice(124, 12), out long size)) return null;
        string name = Field(h[..100]);
        if (h.Slice(257, 5).SequenceEqual("ustar"u8) && Field(h.Slice(345, 155)) is { Length: > 0 } prefix) name = prefix + "/" + name;
        return new RawMember(at, name, h[156] == 0 ? '0' : (char)h[156], size);
    }

    /// <summary>One member: a ustar header claiming <paramref name="claimedSize"/> (the data length unless given), then the data padded.</summary>
    public static byte[] Member(string name, ReadOnlySpan<byte> data, char type = '0', long? claimedSize = null, string link = "")
    {
        byte[] bytes = new byte[Block + Padded(data.Length)];
        WriteHeader(bytes, name, type, claimedSize ?? data.Length, link);
        data.CopyTo(bytes.AsSpan(Block));
        return bytes;
    }

    private static void WriteHeader(Span<byte> h, string name, char type, long size, string link)
    {
        Text(h.Slice(100, 8), type == '5' ? "0000700" : "0000600");
        Text(h.Slice(108, 8), "0000000");
        Text(h.Slice(116, 8), "0000000");
        Text(h.Slice(136, 12), "14000000000");
        Text(h.Slice(157, 100), link);
        "ustar\0"u8.CopyTo(h[257..]);
        "00"u8.CopyTo(h[263..]);
        Edit(h, name, type, size);
    }

    /// <summary>Rewrites fields of a header in place and makes its checksum match again.</summary>
    public static void Edit(Span<byte> header, string? name = null, char? type = null, long? size = null)
    {
        if (name is not null)
        {
            Text(header[..100], name);
            header.Slice(345, 155).Clear();
        }
        if (type is { } t) header[156] = (byte)t;
        if (size is { } n)
        {
            // Eleven octal digits and a NUL, or twelve digits filling the field for sizes of 8 GiB and more.
            string octal = Convert.ToString(n, 8);
            Text(header.Slice(124, 12), octal.Length <= 11 ? octal.PadLeft(11, '0') : octal);
        }
        SetChecksum(header);
    }

    public static void SetChecksum(Span<byte> header)
    {
        long sum = Checksum(header);
        Text(header.Slice(148, 8), Convert.ToString(sum, 8).PadLeft(6, '0'));
        header[154] = 0;
        header[155] = (byte)' ';
    }

    /// <summary>The record that closes a change whose member bytes are <paramref name="members"/>, as §3.2 specifies.</summary>
    public static byte[] Record(ChainPoint at, ReadOnlySpan<byte> members) => Encoding.ASCII.GetBytes(
        $"polykey-txn 1\nseq {(at.Sequence + 1).ToString(CultureInfo.InvariantCulture)}\nstart {at.Offset.ToString(CultureInfo.InvariantCulture)}\n" +
        $"sha256 {Convert.ToHexStringLower(SHA256.HashData(members))}\nprev {Convert.ToHexStringLower(at.RecordHash)}\n");

    /// <summary>Members, their record, and the end-of-archive blocks: a change as a writer appends it at <paramref name="at"/>.</summary>
    public static byte[] Change(ChainPoint at, ReadOnlySpan<byte> members) =>
        [.. members, .. Member(RecordName, Record(at, members)), .. new byte[EndOfArchive]];

    /// <summary>The chain point after a parsed change.</summary>
    public static ChainPoint PointAfter(byte[] file, RawChange change) =>
        new(change.End, change.Sequence, SHA256.HashData(file.AsSpan((int)change.Record.Data, (int)change.Record.Size)));

    public static ChainPoint LastPoint(byte[] file, RawLayout layout) =>
        layout.Changes.Count == 0 ? ChainPoint.Origin : PointAfter(file, layout.Changes[^1]);

    /// <summary>
    /// Rewrites every record from byte 0 so that each change's checksum and chain match again
    /// (what an attacker who can rewrite the whole file can do). Bytes after the last change
    /// the harness can parse are kept as they are.
    /// </summary>
    public static byte[] Reseal(byte[] file)
    {
        RawLayout layout = Parse(file);
        using var output = new MemoryStream(file.Length + Block);
        ChainPoint point = ChainPoint.Origin;
        foreach (RawChange change in layout.Changes)
        {
            ReadOnlySpan<byte> members = file.AsSpan((int)change.Start, (int)(change.Record.Header - change.Start));
            byte[] record = Record(point, members);
            output.Write(members);
            output.Write(Member(RecordName, record));
            point = new ChainPoint(output.Length, point.Sequence + 1, SHA256.HashData(record));
        }
        output.Write(file.AsSpan((int)layout.ChangesEnd));
        return output.ToArray();
    }

    /// <summary>Where an appended change goes: over the closing zero blocks when the file ends with them, else at the very end.</summary>
    public static long AppendOffset(byte[] file)
    {
        int tail = file.Length - EndOfArchive;
        return tail >= 0 && !file.AsSpan(tail).ContainsAnyExcept((byte)0) ? tail : file.Length;
    }

    /// <summary>True when a polykey/txn header lies on a 512-byte boundary after <paramref name="offset"/> (§3.3: the damage is not an unfinished append).</summary>
    public static bool RecordAfter(byte[] file, long offset)
    {
        for (long at = Padded(offset + 1); at + Block <= file.Length; at += Block)
            if (ReadHeader(file, at) is { Name: RecordName }) return true;
        return false;
    }

    /// <summary>True when nothing but zero bytes lies from <paramref name="offset"/> to the end.</summary>
    public static bool OnlyZerosFrom(byte[] file, long offset) =>
        offset >= file.Length || !file.AsSpan((int)offset).ContainsAnyExcept((byte)0);

    private static long SequenceOf(byte[] file, RawMember record)
    {
        string text = Encoding.ASCII.GetString(file, (int)record.Data, (int)Math.Min(record.Size, Block));
        string? line = text.Split('\n').FirstOrDefault(l => l.StartsWith("seq ", StringComparison.Ordinal));
        return line is not null && long.TryParse(line[4..], NumberStyles.None, CultureInfo.InvariantCulture, out long seq) ? seq : -1;
    }

    private static long Checksum(ReadOnlySpan<byte> header)
    {
        long sum = 0;
        for (int i = 0; i < Block; i++) sum += i is >= 148 and < 156 ? ' ' : header[i];
        return sum;
    }

    private static bool TryOctal(ReadOnlySpan<byte> field, out long value)
    {
        value = 0;
        bool any = false;
        foreach (byte b in field)
        {
            if (b is 0 or (byte)' ')
            {
                if (any) break;
                continue;
            }
            if (b is < (byte)'0' or > (byte)'7' || value > long.MaxValue / 8) return false;
            value = value * 8 + (b - '0');
            any = true;
        }
        return any;
    }

    private static string Field(ReadOnlySpan<byte> field)
    {
        int end = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? field : field[..end]);
    }

    private static void Text(Span<byte> field, string text)
    {
        field.Clear();
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        bytes.AsSpan(0, Math.Min(bytes.Length, field.Length)).CopyTo(field);
    }
}
