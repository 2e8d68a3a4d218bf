using System.Text;
using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Owner;

namespace Polykey.Core;

/// <summary>
/// The owner chain: the first change fixes a keynode's first owner key, and its owner history
/// moves the owner on, one transition at a time, each signed by the key it leaves and the key it
/// names. A key the owner left, or whose revocation certificate was applied, signs nothing new:
/// a version it signed dated after the owner left it is refused, and so is any version it signed
/// that a reader meets in a change after the one where it met that key's end (whatever date the
/// signature claims: a leaked key can backdate, but cannot go back in the file).
/// </summary>
public sealed partial class Keynode
{
    private readonly Dictionary<(string Origin, string Genesis, ObjectId? Tip), OwnerChain> _chains = new();
    private readonly Dictionary<ObjectId, OwnerTransition> _transitions = new();
    // The change in which this reader met the end of an owner key (by origin and fingerprint).
    // A key whose end it met before this open (in a snapshot) is not listed: every change this
    // open reads lies after that end.
    private readonly Dictionary<(string Origin, string Key), long> _ownerKeyEnds = new();
    // The change a ref move being checked belongs to (the next one, for a pull not landed yet),
    // and the tip it moves to.
    private long _checkingChange = long.MaxValue;

    /// <summary>Runs a check of moves as the change numbered <paramref name="change"/> would land them: what an ended owner key may still do depends on it.</summary>
    private T CheckingAs<T>(long change, Func<T> check)
    {
        _checkingChange = change;
        try
        {
            return check();
        }
        finally
        {
            _checkingChange = long.MaxValue;
        }
    }
    private ObjectId? _checkingTip;
    // Set while a rotation builds its versions: the key they are signed by and encrypted to.
    private Identity? _rotatingTo;

    /// <summary>The keynode's first owner, fixed by its first change: what readers and remotes pin.</summary>
    public Identity FirstOwner { get; private set; } = null!;

    /// <summary>The current owner: the first one, moved on by every accepted transition.</summary>
    public Identity Owner
    {
        get
        {
            lock (_gate) return ChainOf(Id)!.Current;
        }
    }

    // The first owner of a keynode this one trusts (itself, or an origin): where its owner chain starts.
    private Identity? FirstOwnerOf(string origin) => origin == Id ? FirstOwner : CurrentAccess().OriginOf(origin)?.Owner;

    /// <summary>The id of the history holding <paramref name="origin"/>'s owner transitions.</summary>
    internal static string OwnerHistoryId(string origin) =>
        DerivedHistoryId("owner", origin);

    /// <summary>The id of the history holding the revocation of owner key <paramref name="key"/> of <paramref name="origin"/>.</summary>
    internal static string RevocationHistoryId(string origin, string key) =>
        DerivedHistoryId("owner revocation", origin, key);

    /// <summary>The owner chain of a keynode this one takes histories from (itself included); null when not trusted.</summary>
    private OwnerChain? ChainOf(string origin)
    {
        Identity? first = FirstOwnerOf(origin);
        if (first is null) return null;
        return ChainThrough(origin, first, _accepted.TryGetValue(OwnerHistoryId(origin), out ObjectId tip) ? tip : null);
    }

    /// <summary>The chain that an owner history standing at <paramref name="tip"/> makes of <paramref name="first"/>.</summary>
    private OwnerChain ChainThrough(string origin, Identity first, ObjectId? tip)
    {
        if (_chains.TryGetValue((origin, first.Fingerprint, tip), out OwnerChain? known)) return known;
        OwnerChain chain = tip is { } at
            ? ChainThrough(origin, first, ReadCommit(at).Parent).Then(TransitionOf(at))
            : new OwnerChain([new OwnerKey(first, null)]);
        return _chains[(origin, first.Fingerprint, tip)] = chain;
    }

    private OwnerTransition TransitionOf(ObjectId commitId)
    {
        if (_transitions.TryGetValue(commitId, out OwnerTransition? known)) return known;
        (VersionKind kind, ObjectId blob) = VersionBlob(commitId, ReadCommit(commitId));
        if (kind != VersionKind.OwnerTransition) throw PolykeyException.Failed($"version {commitId} in {Path} is not an owner transition");
        return _transitions[commitId] = OwnerTransition.Parse(ReadStatement(blob, OwnerTransition.MaxBytes), $"version {commitId} in {Path}");
    }

