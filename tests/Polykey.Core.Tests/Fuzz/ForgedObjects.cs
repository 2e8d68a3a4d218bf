using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text;
using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core.Tests.Fuzz;

/// <summary>A member of a crafted change: any name, type and claimed size (the data's length unless given).</summary>
internal sealed record HostileMember(string Name, byte[] Data, char Type = '0', long? ClaimedSize = null, string Link = "")
{
    public bool IsPlainFile => Type == '0' && ClaimedSize is null && Link.Length == 0;

    public static HostileMember Ref(string historyId, string target) =>
        new(KeynodeLayout.SecretRefPrefix + historyId, Encoding.ASCII.GetBytes(target + "\n"));
}

/// <summary>
/// Git objects and signed versions as a writer (honest or not) would put them in a keynode.
/// The one place the harness builds objects with Polykey.Core's internal encoders and
/// signers, so that a rewrite of the core touches one file of the harness.
/// </summary>
internal static class ForgedObjects
{
    private static readonly ConcurrentDictionary<(string, int), byte[]> Bombs = new();

    /// <summary>
    /// A version signed by <paramref name="signer"/>: blob, tree, commit and the ref moving
    /// <paramref name="historyId"/> to it. The commit binds it to that history as version
    /// <paramref name="sequence"/> (format 3) unless <paramref name="message"/> replaces the
    /// binding; <paramref name="time"/> is written into the commit as given (any text, so
    /// impossible times can be signed too); <paramref name="claimedSigner"/> is the fingerprint
    /// the commit names (the signer's unless given).
    /// </summary>
    public static (string Commit, List<HostileMember> Members) Version(
        string origin, string historyId, string? parent, long sequence, string path, byte[] value, SecretIdentity signer, IEnumerable<Identity> readers,
        string entry = "secret.pgp", string? time = null, string? claimedSigner = null, string? message = null)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        var members = new List<HostileMember>();
        ObjectId blob = Add(members, ObjectType.Blob, SecretMessage.Encrypt(path, value, now, readers));
        ObjectId tree = Add(members, ObjectType.Tree, Tree.Encode([(entry, blob)]));
        var commit = new Commit(tree, parent is null ? null : new ObjectId(parent), claimedSigner ?? signer.Public.Fingerprint, now,
            message ?? new HistoryBinding(historyId, origin, sequence).Message());
        string stamp = $" {now.ToUnixTimeSeconds()} +0000\n", written = $" {time ?? now.ToUnixTimeSeconds().ToString()} +0000\n";
        byte[] payload = Restamp(commit.Payload(), stamp, written);
        string signature = CommitSignature.Sign(payload, signer);
        ObjectId id = Add(members, ObjectType.Commit, Restamp(commit.Encode(signature), stamp, written));
        members.Add(HostileMember.Ref(historyId, id.Hex));
        return (id.Hex, members);
    }

    /// <summary>The version number a new version after <paramref name="parent"/> takes (1 for a new history).</summary>
    public static long NextSequence(byte[] file, string? parent)
    {
        if (parent is null || !ObjectId.TryParse(parent, out ObjectId id) || TarLayout.Parse(file).LastNamed(id.LoosePath) is not { } m) return 1;
        try
        {
            (_, byte[] content) = LooseObject.Decode(id, file.AsSpan((int)m.Data, (int)m.Size).ToArray());
            return (HistoryBinding.TryParse(Commit.Decode(id, content).Commit.Message)?.Sequence ?? 0) + 1;
        }
        catch (PolykeyException)
        {
            return 1; // an earlier mutation damaged it
        }
    }

    /// <summary>A loose-object member whose zlib stream inflates to <paramref name="mebibytes"/> MiB: a git header, then zeros.</summary>
    public static HostileMember Bomb(string name, string gitHeader, int mebibytes) =>
        new(name, Bombs.GetOrAdd((gitHeader, mebibytes), key => Deflate(key.Item1, key.Item2)));

    public static string NewHistoryId() => Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());

    private static byte[] Deflate(string gitHeader, int mebibytes)
    {
        using var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            z.Write(Encoding.ASCII.GetBytes(gitHeader));
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < mebibytes; i++) z.Write(zeros);
        }
        return compressed.ToArray();
    }

    private static ObjectId Add(List<HostileMember> members, ObjectType type, byte[] content)
    {
        (ObjectId id, byte[] compressed) = LooseObject.Encode(type, content);
        members.Add(new HostileMember(id.LoosePath, compressed));
        return id;
    }

    private static byte[] Restamp(byte[] text, string stamp, string written) =>
        Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(text).Replace(stamp, written, StringComparison.Ordinal));

    /// <summary>
    /// Appends a crafted change at the end of <paramref name="file"/>: through the writer's own
    /// <see cref="ChangeWriter"/> when every member is a plain file, else through the harness's raw
    /// tar writer. Returns the new file and whether the change chains to the last one (a reader
    /// must take it as committed).
    /// </summary>
    public static (byte[] File, bool Chained) Append(byte[] file, IReadOnlyList<HostileMember> members)
    {
        RawLayout layout = TarLayout.Parse(file);
        long at = TarLayout.AppendOffset(file);
        ChainPoint last = TarLayout.LastPoint(file, layout);
        // The record chains to the last change and names where this one starts.
        ChainPoint point = last with { Offset = at };
        byte[] change = members.All(m => m.IsPlainFile)
            ? ChangeWriter.Build(new ScanPoint(last.Offset, last.Sequence, last.RecordHash), at,
                members.Select(m => new PendingMember(m.Name, m.Data)).ToList(), DateTimeOffset.UtcNow).Bytes
            : TarLayout.Change(point, members.SelectMany(m => TarLayout.Member(m.Name, m.Data, m.Type, m.ClaimedSize, m.Link)).ToArray());
        bool chained = at == last.Offset && members.All(m => m.ClaimedSize is null);
        return ([.. file.AsSpan(0, (int)at), .. change], chained);
    }
}
