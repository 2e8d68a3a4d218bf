using System.Text;
using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core;

/// <summary>What a version is: a value, a removal, or a directory marker (made by mkdir in a mount) and its removal.</summary>
internal enum VersionKind
{
    Value,
    Removed,
    Directory,
    DirectoryRemoved,
    AccessList,
    /// <summary>What one grantee is told of its origin's access list (a rules view).</summary>
    Rules,
    /// <summary>The origin's signed "as of" statement: its commit time says when the origin last pushed.</summary>
    AsOf,
    /// <summary>The owner's signed list of old versions whose values `pk gc` dropped (docs/keynode-format.md §5.5.3).</summary>
    Pruned,
    /// <summary>The owner moves to a new key (clear statement, signed by both keys).</summary>
    OwnerTransition,
    /// <summary>An owner key is compromised (clear statement, signed by that key when it was made).</summary>
    OwnerRevocation,
}

/// <summary>
/// Turns one new secret version into the members of a change: the encrypted blob, its tree,
/// the signed commit and the moved ref.
/// </summary>
internal static class VersionBuilder
{
    /// <summary>The one tree entry of a version, by kind.</summary>
    public static string EntryName(VersionKind kind) => kind switch
    {
        VersionKind.Value => "secret.pgp",
        VersionKind.Removed => "removed.pgp",
        VersionKind.Directory => "directory.pgp",
        VersionKind.DirectoryRemoved => "directory-removed.pgp",
        VersionKind.Rules => "rules.pgp",
        VersionKind.AsOf => "as-of.pgp",
        VersionKind.Pruned => "pruned.pgp",
        VersionKind.OwnerTransition => "owner-transition.txt",
        VersionKind.OwnerRevocation => "owner-revocation.txt",
        _ => "access.pgp",
    };

    public static VersionKind? KindOf(IReadOnlyDictionary<string, ObjectId> tree, out ObjectId blob)
    {
        foreach (VersionKind kind in Enum.GetValues<VersionKind>())
            if (tree.TryGetValue(EntryName(kind), out blob)) return kind;
        blob = default;
        return null;
    }

    public static (ObjectId Tip, List<PendingMember> Members) Build(
        string secretId, string origin, ObjectId? parent, long sequence, string path, ReadOnlySpan<byte> value, VersionKind kind,
        DateTimeOffset time, SecretIdentity signer, IEnumerable<Identity> readers, ObjectId? merged = null)
    {
        var members = new List<PendingMember>(4);
        byte[] message = SecretMessage.Encrypt(path, value, time, readers);
        ObjectId blob = Add(members, ObjectType.Blob, message, ciphertext: true);
        ObjectId tree = Add(members, ObjectType.Tree, Tree.Encode([(EntryName(kind), blob)]));
        var commit = new Commit(tree, parent, signer.Public.Fingerprint, time, new HistoryBinding(secretId, origin, sequence).Message(), merged);
        string signature = CommitSignature.Sign(commit.Payload(), signer);
        ObjectId tip = Add(members, ObjectType.Commit, commit.Encode(signature));
        members.Add(new PendingMember(KeynodeLayout.SecretRefPrefix + secretId, Encoding.ASCII.GetBytes(tip.Hex + "\n")));
        return (tip, members);
    }

    /// <summary>
    /// A version of an owner statement: its blob is the statement itself, in clear (every reader
    /// that checks signatures needs it, keys or not); the commit is signed like any other.
    /// </summary>
    public static (ObjectId Tip, List<PendingMember> Members) BuildStatement(
        string historyId, string origin, ObjectId? parent, long sequence, VersionKind kind, byte[] statement, DateTimeOffset time, SecretIdentity signer)
    {
        var members = new List<PendingMember>(4);
        ObjectId blob = Add(members, ObjectType.Blob, statement);
        ObjectId tree = Add(members, ObjectType.Tree, Tree.Encode([(EntryName(kind), blob)]));
        var commit = new Commit(tree, parent, signer.Public.Fingerprint, time, new HistoryBinding(historyId, origin, sequence).Message());
        ObjectId tip = Add(members, ObjectType.Commit, commit.Encode(CommitSignature.Sign(commit.Payload(), signer)));
        members.Add(new PendingMember(KeynodeLayout.SecretRefPrefix + historyId, Encoding.ASCII.GetBytes(tip.Hex + "\n")));
        return (tip, members);
    }

    public static string NewSecretId() => Convert.ToHexStringLower(Crypto.RandomBytes.Get(16));

    private static ObjectId Add(List<PendingMember> members, ObjectType type, byte[] content, bool ciphertext = false)
    {
        // Ciphertext, and a tree of one entry (~50 bytes), only grow when deflated: stored, they
        // skip the compressor's set-up. A commit, or a statement in clear, shrinks.
        bool store = ciphertext || type == ObjectType.Tree;
        (ObjectId id, byte[] compressed) = store ? LooseObject.EncodeStored(type, content) : LooseObject.Encode(type, content);
        // A blob is what a reader decrypts, never what a check of the history reads.
        members.Add(new PendingMember(id.LoosePath, compressed) { Built = type == ObjectType.Blob ? null : (id, type, content) });
        return id;
    }
}
