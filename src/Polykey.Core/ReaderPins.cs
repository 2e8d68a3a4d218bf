using System.Globalization;
using Polykey.Core.Git;

namespace Polykey.Core;

/// <summary>
/// What this user's pk accepted from a keynode before, kept outside the file
/// (<c>{state}/polykey/{keynode id}.pins</c>, mode 0600): the owner's fingerprint and the
/// newest access-list version (sequence and commit). Whoever can rewrite the keynode cannot
/// reach these, so a swapped owner or a rolled-back access list is refused however it was made.
/// </summary>
internal sealed class ReaderPins
{
    private const string Magic = "polykey-pins 1";
    private readonly string? _path;

    private ReaderPins(string? path) => _path = path;

    public string? Owner { get; private set; }
    public long AccessSequence { get; private set; }
    public ObjectId? AccessCommit { get; private set; }

    /// <summary>The owner's current key, and the owner-history version that named it (none before a rotation).</summary>
    public string? CurrentOwner { get; private set; }
    public long OwnerSequence { get; private set; }
    public ObjectId? OwnerCommit { get; private set; }

    /// <summary>Owner keys this user saw revoked: a file that no longer revokes one was rolled back.</summary>
    public IReadOnlySet<string> RevokedKeys => _revoked;
    private readonly SortedSet<string> _revoked = new(StringComparer.Ordinal);

    public string Location => _path ?? "(none)";

    public static ReaderPins For(string? stateDirectory, string keynodeId)
    {
        var pins = new ReaderPins(stateDirectory is null ? null : Path.Combine(stateDirectory, "polykey", keynodeId + ".pins"));
        pins.Load();
        return pins;
    }

    private void Load()
    {
        if (_path is null || !File.Exists(_path)) return;
        string[] lines;
        try
        {
            if (new FileInfo(_path).Length > 4096) throw Unreadable();
            lines = File.ReadAllLines(_path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unreadable();
        }
        if (lines.Length == 0 || lines[0] != Magic) throw Unreadable();
        foreach (string line in lines.Skip(1))
        {
            string[] parts = line.Split(' ');
            switch (parts[0])
            {
                case "owner" when parts.Length == 2 && parts[1].Length == 40:
                    Owner = parts[1];
                    break;
                case "access" when parts.Length == 3 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long sequence)
                                   && ObjectId.TryParse(parts[2], out ObjectId commit):
                    AccessSequence = sequence;
                    AccessCommit = commit;
                    break;
                case "current" when parts.Length == 4 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long number)
                                    && ObjectId.TryParse(parts[2], out ObjectId named) && parts[3].Length == 40:
                    OwnerSequence = number;
                    OwnerCommit = named;
                    CurrentOwner = parts[3];
                    break;
                case "revoked" when parts.Length == 2 && parts[1].Length == 40 && _revoked.Count < MaxRevokedKeys:
                    _revoked.Add(parts[1]);
                    break;
                default:
                    throw Unreadable();
            }
        }
    }

    private PolykeyException Unreadable() =>
        PolykeyException.Failed($"the reader pins at {_path} are unreadable", "remove that file to pin the keynode afresh");

    /// <summary>Records the owner and the newest access list; written only when something changed.</summary>
    public void Save(string owner, long accessSequence, ObjectId? accessCommit)
    {
        if (_path is null || (Owner == owner && AccessSequence == accessSequence && AccessCommit == accessCommit)) return;
        Owner = owner;
        AccessSequence = accessSequence;
        AccessCommit = accessCommit;
        Write();
    }

    /// <summary>Follows the owner to the key its newest accepted transition names; written only when it moved.</summary>
    public void SaveOwner(long sequence, ObjectId commit, string current)
    {
        if (_path is null || Owner is null || (OwnerSequence == sequence && OwnerCommit == commit)) return;
        OwnerSequence = sequence;
        OwnerCommit = commit;
        CurrentOwner = current;
        Write();
    }

    /// <summary>Most revoked owner keys a pins file remembers (each one took a rotation or a certificate).</summary>
    private const int MaxRevokedKeys = 1024;

    /// <summary>Remembers owner keys seen revoked; written only when one is new.</summary>
    public void SaveRevoked(IEnumerable<string> keys)
    {
        if (_path is null || Owner is null) return;
        int before = _revoked.Count;
        // Bounded as Parse reads them: a file it would refuse must never be written.
        foreach (string key in keys)
            if (_revoked.Count < MaxRevokedKeys) _revoked.Add(key);
        if (_revoked.Count != before) Write();
    }

    private void Write()
    {
        string text = $"{Magic}\nowner {Owner}\n"
            + (AccessCommit is { } c ? $"access {AccessSequence.ToString(CultureInfo.InvariantCulture)} {c.Hex}\n" : "")
            + (OwnerCommit is { } o ? $"current {OwnerSequence.ToString(CultureInfo.InvariantCulture)} {o.Hex} {CurrentOwner}\n" : "")
            + string.Concat(_revoked.Select(k => $"revoked {k}\n"));
        // An unwritable state directory costs only the protection across opens, not this open.
        PrivateFile.TryReplace(_path!, System.Text.Encoding.ASCII.GetBytes(text), durable: true);
    }
}
