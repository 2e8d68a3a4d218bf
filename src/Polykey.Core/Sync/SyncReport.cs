namespace Polykey.Core.Sync;

/// <summary>A history that moved: its path (or what it is, for rules) and id.</summary>
public sealed record SyncedHistory(string Path, string Id);

/// <summary>A history the receiver would not take: which one, and why (one line, no secret content).</summary>
public sealed record SyncRefusal(string? Path, string Id, string Reason);

/// <summary>A history changed on both sides since they last agreed: both tips are kept until settled.</summary>
public sealed record SyncConflict(string Path, string Id, string Ours, string Theirs);

/// <summary>What one push or pull did.</summary>
public sealed class SyncReport
{
    /// <summary>Histories that moved (new ones, and fast-forwards).</summary>
    public List<SyncedHistory> Moved { get; } = new();
    public List<SyncRefusal> Refused { get; } = new();
    public List<SyncConflict> Conflicts { get; } = new();

    /// <summary>Histories left alone on purpose (another keynode's this one does not take, paths outside a remote's patterns).</summary>
    public List<SyncRefusal> Skipped { get; } = new();

    /// <summary>Histories both sides already held at the same version.</summary>
    public int UpToDate { get; set; }

    /// <summary>Histories where the side sending held an older version: nothing to do (never a rollback).</summary>
    public int Older { get; set; }
}
