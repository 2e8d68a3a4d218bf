using Polykey.Core.Crypto;
using Polykey.Core.Git;

namespace Polykey.Core;

/// <summary>
/// Decides whether a history may move from the tip a reader accepted to a new tip: only
/// forward (the new tip descends from the old one, so no older version is replayed and no
/// history rewritten), and only through commits signed by a key allowed to write them.
/// Every reader applies it, whoever wrote the bytes into the file.
/// </summary>
internal sealed class HistoryValidator(Func<ObjectId, (Commit Commit, string? Signature, byte[] Payload)> readCommit, string ownerFingerprint)
{
    private readonly HashSet<ObjectId> _verified = new();
    private readonly List<ObjectId> _newlyVerifiedByOwner = new();

    /// <summary>Owner-signed commits verified since the last call (for the verified-commit cache).</summary>
    public IReadOnlyCollection<ObjectId> TakeNewlyVerifiedByOwner()
    {
        var taken = _newlyVerifiedByOwner.ToList();
        _newlyVerifiedByOwner.Clear();
        return taken;
    }

    /// <summary>
    /// Null when the move is allowed, else why not (one line, no secret content).
    /// <paramref name="writerOf"/> names the key allowed to sign a commit, or null when none is.
    /// </summary>
    public string? Check(ObjectId? accepted, ObjectId candidate, Func<ObjectId, Commit, Identity?> writerOf)
    {
        if (accepted == candidate) return null;
        var walked = new List<ObjectId>();
        for (ObjectId? at = candidate; at is { } id; )
        {
            if (id == accepted || _verified.Contains(id) && accepted is null) break;
            (Commit commit, string? signature, byte[] payload) = readCommit(id);
            if (!_verified.Contains(id))
            {
                if (signature is null) return $"commit {id} is not signed";
                Identity? writer = writerOf(id, commit);
                if (writer is null || !CommitSignature.Verify(payload, signature, writer))
                    return $"commit {id} is not signed by a key allowed to write it (signer {Short(commit.SignerFingerprint)})";
                if (writer.Fingerprint == ownerFingerprint) _newlyVerifiedByOwner.Add(id);
            }
            walked.Add(id);
            at = commit.Parent;
            if (at is null && accepted is not null)
                return $"commit {candidate} does not descend from the accepted version {accepted} (an older version replayed, or history rewritten)";
        }
        foreach (ObjectId id in walked) _verified.Add(id);
        return null;
    }

    /// <summary>Commits known good (cached, or signed by this process): accepted without checking the signature again.</summary>
    public void Trust(IEnumerable<ObjectId> commits) => _verified.UnionWith(commits);

    /// <summary>Commits this process signed with the owner's key: trusted, and worth remembering.</summary>
    public void TrustSignedByOwner(IReadOnlyCollection<ObjectId> commits)
    {
        _verified.UnionWith(commits);
        _newlyVerifiedByOwner.AddRange(commits);
    }

    private static string Short(string fingerprint) => fingerprint.Length > 16 ? fingerprint[^16..] : fingerprint;
}
