using System.Text;
using Polykey.Core.Access;
using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Owner;
using Polykey.Core.Storage;

namespace Polykey.Core;

/// <summary>
/// Owner key rotation: one change that moves the owner to a new key (a transition signed by both
/// keys), re-encrypts every secret of this keynode to the new key and current grantees, and signs
/// the access list, rules views and as-of statement again with it.
/// </summary>
public sealed partial class Keynode
{
    /// <summary>What a rotation did: the keys, and how many histories got a version by the new key.</summary>
    public sealed record RotationReport(string From, string To, DateTimeOffset Time, int Reencrypted);

    /// <summary>
    /// Moves the owner to <paramref name="next"/>. A keynode that seals its owner key seals the new
    /// one too, under <paramref name="passphrase"/> (by default the passphrase it was opened with):
    /// its passphrase keeps opening it. Otherwise the caller keeps the new key (a key file).
    /// </summary>
    public RotationReport Rotate(SecretIdentity next, byte[]? passphrase = null, IProgress<Sync.TransferProgress>? progress = null)
    {
        SecretIdentity old = Unlock();
        if (!old.CanSign) throw PolykeyException.Denied($"the credential for {Path} is read-only; only the owner's signing key can rotate it");
        if (!next.CanSign) throw PolykeyException.Usage("the new owner key must be able to sign (not a read-only credential)");
        passphrase = passphrase is not null ? (byte[])passphrase.Clone() : SealsOwnerKey && _credential is Credential.Passphrase p ? p.Read() : null;
        if (SealsOwnerKey && passphrase is null)
            throw PolykeyException.Usage($"{Path} seals its owner key under a passphrase: give the passphrase too, so the new key is sealed under it");
        try
        {
            lock (_gate)
            using (LockForWriting())
            {
                ReadNewChanges();
                OwnerChain chain = ChainOf(Id)!;
                if (old.Public.Fingerprint != chain.Current.Fingerprint)
                    throw PolykeyException.Denied($"{old.Public.Fingerprint} is not the current owner key of {Path}");
                if (Revoked(Id, chain.Current.Fingerprint))
                    throw PolykeyException.Denied($"the owner key of {Path} was revoked as compromised; a revoked key cannot hand the keynode on",
                        "make a new keynode (pk init) and copy the secrets into it");
                if (chain.Find(next.Public.Fingerprint) is not null) throw PolykeyException.Usage($"{next.Public.Fingerprint} was an owner key of {Path} already");
                // Whole seconds: the commit holds whole seconds, and the statement must say the same time.
                DateTimeOffset now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
                var members = new List<PendingMember>();
                string ownerHistory = OwnerHistoryId(Id);
                ObjectId? ownerTip = _accepted.TryGetValue(ownerHistory, out ObjectId t) ? t : null;
                members.AddRange(VersionBuilder.BuildStatement(ownerHistory, Id, ownerTip, (ownerTip is { } o ? SequenceOf(o) : 0) + 1,
                    VersionKind.OwnerTransition, OwnerTransition.Write(Id, old.Public.Fingerprint, next, now), now, old).Members);
                if (passphrase is not null) members.Add(new PendingMember(KeynodeLayout.OwnerSealedKeyMember, KeyVault.Seal(next, passphrase)));
                int reencrypted;
                _rotatingTo = next.Public;
                try
                {
                    reencrypted = ReencryptFor(next, now, members, progress);
                    Change written = _file.WriteChange(_state.End, _state.WriteAt, members, now);
                    _checkedUpTo = new ScanPoint(written.End, written.Sequence, written.RecordHash);
                    _rotatingTo = null;
                    _identity = next;
                    ReadNewChanges();
                    if (_index is null && Memo() is not null) MovedIndex();
                    else Index();
                    RememberScanPoint();
                }
                finally
                {
                    _rotatingTo = null;
                    _ownVersions.Clear();
                    _ownForeign.Clear();
                }
                if (Owner.Fingerprint != next.Public.Fingerprint)
                    throw PolykeyException.Failed($"the rotation of {Path} was written but not accepted on reading it back: {string.Join("; ", Warnings)}", "run 'pk verify' for a full report");
                return new RotationReport(old.Public.Fingerprint, next.Public.Fingerprint, now, reencrypted);
            }
        }
        finally
        {
            if (passphrase is not null) Array.Clear(passphrase);
        }
    }

    // A version by the new key of every history of this keynode, each readable by whoever may read it now.
    private int ReencryptFor(SecretIdentity next, DateTimeOffset now, List<PendingMember> members, IProgress<Sync.TransferProgress>? progress)
    {
        AccessList access = CurrentAccess();
        string ownerHistory = OwnerHistoryId(Id);
        var histories = _accepted.Where(h => h.Key != ownerHistory && OriginOf(ReadCommit(h.Value)) == Id).ToList();
        int done = 0;
        try
        {
            foreach ((string id, ObjectId tip) in histories)
            {
                if (done++ % 256 == 0) progress?.Report(new Sync.TransferProgress("re-encrypting", done - 1, histories.Count));
                VersionKind? kind = KindOfCommit(tip);
                if (kind is null or VersionKind.OwnerTransition or VersionKind.OwnerRevocation) continue;
                (string path, SecretBytes value, VersionKind _) = ReadVersion(tip);
                using (value)
                {
                    IEnumerable<Identity>? readers = kind switch
                    {
                        VersionKind.AccessList or VersionKind.AsOf => [next.Public],
                        VersionKind.Rules => [next.Public, .. RulesReader(access, value.Span)],
                        VersionKind.Pruned => [next.Public, .. access.Grants.Select(g => g.Identity)], // as StatementReaders()
                        _ => null, // a secret's readers: the new owner and every grantee whose read covers it
                    };
                    if (kind == VersionKind.AccessList) _pendingAccess = access;
                    members.AddRange(Version(id, Id, tip, path, value.Span, kind.Value, next, now, readers));
                }
            }
        }
        finally
        {
            _pendingAccess = null; // as Apply does: a failed rotation must not leave it to the next edit
        }
        return histories.Count;
    }

    // The grantee a rules view is for (still granted, or revoked and told so), if this list knows it.
    private static IEnumerable<Identity> RulesReader(AccessList access, ReadOnlySpan<byte> view)
    {
        string? grantee = AccessList.Parse(view).For;
        return access.Known.Where(i => i.Fingerprint == grantee).Take(1);
    }

    /// <summary>Whether <paramref name="fingerprint"/> is a key this keynode's owner held before the current one.</summary>
    private bool FormerOwnerKey(string fingerprint)
    {
        lock (_gate)
        {
            OwnerChain chain = ChainOf(Id)!;
            return chain.Find(fingerprint) is { RotatedAt: not null };
        }
    }

    private PolykeyException FormerOwnerCredential(Credential.KeyFile keyFile) =>
        PolykeyException.Denied(
            $"{keyFile.Source} holds former owner key {keyFile.Identity.Public.Fingerprint} of {Path}; the owner moved to {Owner.Fingerprint}, so this credential opens nothing written since",
            "export a new one where the new key is: pk identity export --secret (or --read-only) -o FILE");
}
