using Polykey.Core.Git;

namespace Polykey.Core.Sync;

/// <summary>A history's tip the receiver lacks, and the tip of it the receiver holds (null: none).</summary>
public sealed record HistoryWant(ObjectId Tip, ObjectId? Have);

/// <summary>
/// A source across a network: told up front which histories a pull will read, it fetches
/// their objects in one exchange instead of one round trip per <see cref="IHistorySource.ReadStored"/>.
/// </summary>
public interface IPrefetchingHistorySource : IHistorySource
{
    /// <param name="progress">Told, as the objects arrive, how many of the wanted histories have begun to.</param>
    void Prefetch(IReadOnlyList<HistoryWant> wants, IProgress<TransferProgress>? progress = null);
}
