using CsCheck;

namespace Polykey.Core.Tests.Fuzz;

/// <summary>What a mutation did that changes what the oracle may expect.</summary>
[Flags]
internal enum Effect
{
    None = 0,
    /// <summary>A crafted change appended so that its record chains: a reader must take it as committed.</summary>
    ChainedAppend = 1,
    /// <summary>Every change record rewritten to match: the file as an attacker who rewrites it can make it.</summary>
    Resealed = 2,
}

/// <summary>
/// A mutation's result. <see cref="CutTo"/>: the file was cut, and only its first that many
/// changes remain whole (a cut copy legitimately opens as its last whole change).
/// </summary>
internal readonly record struct Applied(byte[] File, string Description, Effect Effect = Effect.None, int? CutTo = null);

/// <summary>
/// One structured change to a keynode's bytes. Generated values are choices (random numbers),
/// resolved against the file only when applied, so one generated case applies to any corpus.
/// </summary>
internal abstract record Mutation
{
    public virtual string Kind => GetType().Name;

    public abstract Applied Apply(byte[] file, CorpusKeynode node, FuzzPeople people);

    protected static long At(ulong pick, long length) => length <= 0 ? 0 : (long)(pick % (ulong)length);

    protected static byte[] Splice(byte[] file, long at, long remove, ReadOnlySpan<byte> insert) =>
        [.. file.AsSpan(0, (int)at), .. insert, .. file.AsSpan((int)(at + remove))];
}

internal sealed record FlipBits(ulong[] Offsets, byte[] Masks, bool Overwrite) : Mutation
{
    public override Applied Apply(byte[] file, CorpusKeynode node, FuzzPeople people)
    {
        byte[] result = (byte[])file.Clone();
        var at = new List<long>();
        for (int i = 0; i < Offsets.Length && result.Length > 0; i++)
        {
            long pos = At(Offsets[i], result.Length);
            byte mask = Masks[i % Masks.Length];
            result[pos] = Overwrite ? mask : (byte)(result[pos] ^ (mask == 0 ? 1 : mask));
            at.Add(pos);
        }
        return new(result, $"{(Overwrite ? "overwrite" : "flip bits of")} byte(s) at {string.Join(", ", at)}");
    }
}

internal sealed record ZeroBlock(ulong Pick, bool AtChangeStart) : Mutation
{
    public override Applied Apply(byte[] file, CorpusKeynode node, FuzzPeople people)
    {
        RawLayout layout = TarLayout.Parse(file);
        long blocks = file.Length / TarLayout.Block;
        if (blocks == 0) return new(file, "zero a block: none to zero");
        byte[] result = (byte[])file.Clone();
        if (AtChangeStart && layout.Changes.Count > 0)
        {
            int change = (int)At(Pick, layout.Changes.Count);
            result.AsSpan((int)layout.Changes[change].Start, TarLayout.Block).Clear();
            return new(result, $"zero the first block of change {change + 1} (byte {layout.Changes[change].Start})");
        }
        long start = At(Pick, blocks) * TarLayout.Block;
        result.AsSpan((int)start, TarLayout.Block).Clear();
        return new(result, $"zero the block at byte {start}");
    }
}

internal sealed record ZeroRange(ulong Pick, int Length) : Mutation
{
    public override Applied Apply(byte[] file, CorpusKeynode node, FuzzPeople people)
    {
        byte[] result = (byte[])file.Clone();
        long start = At(Pick, file.Length);
        int length = (int)Math.Min(Length, file.Length - start);
        result.AsSpan((int)start, length).Clear();
        return new(result, $"zero {length} bytes at byte {start}");
    }
}

internal sealed record Truncate(ulong Pick, bool AtChangeEnd) : Mutation
{
    public override Applied Apply(byte[] file, CorpusKeynode node, FuzzPeople people)
    {
        RawLayout layout = TarLayout.Parse(file);
        long cut = AtChangeEnd && layout.Changes.Count > 0
            ? layout.Changes[(int)At(Pick, layout.Changes.Count)].End
            : At(Pick, file.Length + 1);
        byte[] result = file[..(int)cut];
        return new(result, $"truncate at byte {cut} of {file.Length}", CutTo: TarLayout.Parse(result).IntactChanges);
    }
}

internal enum Fill { Random, Zeros, CopiedBlocks }

