using Polykey.Core.Crypto;
using Polykey.Core.Git;

namespace Polykey.Core;

/// <summary>
/// Decides whether a secret history may move from the tip a reader accepted to a new tip:
/// only forward (the new tip descends from the old one, so no older version is replayed and
/// no history rewritten), and only through commits signed by a key allowed to write.
/// Every reader applies it, whoever wrote the bytes into the file.
/// </summary>
internal sealed class HistoryValidator(Func<ObjectId, (Commit Commit, string? Signature, byte[] Payload)> readCommit, Identity owner)
{
    private readonly HashSet<ObjectId> _verified = new();

    /// <summary>Null when the move is allowed, else why not (one line, no secret content).</summary>
    public string? Check(ObjectId? accepted, ObjectId candidate)
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
                if (!CommitSignature.Verify(payload, signature, owner))
                    return $"commit {id} is not signed by a key allowed to write (signer {Short(commit.SignerFingerprint)})";
            }
            walked.Add(id);
            at = commit.Parent;
            if (at is null && accepted is not null)
                return $"commit {candidate} does not descend from the accepted version {accepted} (an older version replayed, or history rewritten)";
        }
        foreach (ObjectId id in walked) _verified.Add(id);
        return null;
    }

    private static string Short(string fingerprint) => fingerprint.Length > 16 ? fingerprint[^16..] : fingerprint;
}
