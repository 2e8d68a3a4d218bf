namespace Polykey.Core;

/// <summary>
/// A secret as listed: its current name, size and time, and Tip, the commit of its current
/// version (it changes whenever the value or name does). Versions is 0 unless asked for.
/// </summary>
public sealed record SecretInfo(string Path, string Id, long Size, DateTimeOffset Modified, int Versions, string Tip);

/// <summary>One version in a secret's history.</summary>
public sealed record VersionInfo(int Number, string CommitId, DateTimeOffset Time, string Signer, string Path, long Size, bool Removed)
{
    /// <summary>False for a version of another keynode's secret written before this owner could read it.</summary>
    public bool Readable { get; init; } = true;

    /// <summary>True for a version whose value `pk gc` pruned (its commit, time and signer stay).</summary>
    public bool Pruned { get; init; }
}
