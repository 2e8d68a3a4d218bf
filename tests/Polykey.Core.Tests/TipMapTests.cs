using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core.Tests;

/// <summary>TipMap.Unlike, the bulk comparison a pull makes, against the tip-by-tip one it replaces.</summary>
public sealed class TipMapTests
{
    private static string HistoryId(Random random) => Convert.ToHexStringLower(RandomBytes(random, 16));

    private static ObjectId Commit(Random random) => ObjectId.FromBytes(RandomBytes(random, 20));

    private static byte[] RandomBytes(Random random, int length)
    {
        byte[] bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static TipRun Run(IEnumerable<KeyValuePair<string, ObjectId>> tips)
    {
        using var buffer = new MemoryStream();
        TipRun.Write(tips, buffer);
        return TipRun.Over(buffer.ToArray())!;
    }

    private static List<KeyValuePair<string, ObjectId>> Naive(TipMap theirs, TipMap held) =>
        theirs.Where(t => !(held.TryGetValue(t.Key, out ObjectId h) && h == t.Value)).OrderBy(t => t.Key, StringComparer.Ordinal).ToList();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Unlike_GivesWhatTipByTipComparisonGives_WithMovesAndDropsOnBothSides(int seed)
    {
        var random = new Random(seed);
        var shared = Enumerable.Range(0, 2000).Select(_ => new KeyValuePair<string, ObjectId>(HistoryId(random), Commit(random))).ToList();
        // Their snapshot: most of the shared tips, some moved, some of their own; ours likewise.
        var theirRecorded = shared.Where(_ => random.Next(10) > 0).Select(t => random.Next(20) == 0 ? new(t.Key, Commit(random)) : t)
            .Concat(Enumerable.Range(0, 50).Select(_ => new KeyValuePair<string, ObjectId>(HistoryId(random), Commit(random)))).ToList();
        var ourRecorded = shared.Where(_ => random.Next(10) > 0).Select(t => random.Next(20) == 0 ? new(t.Key, Commit(random)) : t)
            .Concat(Enumerable.Range(0, 50).Select(_ => new KeyValuePair<string, ObjectId>(HistoryId(random), Commit(random)))).ToList();
        var theirs = new TipMap(Run(theirRecorded));
        var held = new TipMap(Run(ourRecorded));
        Assert.Equal(Naive(theirs, held), theirs.Unlike(held));

        // Moves since each snapshot: to a tip the other side holds, to a new one, new histories, drops.
        foreach (var (id, tip) in theirRecorded.Where(_ => random.Next(15) == 0).ToList())
        {
            if (held.TryGetValue(id, out ObjectId ours) && random.Next(2) == 0) theirs[id] = ours;
            else if (random.Next(3) == 0) theirs.Remove(id);
            else theirs[id] = Commit(random);
        }
        foreach (var (id, tip) in ourRecorded.Where(_ => random.Next(15) == 0).ToList())
        {
            if (theirs.TryGetValue(id, out ObjectId other) && random.Next(2) == 0) held[id] = other;
            else if (random.Next(3) == 0) held.Remove(id);
            else held[id] = Commit(random);
        }
        for (int i = 0; i < 20; i++)
        {
            string id = HistoryId(random);
            ObjectId tip = Commit(random);
            theirs[id] = tip;
            if (i % 2 == 0) held[id] = tip;
        }
        List<KeyValuePair<string, ObjectId>> expected = Naive(theirs, held);
        Assert.NotEmpty(expected);
        Assert.Equal(expected, theirs.Unlike(held));
        Assert.Empty(theirs.Unlike(theirs));
    }
}