internal sealed record Insert(ulong Pick, int Length, bool Aligned, Fill Fill, ulong Source) : Mutation
{
    public override Applied Apply(byte[] file, CorpusKeynode node, FuzzPeople people)
    {
        long at = At(Pick, file.Length + 1);
        if (Aligned) at -= at % TarLayout.Block;
        byte[] bytes = new byte[Length];
        if (Fill == Fill.Random) new Random(unchecked((int)Source)).NextBytes(bytes);
        if (Fill == Fill.CopiedBlocks && file.Length > 0)
        {
            long from = At(Source, file.Length) / TarLayout.Block * TarLayout.Block;
            file.AsSpan((int)from, (int)Math.Min(Length, file.Length - from)).CopyTo(bytes);
        }
        return new(Splice(file, at, 0, bytes), $"insert {Length} {Fill.ToString().ToLowerInvariant()} bytes at byte {at}");
    }
}

internal sealed record DeleteRange(ulong Pick, int Length, bool Aligned) : Mutation
{
    public override Applied Apply(byte[] file, CorpusKeynode node, FuzzPeople people)
    {
        long at = At(Pick, file.Length);
        if (Aligned) at -= at % TarLayout.Block;
        long length = Math.Min(Length, file.Length - at);
        byte[] result = Splice(file, at, length, []);
        // Deleting through the end of the file cuts it.
        int? cutTo = at + length == file.Length ? TarLayout.Parse(result).IntactChanges : null;
        return new(result, $"delete {length} bytes at byte {at}", CutTo: cutTo);
    }
}

internal enum HeaderEdit { HugeSize, NearSize, Type, Name }

/// <summary>Rewrites one field of a member's header and fixes its checksum, so the header still parses.</summary>
internal sealed record RewriteHeader(ulong Pick, HeaderEdit Edit, ulong Value) : Mutation
{
    private static readonly long[] HugeSizes = [(1L << 33) - 1, 1L << 36, 1L << 31, long.MaxValue / 2];
    private static readonly char[] Types = ['1', '2', '3', '4', '5', '6', '7', 'x', 'g', 'L', 'K', 'V', '\0'];

    public override Applied Apply(byte[] file, CorpusKeynode node, FuzzPeople people)
    {
        var headers = TarLayout.Parse(file).AllHeaders.ToList();
        if (headers.Count == 0) return new(file, "rewrite a header: none found");
        RawMember member = headers[(int)At(Pick, headers.Count)];
        byte[] result = (byte[])file.Clone();
        Span<byte> header = result.AsSpan((int)member.Header, TarLayout.Block);
        string change;
        switch (Edit)
        {
            case HeaderEdit.HugeSize:
                long huge = HugeSizes[Value % (ulong)HugeSizes.Length];
                TarLayout.Edit(header, size: huge);
                change = $"size {huge}";
                break;
            case HeaderEdit.NearSize:
                long size = Math.Max(0, member.Size + (long)(Value % 1201) - 600);
                TarLayout.Edit(header, size: size);
                change = $"size {size} (was {member.Size})";
                break;
            case HeaderEdit.Type:
                char type = Types[Value % (ulong)Types.Length];
                TarLayout.Edit(header, type: type);
                change = $"type '{(type == '\0' ? "\\0" : type)}'";
                break;
            default:
                string name = MemberNames.Pick(headers, node, Value);
                TarLayout.Edit(header, name: name);
                change = $"name \"{name}\"";
                break;
        }
        return new(result, $"rewrite the header of {member.Name} at byte {member.Header}: {change}");
    }
}

/// <summary>Names a renamed member may take: another member's, a live history's ref, the special members.</summary>
internal static class MemberNames
{
    public static string Pick(IReadOnlyList<RawMember> members, CorpusKeynode node, ulong value) => (value % 6) switch
    {
        0 => members[(int)(value / 6 % (ulong)members.Count)].Name,
        1 => "refs/secrets/" + node.Live[(int)(value / 6 % (ulong)node.Live.Count)].Id,
        2 => TarLayout.RecordName,
        3 => "polykey/keynode",
        4 => "polykey/owner.pub",
        _ => "",
    };
}

