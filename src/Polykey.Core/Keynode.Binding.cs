using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core;

/// <summary>
/// What a commit means must match where it stands: its signed history id is the ref it is
/// under, its version number follows its parent's, and the access list lives only in the
/// keynode's own history (whose id is the keynode id). The newest accepted access list is
/// pinned outside the file, so an older one cannot come back.
/// </summary>
public sealed partial class Keynode
{
    /// <summary>An older format, read only to be upgraded.</summary>
    private bool Legacy => _state.FormatVersion < KeynodeLayout.FormatVersion;

    /// <summary>
    /// Why <paramref name="commit"/> cannot be a version of history <paramref name="historyId"/>,
    /// or null. A commit verified before had its number checked then; its id binding is checked
    /// against every ref that names it.
    /// </summary>
    private string? MeaningProblem(string historyId, ObjectId id, Commit commit, bool verifiedBefore)
    {
        if (_state.FormatVersion == KeynodeLayout.LegacyFormatVersion) return null; // format 1 names nothing; read only to be upgraded
        if (HistoryBinding.TryParse(commit.Message) is not { } binding)
            return $"commit {id} does not name the history it belongs to";
        if (binding.HistoryId != historyId)
            return $"commit {id} is a version of history {binding.HistoryId[..8]}, not of {historyId[..8]} (a version replayed under another id)";
        if (OriginOf(commit) is not { } origin)
            return $"commit {id} does not name the keynode its history belongs to";
        // Trust in another keynode can be withdrawn: asked every time, verified before or not.
        if (OriginOwner(origin) is null)
            return $"commit {id} belongs to keynode {origin[..8]}, which this keynode takes no histories from (no remote names it)";
        // An owner key's time can end after its signature was checked: asked every time too.
        if (OwnerWindowProblem(historyId, id, commit, origin) is { } outside) return outside;
        if (verifiedBefore) return null; // its number, origin and kind were checked when it was verified, and cannot change
        long expected = commit.Parents.Select(SequenceOf).DefaultIfEmpty(0).Max() + 1;
        if (binding.Sequence != expected)
            return $"commit {id} says it is version {binding.Sequence} but follows version {expected - 1}";
        if (commit.Parents.Any(p => OriginOf(ReadCommit(p)) != origin))
            return $"commit {id} moves history {historyId[..8]} to another keynode's rules";
        if (commit.Merged is not null && KindOfCommit(id) is not (VersionKind.Value or VersionKind.Removed))
            return $"commit {id} merges two versions of a history that cannot have conflicts";
        if (KindOfCommit(id) == VersionKind.AsOf && historyId != AsOfHistoryId(origin))
            return $"commit {id} is an as-of statement outside its keynode's as-of history";
        if (PrunedPlacementProblem(historyId, id, origin) is { } misplaced) return misplaced;
        if (StatementProblem(historyId, id, commit, origin) is { } statement) return statement;
        bool isAccess = KindOfCommit(id) == VersionKind.AccessList;
        if (isAccess && origin != Id)
            return $"commit {id} holds another keynode's access list";
        if (isAccess != (historyId == Id))
            return isAccess
                ? $"commit {id} holds an access list outside the keynode's access history"
                : $"commit {id} is not an access list but stands in the access history";
        return null;
    }

    private bool IsAccessHistory(string historyId, ObjectId tip) =>
        Legacy ? KindOfCommit(tip) == VersionKind.AccessList : historyId == Id;

    /// <summary>A commit's signed version number (format 2).</summary>
    private long SequenceOf(ObjectId id) =>
        HistoryBinding.TryParse(ReadCommit(id).Message)?.Sequence
        ?? throw PolykeyException.Failed($"commit {id} in {Path} does not name its history", "run 'pk verify' for a full report");

    /// <summary>
    /// Compares the accepted access list with the pinned one: at open an older list (a rolled-back
    /// or replaced file) or a different one of the same age is refused; then the pin moves up.
    /// </summary>
    private void PinAccessList(bool atOpen)
    {
        if (_pins is null || Legacy) return;
        ObjectId? tip = _accessHistory is null ? null : _accepted[_accessHistory];
        long sequence = tip is { } t ? SequenceOf(t) : 0;
        if (atOpen && _pins.AccessCommit is { } pinned)
        {
            string hint = $"if you restored an older copy on purpose, remove {_pins.Location} and open it again";
            if (sequence < _pins.AccessSequence)
                throw PolykeyException.Failed(
                    $"keynode {Path} holds access list version {sequence}, older than version {_pins.AccessSequence} this user accepted before: the file was rolled back or replaced",
                    hint);
            if (!Descends(tip!.Value, pinned, _pins.AccessSequence))
                throw PolykeyException.Failed(
                    $"keynode {Path} holds an access list that does not continue the one this user accepted before (version {_pins.AccessSequence}): the file was replaced",
                    hint);
        }
        _pins.Save(FirstOwner.Fingerprint, sequence, tip);
        PinOwnerHistory(atOpen);
    }

    /// <summary>
    /// Compares the accepted owner history with the pinned one, as for the access list: a file
    /// that lost a rotation this user saw (rolled back by whoever still holds the old key) is
    /// refused; then the pin follows the owner to its current key.
    /// </summary>
    private void PinOwnerHistory(bool atOpen)
    {
        if (_pins is null) return;
        ObjectId? tip = _accepted.TryGetValue(OwnerHistoryId(Id), out ObjectId t) ? t : null;
        long sequence = tip is { } at ? SequenceOf(at) : 0;
        if (atOpen && _pins.OwnerCommit is { } pinned && (sequence < _pins.OwnerSequence || !Descends(tip!.Value, pinned, _pins.OwnerSequence)))
            throw PolykeyException.Failed(
                $"keynode {Path} holds owner key {Owner.Fingerprint}, but this user saw its owner move to {_pins.CurrentOwner} (owner history version {_pins.OwnerSequence}): the file was rolled back or replaced",
                $"if you restored an older copy on purpose, remove {_pins.Location} and open it again");
        if (tip is { } current) _pins.SaveOwner(sequence, current, Owner.Fingerprint);
        List<string> chainKeys = ChainOf(Id)!.Keys.Select(k => k.Key.Fingerprint).ToList();
        if (atOpen && _pins.RevokedKeys.FirstOrDefault(k => !Revoked(Id, k)) is { } lost)
            throw PolykeyException.Failed(
                $"keynode {Path} no longer holds the revocation of owner key {lost} that this user saw: the file was rolled back or replaced",
                $"apply the revocation certificate again (pk identity revoke-owner), or remove {_pins.Location} and open it again");
        _pins.SaveRevoked(chainKeys.Where(k => Revoked(Id, k)));
    }

    private bool Descends(ObjectId tip, ObjectId ancestor, long ancestorSequence)
    {
        for (ObjectId? at = tip; at is { } id; at = ReadCommit(id).Parent)
        {
            if (id == ancestor) return true;
            if (SequenceOf(id) <= ancestorSequence) return false;
        }
        return false;
    }
}
