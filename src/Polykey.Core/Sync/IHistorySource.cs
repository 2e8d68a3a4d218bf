using Polykey.Core.Crypto;
using Polykey.Core.Git;

namespace Polykey.Core.Sync;

/// <summary>
/// Another keynode's histories as a transport offers them: its id and owner, the tip it holds
/// of each history, and its objects as stored (zlib-compressed loose objects). Nothing here is
/// trusted: the receiver checks every object's name, every signature and every rule.
/// </summary>
public interface IHistorySource
{
    /// <summary>Where the histories come from, for messages (a path or URL).</summary>
    string Location { get; }

    string KeynodeId { get; }

    Identity Owner { get; }

    /// <summary>The tip of each history the source holds, by history id.</summary>
    IReadOnlyDictionary<string, ObjectId> Tips { get; }

    /// <summary>An object as stored (compressed), or null when the source lacks it.</summary>
    byte[]? ReadStored(ObjectId id);
}