internal sealed record DuplicateChange(ulong Pick, int Where) : Mutation
{
    public override Applied Apply(byte[] file, CorpusKeynode node, FuzzPeople people)
    {
        RawLayout layout = TarLayout.Parse(file);
        if (layout.Changes.Count == 0) return new(file, "duplicate a change: none found");
        int index = (int)At(Pick, layout.Changes.Count);
        RawChange change = layout.Changes[index];
        (long at, string where) = Where switch
        {
            0 => (change.End, "right after it"),
            1 => (layout.ChangesEnd, "after the last change"),
            _ => (0L, "at the start of the file"),
        };
        return new(Splice(file, at, 0, file.AsSpan((int)change.Start, (int)(change.End - change.Start))), $"duplicate change {index + 1} {where}");
    }
}

internal sealed record SwapChanges(ulong First, ulong Second) : Mutation
{
    public override Applied Apply(byte[] file, CorpusKeynode node, FuzzPeople people)
    {
        RawLayout layout = TarLayout.Parse(file);
        int count = layout.Changes.Count;
        if (count < 2) return new(file, "swap two changes: fewer than two found");
        int i = (int)At(First, count), j = (int)At(Second, count);
        if (i == j) j = (i + 1) % count;
        (i, j) = (Math.Min(i, j), Math.Max(i, j));
        RawChange a = layout.Changes[i], b = layout.Changes[j];
        byte[] swapped = [.. file.AsSpan(0, (int)a.Start), .. file.AsSpan((int)b.Start, (int)(b.End - b.Start)),
            .. file.AsSpan((int)a.End, (int)(b.Start - a.End)), .. file.AsSpan((int)a.Start, (int)(a.End - a.Start)), .. file.AsSpan((int)b.End)];
        return new(swapped, $"swap changes {i + 1} and {j + 1}");
    }
}

internal enum ReframeEditKind { FlipData, Rename, Drop, Duplicate }

internal sealed record ReframeEdit(ReframeEditKind Kind, ulong Member, ulong Value);

/// <summary>Edits members inside changes, then rewrites every record so the checksums and chain match again.</summary>
internal sealed record Reframe(ReframeEdit[] Edits) : Mutation
{
    public override Applied Apply(byte[] file, CorpusKeynode node, FuzzPeople people)
    {
        var done = new List<string>();
        foreach (ReframeEdit edit in Edits)
        {
            var members = TarLayout.Parse(file).Members.ToList();
            if (members.Count == 0) break;
            RawMember m = members[(int)At(edit.Member, members.Count)];
            switch (edit.Kind)
            {
                case ReframeEditKind.FlipData when m.Size > 0:
                    file = (byte[])file.Clone();
                    file[m.Data + At(edit.Value, m.Size)] ^= (byte)(1 << (int)(edit.Value % 8));
                    done.Add($"flip a bit in {m.Name}");
                    break;
                case ReframeEditKind.Rename:
                    file = (byte[])file.Clone();
                    string name = MemberNames.Pick(members, node, edit.Value);
                    TarLayout.Edit(file.AsSpan((int)m.Header, TarLayout.Block), name: name);
                    done.Add($"rename {m.Name} to \"{name}\"");
                    break;
                case ReframeEditKind.Drop:
                    file = Splice(file, m.Header, m.End - m.Header, []);
                    done.Add($"drop {m.Name}");
                    break;
                case ReframeEditKind.Duplicate:
                    file = Splice(file, m.End, 0, file.AsSpan((int)m.Header, (int)(m.End - m.Header)));
                    done.Add($"duplicate {m.Name}");
                    break;
            }
        }
        return new(TarLayout.Reseal(file), $"reframe: {string.Join(", ", done)}, then reseal every record", Effect.Resealed);
    }
}

internal sealed record AppendHostile(HostileKind Hostile, ulong Pick, int Variant) : Mutation
{
    public override string Kind => Hostile.ToString();

    public override Applied Apply(byte[] file, CorpusKeynode node, FuzzPeople people)
    {
        (List<HostileMember> members, string description) = HostileChanges.Build(Hostile, Pick, Variant, file, node, people);
        (byte[] result, bool chained) = ForgedObjects.Append(file, members);
        return new(result, $"append a change: {description}", chained ? Effect.ChainedAppend : Effect.None);
    }
}