    private OwnerRevocation RevocationOf(ObjectId commitId)
    {
        (VersionKind kind, ObjectId blob) = VersionBlob(commitId, ReadCommit(commitId));
        if (kind != VersionKind.OwnerRevocation) throw PolykeyException.Failed($"version {commitId} in {Path} is not an owner revocation");
        return OwnerRevocation.Parse(ReadStatement(blob, OwnerRevocation.MaxBytes), $"version {commitId} in {Path}");
    }

    // A statement's blob, its size checked before it is read.
    private byte[] ReadStatement(ObjectId blob, int max)
    {
        using var stream = OpenObject(blob, ObjectType.Blob);
        if (stream.ContentLength > max) throw PolykeyException.Failed($"git object {blob} in {Path} is larger than an owner statement can be");
        byte[] content = new byte[stream.ContentLength];
        stream.ReadExactly(content);
        stream.Finish();
        return content;
    }

    private bool Revoked(string origin, string key) => _accepted.ContainsKey(RevocationHistoryId(origin, key));

    /// <summary>Why a version signed by an owner key of its origin falls outside that key's time, or null.</summary>
    private string? OwnerWindowProblem(string historyId, ObjectId id, Commit commit, string origin)
    {
        if (ChainOf(origin)?.Find(commit.SignerFingerprint) is not { } key) return null; // not an owner key: the rules decide
        // A revocation only takes power away: the one version a key may sign after its end. Only
        // that kind: any other version under that id is held to the key's time like the rest.
        if (historyId == RevocationHistoryId(origin, key.Key.Fingerprint) && KindOfCommit(id) == VersionKind.OwnerRevocation) return null;
        if (key.RotatedAt is { } left && commit.Time > left)
            return $"commit {id} is signed by former owner key {Short(key.Key.Fingerprint)}, dated {commit.Time:u}, after the owner moved to a new key at {left:u}";
        // After its end, an ended key puts nothing new on top of a history: a move whose new tip it
        // signed, in a change after the one where the reader met that end, is refused whatever its
        // date. Its older versions beneath a tip a valid key signed (the history a subscriber
        // catches up on, or one granted to it after the rotation) are history, not news.
        bool ended = key.RotatedAt is not null || Revoked(origin, key.Key.Fingerprint);
        if (ended && id == _checkingTip && _checkingChange > _ownerKeyEnds.GetValueOrDefault((origin, key.Key.Fingerprint), -1))
            return key.RotatedAt is null
                ? $"commit {id} is signed by owner key {Short(key.Key.Fingerprint)}, revoked as compromised before this change"
                : $"commit {id} is signed by former owner key {Short(key.Key.Fingerprint)} and arrived after the owner moved to a new key";
        return null;
    }

    /// <summary>Why a version of an owner statement kind (or a version standing in an owner history) does not hold, or null.</summary>
    private string? StatementProblem(string historyId, ObjectId id, Commit commit, string origin)
    {
        VersionKind? kind = KindOfCommit(id);
        bool ownerHistory = historyId == OwnerHistoryId(origin);
        if (ownerHistory != (kind == VersionKind.OwnerTransition))
            return ownerHistory ? $"commit {id} is not an owner transition but stands in the owner history" : $"commit {id} is an owner transition outside its keynode's owner history";
        if (kind == VersionKind.OwnerTransition)
        {
            OwnerTransition transition = TransitionOf(id);
            if (transition.KeynodeId != origin) return $"commit {id} moves the owner of another keynode";
            if (transition.Time != commit.Time) return $"commit {id} is dated otherwise than the transition it holds";
            Identity? first = FirstOwnerOf(origin);
            if (first is null) return null; // untrusted: refused elsewhere
            OwnerChain before = ChainThrough(origin, first, commit.Parent);
            if (transition.From != before.Current.Fingerprint || commit.SignerFingerprint != transition.From)
                return $"commit {id} moves the owner from {Short(transition.From)}, which is not the owner key its history stands at ({Short(before.Current.Fingerprint)}), or is not signed by it";
            if (before.Find(transition.To.Fingerprint) is not null) return $"commit {id} moves the owner back to a key it held before";
        }
        if (kind == VersionKind.OwnerRevocation)
        {
            OwnerRevocation revocation = RevocationOf(id);
            if (revocation.KeynodeId != origin || historyId != RevocationHistoryId(origin, revocation.Key) || commit.Parent is not null)
                return $"commit {id} is an owner revocation outside the one place it may stand";
            if (commit.SignerFingerprint != revocation.Key) return $"commit {id} revokes an owner key it is not signed by";
        }
        return null;
    }

