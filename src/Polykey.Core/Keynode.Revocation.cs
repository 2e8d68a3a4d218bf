using System.Globalization;
using System.Text;
using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Owner;
using Polykey.Core.Storage;

namespace Polykey.Core;

/// <summary>
/// Owner revocation certificates: made (and signed) by the owner key while the owner has it, kept
/// offline, applied by anyone who holds the certificate, even after the key is lost. Applied, it
/// is the one version of a history of its own, so it travels with every push and pull like the
/// as-of statement, and from the change where a reader meets it that key signs nothing new.
/// </summary>
public sealed partial class Keynode
{
    private const string CertificateMagic = "polykey-owner-revocation-certificate 1";

    /// <summary>Bigger certificates are refused unread: three small objects fit in a few KiB.</summary>
    private const int MaxCertificateBytes = 64 * 1024;

    /// <summary>A revocation certificate for the current owner key (text; keep it offline: whoever holds it can apply it).</summary>
    public byte[] MakeOwnerRevocation()
    {
        SecretIdentity signer = Unlock();
        if (!signer.CanSign) throw PolykeyException.Denied($"the credential for {Path} is read-only; only the owner's signing key can make a revocation certificate");
        lock (_gate)
        {
            if (signer.Public.Fingerprint != Owner.Fingerprint) throw PolykeyException.Denied($"{signer.Public.Fingerprint} is not the current owner key of {Path}");
            DateTimeOffset now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
            string historyId = RevocationHistoryId(Id, signer.Public.Fingerprint);
            (ObjectId tip, List<PendingMember> members) = VersionBuilder.BuildStatement(historyId, Id, null, 1, VersionKind.OwnerRevocation,
                OwnerRevocation.Write(Id, signer.Public.Fingerprint, now), now, signer);
            var text = new StringBuilder();
            text.Append(CertificateMagic).Append('\n')
                .Append("keynode ").Append(Id).Append('\n')
                .Append("key ").Append(signer.Public.Fingerprint).Append('\n')
                .Append("made ").Append(now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)).Append('\n')
                .Append("commit ").Append(tip.Hex).Append('\n');
            // The objects, oldest first (blob, tree, commit), as the file stores them.
            foreach (PendingMember member in members.Where(m => m.Name.StartsWith("objects/", StringComparison.Ordinal)))
                text.Append("object ").Append(member.Name[8..10]).Append(member.Name[11..]).Append(' ').Append(Convert.ToBase64String(member.Data!)).Append('\n');
            return Encoding.ASCII.GetBytes(text.ToString());
        }
    }

    /// <summary>
    /// Applies a revocation certificate: checks it as any reader will (signed by an owner key of
    /// this keynode), then appends it as one change. Needs no key. Returns the revoked key.
    /// </summary>
    public string ApplyOwnerRevocation(byte[] certificate, string source)
    {
        (string keynode, string key, ObjectId commit, Dictionary<ObjectId, byte[]> objects) = ParseCertificate(certificate, source);
        if (keynode != Id) throw PolykeyException.Failed($"{source} revokes an owner key of keynode {keynode}, not of {Path} ({Id})");
        string historyId = RevocationHistoryId(Id, key);
        lock (_gate)
        using (LockForWriting())
        {
            ReadNewChanges();
            if (_accepted.TryGetValue(historyId, out ObjectId held))
            {
                if (held == commit) return key;
                throw PolykeyException.Conflict($"owner key {key} of {Path} is revoked already, by another certificate");
            }
            if (ChainOf(Id)!.Find(key) is null) throw PolykeyException.Failed($"{source} revokes key {key}, which was never an owner key of {Path}");
            _incoming = objects;
            try
            {
                string? problem = CheckingAs(_state.End.Sequence + 1, () => CheckMove(historyId, null, commit));
                if (problem is not null) throw PolykeyException.Failed($"{source} is not a valid revocation certificate for {Path}: {problem}");
                Land([new RefMove(historyId, commit, false)]);
            }
            finally
            {
                _incoming = null;
            }
            if (!_accepted.TryGetValue(historyId, out ObjectId now) || now != commit)
                throw PolykeyException.Failed($"the revocation from {source} was written to {Path} but not accepted on reading it back", "run 'pk verify' for a full report");
            return key;
        }
    }

    private static (string Keynode, string Key, ObjectId Commit, Dictionary<ObjectId, byte[]> Objects) ParseCertificate(byte[] certificate, string source)
    {
        PolykeyException Bad(string why) => PolykeyException.Failed($"{source} is not an owner revocation certificate: {why}");
        if (certificate.Length > MaxCertificateBytes) throw Bad("it is too large");
        string[] lines = Encoding.ASCII.GetString(certificate).Split('\n');
        if (lines.Length < 9 || lines[0] != CertificateMagic) throw Bad("it does not start as one");
        string? Field(int i, string name) => lines[i].StartsWith(name + " ", StringComparison.Ordinal) ? lines[i][(name.Length + 1)..] : null;
        string? keynode = Field(1, "keynode"), key = Field(2, "key"), commitHex = Field(4, "commit");
        if (keynode is null || !KeynodeLayout.IsHistoryId(keynode) || key is not { Length: 40 } || commitHex is null || !ObjectId.TryParse(commitHex, out ObjectId commit))
            throw Bad("its header is malformed");
        var objects = new Dictionary<ObjectId, byte[]>();
        foreach (string line in lines.Skip(5).Where(l => l.Length > 0))
        {
            string[] parts = line.Split(' ');
            if (parts.Length != 3 || parts[0] != "object" || !ObjectId.TryParse(parts[1], out ObjectId id) || objects.Count >= 3) throw Bad("an object line is malformed");
            try
            {
                byte[] stored = Convert.FromBase64String(parts[2]);
                LooseObject.Decode(id, stored, OwnerTransition.MaxBytes); // named by its content, and small
                objects[id] = stored;
            }
            catch (Exception e) when (e is FormatException or PolykeyException or DamagedObjectException)
            {
                throw Bad($"object {id} is damaged");
            }
        }
        if (!objects.ContainsKey(commit)) throw Bad("it lacks its commit");
        return (keynode, key, commit, objects);
    }
}
