using Polykey.Core.Crypto;

namespace Polykey.Core;

/// <summary>How the caller proves it may use a keynode's keys.</summary>
public abstract class Credential
{
    private Credential() { }

    /// <summary>
    /// A passphrase that unseals the owner key stored in the keynode; read only when a key is needed.
    /// <paramref name="unlockedKey"/>, when given, is asked first, with the keynode id and the owner's
    /// fingerprint, for an owner key unlocked earlier and kept elsewhere (the CLI keeps one in the kernel
    /// keyring after `pk unlock`); it returns null when it holds none. The keynode uses what it returns
    /// only if its fingerprint is the owner's, and else reads the passphrase.
    /// </summary>
    public sealed class Passphrase(Func<byte[]> read, Func<string, string, SecretIdentity?>? unlockedKey = null) : Credential
    {
        public byte[] Read() => read();

        public SecretIdentity? UnlockedKey(string keynodeId, string ownerFingerprint) => unlockedKey?.Invoke(keynodeId, ownerFingerprint);
    }

    /// <summary>An unprotected key held outside the keynode (a machine key file or systemd credential).</summary>
    public sealed class KeyFile(SecretIdentity identity, string source) : Credential
    {
        public SecretIdentity Identity { get; } = identity;
        public string Source { get; } = source;
    }
}
