using System.Text;
using Polykey.Core.Access;
using Polykey.Core.Crypto;
using Polykey.Core.Git;

namespace Polykey.Core;

/// <summary>
/// Origins: every history belongs to the keynode that made it (named in each signed commit),
/// and that keynode's owner-signed rules decide who may write it wherever it travels. This
/// keynode's own histories follow its access list; another keynode's follow what that keynode
/// told this one of its rules (a rules view, signed by its owner, encrypted to this owner), and
/// are taken only from keynodes the access list trusts (a remote added with its owner pinned).
/// </summary>
public sealed partial class Keynode
{
    private readonly Dictionary<ObjectId, AccessList> _rulesByTip = new();

    /// <summary>The id of the history in which <paramref name="origin"/> tells <paramref name="reader"/> its rules.</summary>
    internal static string RulesHistoryId(string origin, string reader) =>
        DerivedHistoryId("rules", origin, reader);

    /// <summary>The keynode a commit says its history belongs to (this one, for a format-2 file being upgraded).</summary>
    private string? OriginOf(Commit commit) =>
        Legacy ? Id : HistoryBinding.TryParse(commit.Message)?.Origin;

    private string OriginOfHistory(string historyId) =>
        _accepted.TryGetValue(historyId, out ObjectId tip) ? OriginOf(ReadCommit(tip)) ?? Id : Id;

    /// <summary>The owner of a keynode whose histories this one takes: itself, or a trusted origin; null when not trusted.</summary>
    private Identity? OriginOwner(string origin) =>
        origin == Id && _rotatingTo is { } next ? next : ChainOf(origin)?.Current;

    /// <summary>The rules that govern histories of <paramref name="origin"/>, as this keynode accepted them.</summary>
    private AccessList RulesOf(string origin)
    {
        if (origin == Id) return CurrentAccess();
        if (!_accepted.TryGetValue(RulesHistoryId(origin, Owner.Fingerprint), out ObjectId tip)) return AccessList.Empty;
        if (_rulesByTip.TryGetValue(tip, out AccessList? known)) return known;
        var version = TryReadVersion(tip, ReadCommit(tip));
        if (version is null) return AccessList.Empty;
        using (version.Value.value)
        {
            AccessList rules = version.Value.kind == VersionKind.Rules ? AccessList.Parse(version.Value.value.Span) : AccessList.Empty;
            return _rulesByTip[tip] = rules.For == Owner.Fingerprint ? rules : AccessList.Empty;
        }
    }

    /// <summary>Which keynode a new history at this path belongs to: a trusted origin that claims the path, else this one.</summary>
    private string NewHistoryOrigin(string path) =>
        CurrentAccess().Origins.FirstOrDefault(o => o.Claims(path))?.KeynodeId ?? Id;

    /// <summary>
    /// The key allowed to sign this commit, and whether that verdict lasts (cached across runs:
    /// the origin's owner's signature): the origin's owner always; a grantee of the origin only
    /// for a secret version whose path its write grant covers, as the rules stand now.
    /// </summary>
    private (Identity Key, bool Lasting)? WriterOf(ObjectId id, Commit commit)
    {
        if (OriginOf(commit) is not { } origin || ChainOf(origin) is not { } chain) return null;
        VersionKind? statement = KindOfCommit(id);
        if (statement is VersionKind.OwnerTransition or VersionKind.OwnerRevocation) return StatementWriter(id, commit, origin, statement.Value);
        // Any key of the origin's owner chain (its first is pinned for good), so its signature lasts;
        // whether the version falls within that key's time is asked on every walk (MeaningProblem).
        if (chain.Find(commit.SignerFingerprint) is { } owner) return (owner.Key, true);
        Grant? grant = RulesOf(origin).GrantOf(commit.SignerFingerprint);
        if (grant is null || grant.Write.Count == 0) return null;
        if (KindOfCommit(id) is not (VersionKind.Value or VersionKind.Removed)) return null;
        // A pruned version's path went with its value: the owner checked it before pruning it and vouches for it (§5.6).
        if (IsPrunedVersion(id, commit)) return (grant.Identity, false);
        var version = TryPeekVersion(id, commit);
        return version is { } v && grant.CanWrite(v.Path) ? (grant.Identity, false) : null;
    }

    /// <summary>Refuses, before anything is written, a version this keynode's signer may not make.</summary>
    private void RequireWriter(string origin, string path, SecretIdentity signer, VersionKind kind)
    {
        Identity? originOwner = OriginOwner(origin);
        if (originOwner?.Fingerprint == signer.Public.Fingerprint) return;
        string owner = origin == Id ? "this keynode" : $"keynode {origin[..8]}";
        if (kind is VersionKind.Value or VersionKind.Removed && RulesOf(origin).GrantOf(signer.Public.Fingerprint)?.CanWrite(path) == true) return;
        throw PolykeyException.Denied($"{path} belongs to {owner}, which grants {signer.Public.Fingerprint} no write on it",
            origin == Id ? null : "ask that keynode's owner for a write grant ('pk access grant ... write'), then pull its rules");
    }

    /// <summary>
    /// Who a new version of <paramref name="path"/> in a history of <paramref name="origin"/> is
    /// encrypted to: the origin's owner and every reader its rules grant the path.
    /// </summary>
    private IEnumerable<Identity> Readers(string path, string origin)
    {
        AccessList rules = origin == Id ? _pendingAccess ?? CurrentAccess() : RulesOf(origin);
        Identity originOwner = OriginOwner(origin) ?? Owner;
        return [originOwner, .. rules.Grants.Where(g => g.CanRead(path) && g.Identity.Fingerprint != originOwner.Fingerprint).Select(g => g.Identity)];
    }
}
