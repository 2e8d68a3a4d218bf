using System.Text;
using Polykey.Core;
using Polykey.Core.Crypto;
using Polykey.Core.Git;

namespace Polykey.Cli.Transports;

/// <summary>
/// Which keynode a git relay carries: its id and its owner's public certificate, kept in the
/// relay as a commit under <see cref="Ref"/> whose tree holds three files (docs/git-relay.md).
/// Public metadata only; the receiver pins the owner, so a relay that swaps it is refused.
/// </summary>
internal sealed record RelayIdentity(string KeynodeId, Identity Owner)
{
    public const string Ref = "refs/polykey/keynode";
    public const string FormatLine = "polykey-relay 1\n";

    private const string FormatFile = "format";
    private const string KeynodeFile = "keynode";
    private const string OwnerFile = "owner.pgp";

    /// <summary>Writes the identity's objects into a repository; returns the commit to point <see cref="Ref"/> at.</summary>
    public string Store(string gitDir)
    {
        string commitHex = "";
        foreach ((ObjectType type, byte[] content) in Objects())
        {
            (string hex, byte[] compressed) = LooseObjectFile.Encode(type, content);
            LooseObjectFile.Store(gitDir, hex, compressed);
            commitHex = hex;
        }
        return commitHex;
    }

    /// <summary>
    /// The commit <see cref="Ref"/> names for this keynode and owner. Its name covers every byte
    /// of the three files, so a relay whose ref names this commit carries exactly this identity.
    /// </summary>
    public string CommitHex() => LooseObject.IdOf(ObjectType.Commit, Objects().Last().Content).Hex;

    // The three blobs, the tree, then the commit.
    private IEnumerable<(ObjectType Type, byte[] Content)> Objects()
    {
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal)
        {
            [FormatFile] = Encoding.ASCII.GetBytes(FormatLine),
            [KeynodeFile] = Encoding.ASCII.GetBytes(KeynodeId + "\n"),
            [OwnerFile] = Owner.ToBinary(),
        };
        using var tree = new MemoryStream();
        foreach ((string name, byte[] content) in files)
        {
            yield return (ObjectType.Blob, content);
            tree.Write(Encoding.ASCII.GetBytes($"100644 {name}\0"));
            tree.Write(LooseObject.IdOf(ObjectType.Blob, content).ToBytes());
        }
        byte[] treeContent = tree.ToArray();
        yield return (ObjectType.Tree, treeContent);
        // A commit, not a bare tree, because some git hosts refuse refs to anything else. Fixed
        // author and time: the same keynode always makes the same commit.
        string commit = $"tree {LooseObject.IdOf(ObjectType.Tree, treeContent).Hex}\nauthor polykey <polykey@invalid> 0 +0000\ncommitter polykey <polykey@invalid> 0 +0000\n\npolykey relay of keynode {KeynodeId}\n";
        yield return (ObjectType.Commit, Encoding.ASCII.GetBytes(commit));
    }

    /// <summary>Reads the identity a ref of the cache names, checking every file's size and form.</summary>
    public static RelayIdentity Read(GitObjectReader objects, string reference, string location)
    {
        byte[] format = File(objects, reference, FormatFile, 64, location);
        if (Encoding.ASCII.GetString(format) != FormatLine)
            throw PolykeyException.Failed($"{location} is a pk relay of another format ({Printable(format)})", "a newer pk may read it");
        string id = Encoding.ASCII.GetString(File(objects, reference, KeynodeFile, 64, location)).TrimEnd('\n');
        if (!GitRelay.IsHistoryId(id))
            throw PolykeyException.Failed($"{location} names no valid keynode id in {Ref}");
        Identity owner = Identity.Load(File(objects, reference, OwnerFile, Limits.MaxSmallMemberBytes, location), $"the owner certificate of {location}");
        return new RelayIdentity(id, owner);
    }

    private static byte[] File(GitObjectReader objects, string reference, string name, long max, string location)
    {
        (string type, byte[] content) = objects.Read($"{reference}:{name}", max)
            ?? throw PolykeyException.Failed($"{location} is not a pk relay: {Ref} holds no '{name}'");
        if (type != "blob") throw PolykeyException.Failed($"{location} is not a pk relay: '{name}' in {Ref} is a {type}");
        return content;
    }

    private static string Printable(byte[] bytes) => new(Encoding.ASCII.GetString(bytes).Select(c => char.IsControl(c) ? '?' : c).Take(40).ToArray());
}
