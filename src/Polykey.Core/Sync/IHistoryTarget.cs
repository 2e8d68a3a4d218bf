using Polykey.Core.Git;

namespace Polykey.Core.Sync;

/// <summary>A history's tip to set, and the tip the sender saw there (null: the history was absent).</summary>
public sealed record RefUpdate(string HistoryId, ObjectId Tip, ObjectId? Expected);

/// <summary>What a push lands on another keynode as one change: objects as stored (compressed), then refs.</summary>
public sealed record OutgoingChange(IReadOnlyList<(ObjectId Id, byte[] Stored)> Objects, IReadOnlyList<RefUpdate> Refs);

/// <summary>
/// Another keynode a push can write to. It is also a source (its tips and objects tell the
/// sender what it holds). <see cref="Write"/> lands a change only if every ref still stands
/// where the sender saw it; otherwise nothing is written and the push can be tried again.
/// </summary>
public interface IHistoryTarget : IHistorySource, IDisposable
{
    void Write(OutgoingChange change);
}
