using Polykey.Core.Crypto;

namespace Polykey.Core;

/// <summary>How the caller proves it may use a keynode's keys.</summary>
public abstract class Credential
{
    private Credential() { }

    /// <summary>A passphrase that unseals the owner key stored in the keynode; read only when a key is needed.</summary>
    public sealed class Passphrase(Func<byte[]> read) : Credential
    {
        public byte[] Read() => read();
    }

    /// <summary>An unprotected key held outside the keynode (a machine key file or systemd credential).</summary>
    public sealed class KeyFile(SecretIdentity identity, string source) : Credential
    {
        public SecretIdentity Identity { get; } = identity;
        public string Source { get; } = source;
    }
}