    /// <summary>The key allowed to sign an owner statement: the key a transition leaves, or the key a revocation names if it was an owner key.</summary>
    private (Identity Key, bool Lasting)? StatementWriter(ObjectId id, Commit commit, string origin, VersionKind kind)
    {
        Identity? first = FirstOwnerOf(origin);
        if (first is null) return null;
        if (kind == VersionKind.OwnerTransition)
        {
            Identity from = ChainThrough(origin, first, commit.Parent).Current;
            return commit.SignerFingerprint == from.Fingerprint ? (from, true) : null;
        }
        // The revoked key may be one this pull is bringing a transition to: look in the newest chain there is.
        OwnerChain chain = ChainOf(origin)!;
        return chain.Find(commit.SignerFingerprint) is { } key ? (key.Key, true) : null;
    }

    /// <summary>Notes, for keys whose end this move makes known, the change in which the reader met it.</summary>
    private void NoteOwnerEnds(string historyId, ObjectId? before, ObjectId tip, long change)
    {
        VersionKind? kind = KindOfCommit(tip);
        if (kind is not (VersionKind.OwnerTransition or VersionKind.OwnerRevocation) || OriginOf(ReadCommit(tip)) is not { } origin) return;
        if (kind == VersionKind.OwnerRevocation)
        {
            _ownerKeyEnds.TryAdd((origin, RevocationOf(tip).Key), change);
            return;
        }
        Identity? first = FirstOwnerOf(origin);
        if (first is null) return;
        OwnerChain was = ChainThrough(origin, first, before), now = ChainThrough(origin, first, tip);
        foreach (OwnerKey key in now.Keys.Where(k => k.RotatedAt is not null && was.Find(k.Key.Fingerprint)?.RotatedAt is null))
            _ownerKeyEnds.TryAdd((origin, key.Key.Fingerprint), change);
    }

    /// <summary>Owner statements are taken before the versions of their change, so the versions the new key signed find it.</summary>
    private int StatementRank(ObjectId tip)
    {
        try
        {
            return KindOfCommit(tip) switch { VersionKind.OwnerTransition => 0, VersionKind.OwnerRevocation => 1, _ => 2 };
        }
        catch (PolykeyException)
        {
            return 2; // damage is reported when the move is checked
        }
    }

    /// <summary>What happened to this keynode's owner: each transition and revocation, oldest first.</summary>
    public IReadOnlyList<OwnerEvent> OwnerHistory()
    {
        lock (_gate)
        {
            OwnerChain chain = ChainOf(Id)!;
            var events = new List<OwnerEvent>();
            for (int i = 1; i < chain.Keys.Count; i++)
                events.Add(new OwnerEvent(chain.Keys[i - 1].Key.Fingerprint, chain.Keys[i].Key.Fingerprint, chain.Keys[i - 1].RotatedAt!.Value, Revoked: false));
            foreach (OwnerKey key in chain.Keys.Where(k => Revoked(Id, k.Key.Fingerprint)))
                events.Add(new OwnerEvent(key.Key.Fingerprint, null, ReadCommit(_accepted[RevocationHistoryId(Id, key.Key.Fingerprint)]).Time, Revoked: true));
            return events;
        }
    }

    /// <summary>Whether the current owner key was revoked: then nothing new can be signed for this keynode.</summary>
    public bool OwnerRevoked
    {
        get
        {
            lock (_gate) return Revoked(Id, Owner.Fingerprint);
        }
    }

    /// <summary>Whether a version is dated no later than the transition to the current owner key (its readers were chosen before it).</summary>
    private bool BeforeCurrentOwner(Commit commit)
    {
        OwnerChain chain = ChainOf(Id)!;
        return chain.Keys.Count > 1 && commit.Time <= chain.Keys[^2].RotatedAt!.Value;
    }

    private static string Short(string fingerprint) => fingerprint.Length > 16 ? fingerprint[^16..] : fingerprint;
}

/// <summary>A transition (<paramref name="To"/> set) or a revocation of an owner key; <paramref name="Time"/> is the transition's, or when the certificate was made.</summary>
public sealed record OwnerEvent(string From, string? To, DateTimeOffset Time, bool Revoked);
