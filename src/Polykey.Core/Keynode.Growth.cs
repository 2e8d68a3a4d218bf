using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core;

/// <summary>
/// How much of the file its newest versions need: every version stores its whole value, so a
/// secret rewritten often (an app saving a file through the mount every second) grows the file
/// without bound, and only `pk gc --keep-versions` gives the space back.
/// </summary>
/// <param name="FileBytes">The keynode file's size.</param>
/// <param name="TipBytes">The stored (encrypted) size of every history's newest version.</param>
/// <param name="Histories">Accepted histories.</param>
public sealed record Footprint(long FileBytes, long TipBytes, int Histories)
{
    /// <summary>Below this a keynode is never called outgrown: small files are cheap, whatever their history.</summary>
    public const long OutgrownFromBytes = 64L << 20;

    /// <summary>How many times what its newest versions need a file may be before it is called outgrown.</summary>
    public const int OutgrownRatio = 8;

    /// <summary>What one version costs beside its value: commit (with its armored signature), tree, tar headers and padding.</summary>
    public const long OverheadPerHistory = 4096;

    /// <summary>What the file would roughly be with only the newest version of each history.</summary>
    public long NewestBytes => TipBytes + OverheadPerHistory * Histories;

    /// <summary>The file is at least 64 MiB and more than 8 times what its newest versions need: mostly old values.</summary>
    public bool Outgrown => FileBytes >= OutgrownFromBytes && FileBytes > OutgrownRatio * NewestBytes;
}

public sealed partial class Keynode
{
    /// <summary>
    /// The file's size against what its newest versions need. Needs no key (stored sizes only),
    /// but reads each history's newest commit and tree: O(histories), so callers ask seldom.
    /// </summary>
    public Footprint Measure()
    {
        lock (_gate)
        {
            long tips = 0;
            foreach (ObjectId tip in _accepted.Values)
            {
                try
                {
                    if (VersionBlob(tip, ReadCommit(tip)).Blob is var blob && _state.TryGetObject(blob, out TarMember member)) tips += member.Size;
                }
                catch (PolykeyException)
                {
                    // damage is reported by 'pk verify'; a measure only estimates
                }
            }
            return new Footprint(RandomAccess.GetLength(_file.Handle), tips, _accepted.Count);
        }
    }
}
