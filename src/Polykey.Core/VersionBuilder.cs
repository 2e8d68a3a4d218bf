using System.Text;
using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core;

/// <summary>
/// Turns one new secret version into the members of a change: the encrypted blob, its tree,
/// the signed commit and the moved ref.
/// </summary>
internal static class VersionBuilder
{
    public const string ValueEntry = "secret.pgp";
    public const string RemovedEntry = "removed.pgp";

    public static (ObjectId Tip, List<PendingMember> Members) Build(
        string secretId, ObjectId? parent, string path, ReadOnlySpan<byte> value, bool removed,
        DateTimeOffset time, SecretIdentity signer, IEnumerable<Identity> readers)
    {
        var members = new List<PendingMember>(4);
        byte[] message = SecretMessage.Encrypt(path, value, time, readers);
        ObjectId blob = Add(members, ObjectType.Blob, message);
        ObjectId tree = Add(members, ObjectType.Tree, Tree.Encode([(removed ? RemovedEntry : ValueEntry, blob)]));
        var commit = new Commit(tree, parent, signer.Public.Fingerprint, time, Commit.StandardMessage);
        string signature = CommitSignature.Sign(commit.Payload(), signer);
        ObjectId tip = Add(members, ObjectType.Commit, commit.Encode(signature));
        members.Add(new PendingMember(KeynodeLayout.SecretRefPrefix + secretId, Encoding.ASCII.GetBytes(tip.Hex + "\n")));
        return (tip, members);
    }

    public static string NewSecretId() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    private static ObjectId Add(List<PendingMember> members, ObjectType type, byte[] content)
    {
        (ObjectId id, byte[] compressed) = LooseObject.Encode(type, content);
        members.Add(new PendingMember(id.LoosePath, compressed));
        return id;
    }
}
