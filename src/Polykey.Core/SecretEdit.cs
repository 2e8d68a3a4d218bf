namespace Polykey.Core;

/// <summary>One edit of a batch that <see cref="Keynode.Commit"/> writes as a single atomic change.</summary>
public abstract record SecretEdit
{
    private SecretEdit() { }

    /// <summary>A new version with this value (a new secret when the path is unknown).</summary>
    public sealed record Set(string Path, byte[] Value) : SecretEdit;

    /// <summary>Removes a live secret; its history is kept.</summary>
    public sealed record Remove(string Path) : SecretEdit;

    /// <summary>Renames a live secret; its history moves with it.</summary>
    public sealed record Move(string Source, string Destination) : SecretEdit;

    /// <summary>Settles a conflict: a version that keeps one side's value and descends from both tips.</summary>
    public sealed record Resolve(string Path, bool Theirs) : SecretEdit;

    /// <summary>Records an (empty) directory, so that it survives remounts.</summary>
    public sealed record MakeDirectory(string Path) : SecretEdit;

    /// <summary>Drops a directory record.</summary>
    public sealed record RemoveDirectory(string Path) : SecretEdit;

    /// <summary>Replaces the access list; edits after it in the batch encrypt to its readers.</summary>
    internal sealed record SetAccess(Polykey.Core.Access.AccessList List) : SecretEdit;

    /// <summary>A new "as of" statement: the owner says, signed, that its keynode stood like this now.</summary>
    internal sealed record StampAsOf : SecretEdit;

    /// <summary>The owner's signed word that the values of these old versions may be missing (pk gc's retention).</summary>
    internal sealed record StatePruned(PrunedStatement Statement) : SecretEdit;

    /// <summary>Tells one grantee what it needs of the access list (its rules view), readable by it alone.</summary>
    internal sealed record SetRules(Polykey.Core.Crypto.Identity Grantee, Polykey.Core.Access.AccessList View) : SecretEdit;
}
