using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core;

/// <summary>
/// Turns a format-1 or format-2 keynode into format 3: every accepted version is signed again by
/// the owner, now naming its history, origin and number, into a new file that replaces the old one
/// by rename. The old file stays beside it, untouched.
/// </summary>
public sealed partial class Keynode
{
    /// <summary>What an upgrade did: where the old file went and how much moved.</summary>
    public sealed record UpgradeResult(string OldFile, int Histories, int Versions, IReadOnlyList<string> Dropped);

    public static UpgradeResult Upgrade(string path, Credential credential)
    {
        using Keynode old = Open(path, credential, cacheDirectory: null, stateDirectory: null, legacyAllowed: true, trustScanCache: false);
        if (!old.Legacy)
            throw PolykeyException.Usage($"keynode {path} already uses format {KeynodeLayout.FormatVersion}; there is nothing to upgrade");
        old.RequireOwnerSigner("upgrade");
        SecretIdentity owner = old.Unlock();
        lock (old._gate)
        using (old._file.LockExclusive())
        {
            old.ReadNewChanges();
            string backup = FreeName(path + ".format" + old._state.FormatVersion);
            string building = FreeName(path + ".upgrading");
            var first = new List<PendingMember>
            {
                new(KeynodeLayout.HeaderMember, KeynodeLayout.Header(old.Id)),
                new(KeynodeLayout.OwnerPublicKeyMember, old._file.ReadData(old._state.OwnerPublicKey!.Value)),
            };
            if (old._state.OwnerSealedKey is { } sealedKey) first.Add(new(KeynodeLayout.OwnerSealedKeyMember, old._file.ReadData(sealedKey)));
            first.AddRange(KeynodeLayout.GitSkeleton());

            (List<PendingMember> versions, int histories, int count) = old.ResignedHistories(owner);
            try
            {
                using (KeynodeFile created = KeynodeFile.Create(building, first, DateTimeOffset.UtcNow))
                using (created.LockExclusive())
                    created.WriteChange(created.ReadChanges(ScanPoint.Origin), versions, DateTimeOffset.UtcNow);
                File.Move(path, backup);
                File.Move(building, path);
                if (System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)) is { } directory) Native.LibC.FsyncDirectory(directory);
            }
            catch
            {
                if (!File.Exists(path) && File.Exists(backup)) File.Move(backup, path);
                File.Delete(building);
                throw;
            }
            return new UpgradeResult(backup, histories, count, old.Warnings);
        }
    }

    // Every accepted history, oldest version first, as new commits over the same trees and blobs.
    private (List<PendingMember> Members, int Histories, int Versions) ResignedHistories(SecretIdentity owner)
    {
        var members = new List<PendingMember>();
        var copied = new HashSet<ObjectId>();
        int versions = 0;
        int histories = 0;
        foreach ((string oldId, ObjectId tip) in _accepted.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            // Format 1 could be fooled into a second access-list history (a replay); only the one in force moves.
            if (oldId != _accessHistory && KindOfCommit(tip) == VersionKind.AccessList) continue;
            histories++;
            string id = oldId == _accessHistory ? Id : oldId;
            ObjectId? parent = null;
            long sequence = 0;
            foreach ((ObjectId _, Commit commit) in History(tip).AsEnumerable().Reverse())
            {
                IReadOnlyDictionary<string, ObjectId> tree = Tree.Decode(ReadObject(commit.Tree, ObjectType.Tree));
                VersionBuilder.KindOf(tree, out ObjectId blob);
                foreach (ObjectId objectId in new[] { blob, commit.Tree }.Where(copied.Add))
                {
                    _state.TryGetObject(objectId, out TarMember member);
                    members.Add(new PendingMember(objectId.LoosePath, StoredObjects.ReadLoose(_file, objectId, member)));
                }
                var resigned = new Commit(commit.Tree, parent, owner.Public.Fingerprint, commit.Time, new HistoryBinding(id, Id, ++sequence).Message());
                (ObjectId newId, byte[] compressed) = LooseObject.Encode(ObjectType.Commit, resigned.Encode(CommitSignature.Sign(resigned.Payload(), owner)));
                members.Add(new PendingMember(newId.LoosePath, compressed));
                parent = newId;
                versions++;
            }
            members.Add(new PendingMember(KeynodeLayout.SecretRefPrefix + id, System.Text.Encoding.ASCII.GetBytes(parent!.Value.Hex + "\n")));
        }
        // Format 3 tells each grantee its rules, so that what it receives can be checked against them.
        foreach (Polykey.Core.Access.Grant grant in CurrentAccess().Grants)
        {
            string rulesId = RulesHistoryId(Id, grant.Identity.Fingerprint);
            members.AddRange(VersionBuilder.Build(rulesId, Id, null, 1, Polykey.Core.Access.AccessList.RulesMessageName, CurrentAccess().ViewFor(grant).Serialize(),
                VersionKind.Rules, DateTimeOffset.UtcNow, owner, [Owner, grant.Identity]).Members);
        }
        return (members, histories, versions);
    }

    private static string FreeName(string wanted)
    {
        string name = wanted;
        for (int i = 2; File.Exists(name); i++) name = $"{wanted}.{i}";
        return name;
    }
}
