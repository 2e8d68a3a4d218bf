namespace Polykey.Core;

/// <summary>What <see cref="Keynode.Verify"/> checked and what it found wrong (each problem one line, no secret content).</summary>
public sealed record VerifyReport(string Keynode, long Changes, int Objects, int Histories, int Versions, IReadOnlyList<string> Problems)
{
    public bool Ok => Problems.Count == 0;

    /// <summary>Versions whose values `pk gc` pruned, on the owner's signed word (not problems).</summary>
    public int Pruned { get; init; }

    /// <summary>Whether the file holds a name index a reader without caches takes, and it showed what the whole file shows.</summary>
    public bool NameIndexChecked { get; init; }
}
