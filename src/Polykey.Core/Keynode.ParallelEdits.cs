using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core;

/// <summary>One version as decided from the keynode's state: all that encrypting and signing it still needs.</summary>
internal sealed record VersionPlan(string Id, string Origin, ObjectId? Parent, long Sequence, string Path, VersionKind Kind,
    IReadOnlyList<Identity> Readers, ObjectId? Merged)
{
    public (ObjectId Tip, List<PendingMember> Members) Build(ReadOnlySpan<byte> value, SecretIdentity signer, DateTimeOffset now) =>
        VersionBuilder.Build(Id, Origin, Parent, Sequence, Path, value, Kind, now, signer, Readers, Merged);
}

/// <summary>
/// A large batch (pk import) on every core: encrypting to each reader and signing are most of a
/// version's cost and touch nothing of the keynode, so the versions are planned one after the
/// other against the keynode's state (names, tips, readers, write rules), then built in
/// parallel, then taken in the batch's order, which stays the order of the change.
/// </summary>
public sealed partial class Keynode
{
    // Below this, a batch is built on one core: starting the others costs more than they save.
    private const int ParallelBatch = 64;

    private List<PendingMember> MembersInParallel(IReadOnlyList<SecretEdit> edits, SecretIdentity signer, DateTimeOffset now, IProgress<Sync.TransferProgress>? progress)
    {
        var plans = new VersionPlan?[edits.Count];
        var built = new List<PendingMember>?[edits.Count];
        for (int i = 0; i < edits.Count; i++)
        {
            // Only new values go wide; every other edit reads versions or the index as it is built, in order.
            if (edits[i] is SecretEdit.Set set) plans[i] = PlanSet(set, signer);
            else built[i] = Members(edits[i], signer, now);
        }
        var tips = new ObjectId[edits.Count];
        int done = 0;
        var gate = new object();
        Parallel.For(0, edits.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            if (plans[i] is not { } plan) return;
            (tips[i], built[i]) = plan.Build(((SecretEdit.Set)edits[i]).Value, signer, now);
            // Encrypting and signing is the slow part of a large batch: say how far it got.
            if (Interlocked.Increment(ref done) % 256 == 0 && progress is not null)
                lock (gate) progress.Report(new Sync.TransferProgress("encrypting", done, edits.Count));
        });
        var members = new List<PendingMember>();
        for (int i = 0; i < edits.Count; i++)
        {
            if (plans[i] is { } plan) NoteOwnVersion(plan, tips[i], ((SecretEdit.Set)edits[i]).Value.Length);
            members.AddRange(built[i]!);
        }
        return members;
    }
}
