using System.Text;
using Polykey.Core.Access;
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
        DerivedHistoryId("as-of", origin);

    /// <summary>
    /// The id of a history the format derives from names (docs/keynode-format.md §5.5): the first
    /// 16 bytes, in hex, of SHA-256("polykey " || kind || "\n" || each part || "\n").
    /// </summary>
    private static string DerivedHistoryId(string kind, params string[] parts)
    {
        string name = $"polykey {kind}\n" + string.Concat(parts.Select(p => p + "\n"));
        if (DerivedIds.TryGetValue(name, out string? known)) return known;
        string id = Convert.ToHexStringLower(Digests.Sha256(Encoding.ASCII.GetBytes(name)).AsSpan(0, 16));
        // Validation asks for the same few ids once per commit it walks; names from a file are bounded in number here.
        if (DerivedIds.Count < MaxDerivedIds) DerivedIds.TryAdd(name, id);
        return id;
    }

    private const int MaxDerivedIds = 4096;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> DerivedIds = new(StringComparer.Ordinal);

    /// <summary>When the keynode <paramref name="origin"/> last said, signed, that it stood as this keynode now holds it; null when it never did.</summary>
    public DateTimeOffset? AsOf(string origin)
    {
        lock (_gate)
            return _accepted.TryGetValue(AsOfHistoryId(origin), out ObjectId tip) ? ReadCommit(tip).Time : null;
    }

    /// <summary>
    /// Refuses to serve a secret taken from another keynode whose newest as-of statement is older
    /// than a remote of that keynode added with --refuse-stale allows (the strictest such remote
    /// decides; a statement may arrive through any of them). A relay that freezes then makes the
    /// machine fail closed instead of serving values that may have been rotated away.
    /// </summary>
    public void RequireFresh(string path)
    {
        lock (_gate)
            if (RefusesStale && LookupLive(path) is { } entry) RequireFresh(entry.Id, path);
    }

    /// <summary>Whether any remote was added with --refuse-stale (else nothing is ever refused as stale).</summary>
    public bool RefusesStale
    {
        get
        {
            lock (_gate) return _accessHistory is not null && CurrentAccess().Remotes.Any(r => r.RefuseStale && r.MaxAge is not null);
        }
    }

    /// <summary>The next moment a keynode whose secrets are served now goes stale (null: none will without a change).</summary>
    public DateTimeOffset? StaleAt()
    {
        lock (_gate)
        {
            if (!RefusesStale) return null;
            DateTimeOffset now = DateTimeOffset.UtcNow;
            DateTimeOffset? next = null;
            foreach (string origin in CurrentAccess().Remotes.Where(r => r.RefuseStale).Select(r => r.KeynodeId).Distinct())
            {
                if (Strictest(origin) is not { } remote || AsOf(origin) is not { } asOf) continue;
                DateTimeOffset at = asOf + remote.MaxAge!.Value;
                if (at > now && (next is null || at < next)) next = at;
            }
            return next;
        }
    }

    private Remote? Strictest(string origin) => CurrentAccess().Remotes
        .Where(r => r.RefuseStale && r.KeynodeId == origin && r.MaxAge is not null)
        .MinBy(r => r.MaxAge!.Value);

    private void RequireFresh(string historyId, string path)
    {
        string origin = OriginOfHistory(historyId);
        if (origin == Id) return; // this keynode's own word is never stale to itself
        if (Strictest(origin) is not { } strictest) return;
        DateTimeOffset? asOf = AsOf(origin);
        if (asOf is { } time && DateTimeOffset.UtcNow - time <= strictest.MaxAge!.Value) return;
        string said = asOf is { } t ? $"is from {t.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC" : "never came";
        throw PolykeyException.Denied(
            $"{path} comes from keynode {origin[..8]}, whose newest signed \"as of\" statement {said}, older than remote {strictest.Name}'s --max-age {Describe(strictest.MaxAge!.Value)}: refused (--refuse-stale)",
            $"pull from {strictest.Name} (a relay may be withholding updates); the owner's next push brings a new statement");
    }

    private static string Describe(TimeSpan age) =>
        age.TotalDays >= 1 && age.TotalDays % 1 == 0 ? $"{age.TotalDays}d"
        : age.TotalHours >= 1 && age.TotalHours % 1 == 0 ? $"{age.TotalHours}h"
        : age.TotalMinutes >= 1 && age.TotalMinutes % 1 == 0 ? $"{age.TotalMinutes}m"
        : $"{(long)age.TotalSeconds}s";

    // Before a push: a new statement, when this process holds the owner's signing key.
    private void StampAsOf()
    {
        if (_identity is { CanSign: true } signer && signer.Public.Fingerprint == Owner.Fingerprint)
            Commit([new SecretEdit.StampAsOf()]);
    }
}
