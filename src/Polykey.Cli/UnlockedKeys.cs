using Polykey.Core;
using Polykey.Core.Crypto;

namespace Polykey.Cli;

/// <summary>
/// Owner keys unlocked by `pk unlock`: each the owner's unprotected OpenPGP secret key (binary),
/// a "user" key in the kernel keyring named <c>polykey:&lt;keynode id&gt;</c> that expires on
/// its own. Commands that need the owner key look here before asking for a passphrase.
/// </summary>
internal static class UnlockedKeys
{
    /// <summary>How long pk unlock keeps a key unless told (a duration for <see cref="Durations"/>).</summary>
    public const string DefaultLifetime = "15m";
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(12);

    public static string Description(string keynodeId) => "polykey:" + keynodeId;

    /// <summary>True for a description pk unlock writes (never another program's key that merely starts alike).</summary>
    public static bool IsOurs(string description) =>
        description.StartsWith("polykey:", StringComparison.Ordinal) && description.Length == "polykey:".Length + 32
        && description.AsSpan("polykey:".Length).IndexOfAnyExcept("0123456789abcdef") < 0;

    /// <summary>
    /// The unlocked owner key of keynode <paramref name="keynodeId"/>, or null (quietly when there
    /// is none or no keyring here; with a warning when the key there is not that owner's).
    /// </summary>
    public static SecretIdentity? Find(string keynodeId, string ownerFingerprint)
    {
        string description = Description(keynodeId);
        byte[]? payload = KernelKeyring.Read(description);
        if (payload is null) return null;
        try
        {
            SecretIdentity identity = SecretIdentity.Load(payload, $"the kernel keyring's key {description}");
            if (identity.Public.Fingerprint == ownerFingerprint && identity.CanSign) return identity;
            Output.Warning($"ignoring the kernel keyring's key {description}: it holds key {identity.Public.Fingerprint}, not the full key of this keynode's owner {ownerFingerprint} ('pk lock' removes it)");
        }
        catch (PolykeyException)
        {
            Output.Warning($"ignoring the kernel keyring's key {description}: it holds no readable secret key ('pk lock' removes it)");
        }
        finally
        {
            Array.Clear(payload);
        }
        return null;
    }

    /// <summary>Keeps <paramref name="owner"/> for <paramref name="lifetime"/>; fails with <see cref="KernelKeyring.Unavailable"/>.</summary>
    public static void Store(string keynodeId, SecretIdentity owner, TimeSpan lifetime)
    {
        byte[] payload = owner.ToBinary();
        try
        {
            KernelKeyring.Store(Description(keynodeId), payload, lifetime);
        }
        finally
        {
            Array.Clear(payload);
        }
    }

    /// <summary>Forgets keynode <paramref name="keynodeId"/>'s key; false when there was none.</summary>
    public static bool Forget(string keynodeId) => KernelKeyring.Forget(Description(keynodeId));

    /// <summary>Forgets every key pk unlock made for this user; returns their descriptions.</summary>
    public static List<string> ForgetAll()
    {
        var forgotten = new List<string>();
        foreach (string description in KernelKeyring.Descriptions().Where(IsOurs))
            if (KernelKeyring.Forget(description)) forgotten.Add(description);
        return forgotten;
    }
}
