using Polykey.Core.Access;

namespace Polykey.Core;

/// <summary>
/// Which old versions `pk gc` keeps the values of. A version is kept when any rule keeps it:
/// the newest <see cref="KeepVersions"/> of its history, or every version newer than
/// <see cref="KeepSince"/>. What is pruned is always everything
/// older than the oldest kept version, so a history's pruned versions are one unbroken stretch
/// from its start. The newest version is always kept. With patterns, only secrets whose current
/// path matches one of them are pruned (the grant syntax: * ** ?).
/// </summary>
public sealed record Retention
{
    public Retention(int? keepVersions, TimeSpan? keepSince, IReadOnlyList<string>? patterns = null)
    {
        if (keepVersions is null && keepSince is null)
            throw PolykeyException.Usage("a retention needs --keep-versions N or --keep-since DURATION");
        if (keepVersions is < 1)
            throw PolykeyException.Usage($"--keep-versions {keepVersions} keeps nothing; the newest version is always kept", "say --keep-versions 1 or more");
        if (keepSince is { } since && since <= TimeSpan.Zero)
            throw PolykeyException.Usage("--keep-since must be a positive duration", "say 30d, 12h or 90m");
        KeepVersions = keepVersions;
        KeepSince = keepSince;
        Patterns = (patterns ?? []).Select(p => new PathPattern(p)).ToList();
    }

    public int? KeepVersions { get; }
    public TimeSpan? KeepSince { get; }
    public IReadOnlyList<PathPattern> Patterns { get; }

    public bool Covers(string path) => Patterns.Count == 0 || Patterns.Any(p => p.Matches(path));

    /// <summary>How many of a history's versions (newest first, with their times) keep their values.</summary>
    public int Kept(IReadOnlyList<DateTimeOffset> newestFirst, DateTimeOffset now)
    {
        int kept = 1;
        if (KeepVersions is { } n) kept = Math.Max(kept, n);
        if (KeepSince is { } since)
        {
            DateTimeOffset cutoff = now - since;
            int recent = 0;
            while (recent < newestFirst.Count && newestFirst[recent] >= cutoff) recent++;
            kept = Math.Max(kept, recent);
        }
        return Math.Min(kept, newestFirst.Count);
    }
}
