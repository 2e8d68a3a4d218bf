using System.Text;
using Polykey.Core.Git;

namespace Polykey.Core;

/// <summary>
/// Freshness: a relay or a stale copy can withhold new versions while all it shows is validly
/// signed. So the owner signs an "as of" statement with every push (a version of a history of
/// its own, whose signed commit time is the statement), it travels with every pull, and a
/// receiver can tell how old the newest word from a keynode is.
/// </summary>
public sealed partial class Keynode
{
    private const string AsOfName = "polykey:as-of";

    /// <summary>The id of the history holding <paramref name="origin"/>'s as-of statements.</summary>
    internal static string AsOfHistoryId(string origin) =>
        Convert.ToHexStringLower(Digests.Sha256(Encoding.ASCII.GetBytes($"polykey as-of\n{origin}\n")).AsSpan(0, 16));

    /// <summary>When the keynode <paramref name="origin"/> last said, signed, that it stood as this keynode now holds it; null when it never did.</summary>
    public DateTimeOffset? AsOf(string origin)
    {
        lock (_gate)
            return _accepted.TryGetValue(AsOfHistoryId(origin), out ObjectId tip) ? ReadCommit(tip).Time : null;
    }

    // Before a push: a new statement, when this process holds the owner's signing key.
    private void StampAsOf()
    {
        if (_identity is { CanSign: true } signer && signer.Public.Fingerprint == Owner.Fingerprint)
            Commit([new SecretEdit.StampAsOf()]);
    }
}
