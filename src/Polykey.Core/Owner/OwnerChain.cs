using Polykey.Core.Crypto;

namespace Polykey.Core.Owner;

/// <summary>One key in a keynode's owner chain, and when the owner moved on from it (null: it is the current owner).</summary>
internal sealed record OwnerKey(Identity Key, DateTimeOffset? RotatedAt);

/// <summary>
/// The keys a keynode's owner held, first to current: the first change's key (or the owner a
/// trusting keynode pinned), then each key its owner history moved to. Anchored outside the
/// attacker's reach by whatever fixed the first key; every step signed by the key before it.
/// </summary>
internal sealed record OwnerChain(IReadOnlyList<OwnerKey> Keys)
{
    public Identity Current => Keys[^1].Key;

    public OwnerKey? Find(string fingerprint) => Keys.FirstOrDefault(k => k.Key.Fingerprint == fingerprint);

    public OwnerChain Then(OwnerTransition transition) =>
        new([.. Keys.Take(Keys.Count - 1), Keys[^1] with { RotatedAt = transition.Time }, new OwnerKey(transition.To, null)]);
}
