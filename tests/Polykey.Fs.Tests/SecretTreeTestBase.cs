using System.Text;
using Polykey.Core;
using Polykey.Core.Crypto;

namespace Polykey.Fs.Tests;

/// <summary>A fresh keynode holding app/config = "color=red\n", and a writable tree over it.</summary>
public abstract class SecretTreeTestBase : IDisposable
{
    protected static readonly Lazy<SecretIdentity> Owner = new(() => SecretIdentity.Generate("tree-test"));
    protected readonly string _directory = Directory.CreateTempSubdirectory("pk-tree-").FullName;
    protected readonly Keynode _keynode;
    protected readonly SecretTree _tree;

    protected SecretTreeTestBase()
    {
        _keynode = Keynode.Create(Path.Combine(_directory, "n.keynode"), "tree-test", new Credential.KeyFile(Owner.Value, "test"));
        _keynode.Set("app/config", "color=red\n"u8);
        _tree = new SecretTree(_keynode, readOnly: false);
    }

    protected string Value(string path) => Encoding.UTF8.GetString(_keynode.Get(path).Span);

    protected int Versions(string path) => _keynode.Log(path).Count;

    public void Dispose()
    {
        _tree.Dispose();
        _keynode.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