/// <summary>
/// One case: a corpus keynode, one to three mutations applied in order, and whether the reader
/// opens it with caches (scan point, verified commits, pins) warmed on the unmutated file.
/// </summary>
internal sealed record FuzzCase(int Corpus, Mutation[] Mutations, bool Warm);

/// <summary>The CsCheck generators: one per mutation kind, and cases combining them.</summary>
internal static class Mutations
{
    private static readonly Gen<Mutation> Reframes =
        Gen.Select(Gen.Enum<ReframeEditKind>(), Gen.ULong, Gen.ULong, (kind, member, value) => new ReframeEdit(kind, member, value))
            .Array[1, 2].Select(edits => (Mutation)new Reframe(edits));

    private static readonly Gen<Mutation> Inserts =
        from aligned in Gen.Bool
        from length in aligned ? Gen.Int[1, 4].Select(k => k * TarLayout.Block) : Gen.Int[1, 1500]
        from insert in Gen.Select(Gen.ULong, Gen.Enum<Fill>(), Gen.ULong, (pick, fill, source) => (Mutation)new Insert(pick, length, aligned, fill, source))
        select insert;

    /// <summary>Each kind by name, with how often a mixed case draws it (byte damage most, bombs rarely: they are slow).</summary>
    public static readonly IReadOnlyList<(string Kind, int Weight, Gen<Mutation> Gen)> Kinds =
    [
        ("FlipBits", 4, Gen.Select(Gen.ULong.Array[1, 8], Gen.Byte.Array[8], Gen.Bool, (o, m, w) => (Mutation)new FlipBits(o, m, w))),
        ("ZeroBlock", 4, Gen.Select(Gen.ULong, Gen.Bool, (p, s) => (Mutation)new ZeroBlock(p, s))),
        ("ZeroRange", 2, Gen.Select(Gen.ULong, Gen.Int[1, 2048], (p, n) => (Mutation)new ZeroRange(p, n))),
        ("Truncate", 3, Gen.Select(Gen.ULong, Gen.Bool, (p, c) => (Mutation)new Truncate(p, c))),
        ("Insert", 3, Inserts),
        ("DeleteRange", 2, Gen.Select(Gen.ULong, Gen.Int[1, 2048], Gen.Bool, (p, n, a) => (Mutation)new DeleteRange(p, n, a))),
        ("RewriteHeader", 3, Gen.Select(Gen.ULong, Gen.Enum<HeaderEdit>(), Gen.ULong, (p, e, v) => (Mutation)new RewriteHeader(p, e, v))),
        ("DuplicateChange", 2, Gen.Select(Gen.ULong, Gen.Int[0, 2], (p, w) => (Mutation)new DuplicateChange(p, w))),
        ("SwapChanges", 2, Gen.Select(Gen.ULong, Gen.ULong, (a, b) => (Mutation)new SwapChanges(a, b))),
        ("Reframe", 3, Reframes),
        .. Enum.GetValues<HostileKind>().Select(kind => (kind.ToString(), kind == HostileKind.ZlibBomb ? 1 : 2,
            Gen.Select(Gen.ULong, Gen.Int[0, 999], (pick, variant) => (Mutation)new AppendHostile(kind, pick, variant)))),
    ];

    public static readonly Gen<Mutation> Any = Gen.Frequency(Kinds.Select(k => (k.Weight, (IGen<Mutation>)k.Gen)).ToArray());

    /// <summary>Corpus keynodes by weight: small, full (most kinds of change), sealed (passphrase; slower to open).</summary>
    private static readonly Gen<int> Corpus = Gen.Frequency((3, Gen.Const(0)), (5, Gen.Const(1)), (2, Gen.Const(2)));

    /// <summary>A quarter of the cases open with warm caches.</summary>
    private static readonly Gen<bool> Warm = Gen.Frequency((3, Gen.Const(false)), (1, Gen.Const(true)));

    /// <summary>A case of one mutation of <paramref name="kind"/> alone, or ("any") one to three mutations of any kinds.</summary>
    public static Gen<FuzzCase> Case(string kind) => kind == "any"
        ? Gen.Select(Corpus, Any.Array[1, 3], Warm, (corpus, mutations, warm) => new FuzzCase(corpus, mutations, warm))
        : Gen.Select(Corpus, Kinds.Single(k => k.Kind == kind).Gen, Warm, (corpus, mutation, warm) => new FuzzCase(corpus, [mutation], warm));
}
