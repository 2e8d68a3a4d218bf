using Polykey.Core.Crypto;
using Polykey.Core.Git;

namespace Polykey.Core;

/// <summary>
/// Decides whether a history may move from the tip a reader accepted to a new tip: only
/// forward (the new tip descends from the old one, so no older version is replayed and no
/// history rewritten), and only through commits signed by a key allowed to write them.
/// Every reader applies it, whoever wrote the bytes into the file.
/// </summary>
internal sealed class HistoryValidator(Func<ObjectId, (Commit Commit, string? Signature, byte[] Payload)> readCommit)
{
    private readonly HashSet<ObjectId> _verified = new();
    private readonly List<ObjectId> _newlyVerifiedForGood = new();

    /// <summary>Commits verified since the last call whose verdict lasts: signed by their origin's owner (for the verified-commit cache).</summary>
    public IReadOnlyCollection<ObjectId> TakeNewlyVerifiedForGood()
    {
        var taken = _newlyVerifiedForGood.ToList();
        _newlyVerifiedForGood.Clear();
        return taken;
    }

    /// <summary>
    /// Null when the move is allowed, else why not (one line, no secret content).
    /// <paramref name="writerOf"/> names the key allowed to sign a commit, or null when none is, and
    /// whether that verdict lasts (it may be remembered across runs);
    /// <paramref name="meaningProblem"/> says why a commit does not belong where the ref puts it
    /// (its signed history id and version number), or null when it does; it is told whether the
    /// commit was verified before.
    /// </summary>
    public string? Check(ObjectId? accepted, ObjectId candidate, Func<ObjectId, Commit, (Identity Key, bool Lasting)?> writerOf, Func<ObjectId, Commit, bool, string?> meaningProblem)
    {
        if (accepted == candidate) return null;
        // Versions count up along every parent, so no commit numbered at or below the accepted
        // tip's number can lead to it (format 1 has no numbers: no shortcut then).
        long floor = accepted is { } a ? SequenceOf(readCommit(a).Commit) ?? -1 : -1;
        var walked = new List<ObjectId>();
        var forGood = new List<ObjectId>();
        var seen = new HashSet<ObjectId>();
        var pending = new Stack<ObjectId>();
        pending.Push(candidate);
        bool reached = accepted is null;
        while (pending.TryPop(out ObjectId id))
        {
            if (!seen.Add(id)) continue;
            if (id == accepted)
            {
                reached = true;
                continue;
            }
            (Commit commit, string? signature, byte[] payload) = readCommit(id);
            bool verified = _verified.Contains(id);
            if (meaningProblem(id, commit, verified) is { } problem) return problem;
            bool belowAccepted = accepted is not null && SequenceOf(commit) is { } number && number <= floor;
            // Verified earlier, with its ancestors: only a walk back to the accepted tip is left.
            if (verified && (accepted is null || belowAccepted)) continue;
            if (!verified)
            {
                if (signature is null) return $"commit {id} is not signed";
                var writer = writerOf(id, commit);
                if (writer is null || !CommitSignature.Verify(payload, signature, writer.Value.Key))
                    return $"commit {id} is not signed by a key allowed to write it (signer {Short(commit.SignerFingerprint)})";
                if (writer.Value.Lasting) forGood.Add(id);
            }
            walked.Add(id);
            foreach (ObjectId parent in commit.Parents) pending.Push(parent);
        }
        if (!reached)
            return $"commit {candidate} does not descend from the accepted version {accepted} (an older version replayed, or history rewritten)";
        // Only a whole walk counts: a commit is remembered with the ancestors that make it acceptable.
        foreach (ObjectId id in walked) _verified.Add(id);
        _newlyVerifiedForGood.AddRange(forGood);
        return null;
    }

    private static long? SequenceOf(Commit commit) => HistoryBinding.TryParse(commit.Message)?.Sequence;

    /// <summary>Commits known good (cached, or signed by this process): accepted without checking the signature again.</summary>
    public void Trust(IEnumerable<ObjectId> commits) => _verified.UnionWith(commits);

    /// <summary>Commits this process signed with the owner's key: trusted, and worth remembering.</summary>
    public void TrustSignedByOwner(IReadOnlyCollection<ObjectId> commits)
    {
        _verified.UnionWith(commits);
        _newlyVerifiedForGood.AddRange(commits);
    }

    private static string Short(string fingerprint) => fingerprint.Length > 16 ? fingerprint[^16..] : fingerprint;
}
