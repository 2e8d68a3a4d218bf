using Polykey.Core.Git;

namespace Polykey.Core.Sync;

/// <summary>
/// What `pk serve` sends for a batch of wants: each object asked for, and for a walk, every
/// version below it (commit, tree, version blob) down to what the client says it holds, as
/// git's upload-pack does for a fetch. Read without any key: commits and trees are plain git
/// objects; the secret message blobs are sent as stored. A walk is best-effort (whatever it
/// leaves out, the client asks for by id) and bounded by what one transfer may carry.
/// </summary>
internal sealed class HistoryWalk(KeynodeArchive archive, WireWriter writer, IEnumerable<ObjectId> held)
{
    private readonly HashSet<ObjectId> _sent = [.. held];
    private long _bytes;
    private int _commits;

    public void Send(IEnumerable<(ObjectId Id, bool Walk, ObjectId? Have)> wants)
    {
        foreach ((ObjectId id, bool walk, ObjectId? _) in wants)
        {
            if (!walk) SendOne(id);
            else Walk(id);
        }
    }

    private void SendOne(ObjectId id)
    {
        if (archive.ReadStored(id) is { } stored) SendObject(id, stored);
        else writer.Write(WireFrameType.Missing, id.ToBytes());
    }

    private void Walk(ObjectId tip)
    {
        var pending = new Stack<ObjectId>();
        pending.Push(tip);
        while (pending.TryPop(out ObjectId id))
        {
            if (!_sent.Add(id)) continue;
            if (_bytes > Limits.MaxTransferBytes || ++_commits > Limits.MaxHistoryWalk) return;
            if (archive.ReadStored(id) is not { } stored)
            {
                writer.Write(WireFrameType.Missing, id.ToBytes());
                continue;
            }
            SendObject(id, stored);
            try
            {
                if (Decode(id, stored, ObjectType.Commit) is not { } content) continue;
                Commit commit = Commit.Decode(id, content).Commit;
                SendVersion(commit.Tree);
                foreach (ObjectId parent in commit.Parents) pending.Push(parent);
            }
            catch (PolykeyException)
            {
                // A damaged object ends this walk; the client judges what it received.
            }
        }
    }

    // A version's tree and the message blob it names.
    private void SendVersion(ObjectId treeId)
    {
        if (!_sent.Add(treeId) || archive.ReadStored(treeId) is not { } stored) return;
        SendObject(treeId, stored);
        if (Decode(treeId, stored, ObjectType.Tree) is { } tree
            && VersionBuilder.KindOf(Tree.Decode(tree), out ObjectId blob) is not null
            && _sent.Add(blob))
        {
            // A value pruned here (or lost) is said missing at once, so the client need not ask for it alone;
            // whether a pruned statement covers it is the client's to judge.
            if (archive.ReadStored(blob) is { } blobStored) SendObject(blob, blobStored);
            else writer.Write(WireFrameType.Missing, blob.ToBytes());
        }
    }

    private void SendObject(ObjectId id, byte[] stored)
    {
        _bytes += stored.Length;
        writer.Write(WireFrameType.Object, id.ToBytes(), stored);
    }

    // The content of a small object of the kind expected; null when it is another kind.
    private static byte[]? Decode(ObjectId id, byte[] stored, ObjectType expected)
    {
        (ObjectType type, byte[] content) = LooseObject.Decode(id, stored, Limits.MaxMetadataObjectBytes);
        return type == expected ? content : null;
    }
}
