using Polykey.Core.Crypto;

namespace Polykey.Core.Tests;

/// <summary>A temp directory per test and one shared owner key (key generation is the slow part).</summary>
public sealed class TestFiles : IDisposable
{
    private static readonly Lazy<SecretIdentity> SharedOwner = new(() => SecretIdentity.Generate("core-test"));

    public TestFiles() => Directory = System.IO.Directory.CreateTempSubdirectory("pk-core-").FullName;

    public string Directory { get; }

    public static SecretIdentity Owner => SharedOwner.Value;

    public static Credential OwnerCredential => new Credential.KeyFile(Owner, "test key");

    public string PathOf(string name) => System.IO.Path.Combine(Directory, name);

    public Keynode Create(string name = "node.keynode") => Keynode.Create(PathOf(name), "core-test", OwnerCredential);

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
