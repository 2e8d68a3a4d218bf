namespace Polykey.Core;

/// <summary>
/// Every length pk reads from a keynode, a stream or a file is checked against one of these
/// before it is trusted (docs/keynode-format.md, "Limits").
/// </summary>
public static class Limits
{
    /// <summary>The largest value any writer may store; readers refuse objects that would hold more.</summary>
    public const long MaxValueBytes = 1L << 30;

    /// <summary>What `pk set` and the mount accept unless told otherwise (`--max-size`).</summary>
    public const long DefaultMaxValueBytes = 64L << 20;

    /// <summary>A passphrase file or stream longer than this is refused, not read on.</summary>
    public const int MaxPassphraseBytes = 4096;

    /// <summary>Members read whole into memory (header, owner key, sealed key, refs, change records).</summary>
    public const int MaxSmallMemberBytes = 64 << 10;

    /// <summary>Objects in one packfile (docs/keynode-format.md §4.3); a writer with more writes several packs.</summary>
    public const int MaxPackObjects = 1 << 21;

    /// <summary>A pack's index: its fixed parts and, per object, an id, a CRC, an offset and at most one 64-bit offset.</summary>
    public const long MaxPackIndexBytes = 8 + 1024 + 36L * MaxPackObjects + 40;

    /// <summary>Entries of one packed-refs member; a writer with more keeps the rest of its refs loose.</summary>
    public const int MaxPackedRefs = 1 << 20;

    /// <summary>A packed-refs member: its header line and one line per entry, each at most 40 + 1 + 46 + 1 bytes.</summary>
    public const int MaxPackedRefsBytes = 128 + 88 * MaxPackedRefs;

    /// <summary>Commits and trees: a few hundred bytes each when pk writes them.</summary>
    public const int MaxMetadataObjectBytes = 1 << 20;

    /// <summary>What one push or pull may carry (held in memory until it lands as one change).</summary>
    public const long MaxTransferBytes = 4L << 30;

    /// <summary>Commits walked in another keynode's file to compare two tips, before giving up (a conflict then).</summary>
    public const int MaxHistoryWalk = 1 << 20;

    /// <summary>How long a command waits for another process's writer lock before giving up.</summary>
    public static readonly TimeSpan DefaultLockWait = TimeSpan.FromSeconds(30);
}
