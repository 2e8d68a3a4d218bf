using Polykey.Core.Git;

namespace Polykey.Core.Storage;

/// <summary>
/// What the committed changes of a keynode add up to: its header, owner key material, git
/// objects (as places in the file) and secret refs. Built by replaying changes in order.
/// </summary>
internal sealed class KeynodeState
{
    private readonly Dictionary<ObjectId, TarMember> _objects = new();
    private readonly Dictionary<string, ObjectId> _secretRefs = new(StringComparer.Ordinal);

    public string? KeynodeId { get; private set; }
    public TarMember? OwnerPublicKey { get; private set; }
    public TarMember? OwnerSealedKey { get; private set; }
    public ScanPoint End { get; private set; } = ScanPoint.Origin;
    public IReadOnlyDictionary<string, ObjectId> SecretRefs => _secretRefs;

    public bool TryGetObject(ObjectId id, out TarMember member) => _objects.TryGetValue(id, out member);

    public IEnumerable<ObjectId> ObjectIds => _objects.Keys;

    /// <summary>Applies changes; returns every ref update, in file order (readers validate each in turn).</summary>
    public List<(string Id, ObjectId Tip)> Apply(ScanResult scan, string fileLabel)
    {
        var moved = new List<(string Id, ObjectId Tip)>();
        foreach (Change change in scan.Changes)
        {
            foreach (TarMember member in change.Members)
                ApplyMember(member, scan, fileLabel, moved);
            End = new ScanPoint(change.End, change.Sequence, change.RecordHash);
        }
        return moved;
    }

    private void ApplyMember(TarMember member, ScanResult scan, string fileLabel, List<(string Id, ObjectId Tip)> moved)
    {
        string name = member.Name;
        if (name == KeynodeLayout.HeaderMember)
        {
            KeynodeId = KeynodeLayout.ParseHeader(scan.Data(member).ToArray(), fileLabel);
        }
        else if (name == KeynodeLayout.OwnerPublicKeyMember)
        {
            OwnerPublicKey = member;
        }
        else if (name == KeynodeLayout.OwnerSealedKeyMember)
        {
            OwnerSealedKey = member;
        }
        else if (name.StartsWith("objects/", StringComparison.Ordinal) && name.Length == 49
                 && ObjectId.TryParse(name[8..10] + name[11..], out ObjectId id))
        {
            _objects[id] = member;
        }
        else if (name.StartsWith(KeynodeLayout.SecretRefPrefix, StringComparison.Ordinal) && !name.EndsWith('/'))
        {
            string secretId = name[KeynodeLayout.SecretRefPrefix.Length..];
            string text = System.Text.Encoding.ASCII.GetString(scan.Data(member)).Trim();
            if (!ObjectId.TryParse(text, out ObjectId tip))
                throw PolykeyException.Failed($"keynode {fileLabel} has a malformed ref {name}", "run 'pk verify' for a full report");
            _secretRefs[secretId] = tip;
            moved.Add((secretId, tip));
        }
        // Other members (HEAD, config, directories) make the archive a git repository; nothing to track.
    }
}
