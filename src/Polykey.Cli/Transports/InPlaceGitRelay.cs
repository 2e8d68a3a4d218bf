using Polykey.Core;
using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Sync;

namespace Polykey.Cli.Transports;

/// <summary>
/// A git relay on this machine (file:// or a path), read in place for a pull: refs and loose
/// objects straight from git's files, packed objects through one `git cat-file --batch` started
/// only when one is needed. A fetch into a cache would copy the same bytes through five git
/// processes first; reading them where they lie is what git's own local transport does too.
/// Everything read is bounded and checked by the receiver as from any relay.
/// </summary>
internal sealed class InPlaceGitRelay : IHistoryTarget
{
    private readonly string _gitDir;
    private readonly Dictionary<string, ObjectId> _tips = new(StringComparer.Ordinal);
    private GitObjectReader? _git;
    private long _served;

    private InPlaceGitRelay(string gitDir, string location)
    {
        _gitDir = gitDir;
        Location = location;
    }

    public string Location { get; }
    public RelayIdentity Identity { get; private set; } = null!;
    public string KeynodeId => Identity.KeynodeId;
    public Identity Owner => Identity.Owner;
    public IReadOnlyDictionary<string, ObjectId> Tips => _tips;

    /// <summary>
    /// Opens the relay in <paramref name="gitDir"/>. When its identity ref names the commit
    /// <paramref name="expected"/> makes, that is its identity (the commit's name covers every
    /// byte of it) and no object is read for it.
    /// </summary>
    public static InPlaceGitRelay Open(string gitDir, string url, RelayIdentity? expected)
    {
        string location = GitProcess.Redact(url);
        Dictionary<string, string> refs = LocalGitRepository.ReadRefs(gitDir, [RelayIdentity.Ref, GitRelay.SecretRefPrefix], location);
        var relay = new InPlaceGitRelay(gitDir, location);
        try
        {
            if (!refs.TryGetValue(RelayIdentity.Ref, out string? identityCommit))
                throw refs.Count == 0 && LocalGitRepository.ReadRefs(gitDir, ["refs/"], location).Count == 0
                    ? PolykeyException.Failed($"{location} is an empty git repository: no keynode was pushed to it yet",
                        "its keynode's owner makes it a relay: pk remote add NAME URL, then pk push NAME")
                    : PolykeyException.Failed($"{location} is a git repository but not a pk relay: it has no {RelayIdentity.Ref}",
                        "name an empty repository (pk makes it a relay with the first push) or one pk pushed to");
            relay.Identity = expected is not null && expected.CommitHex() == identityCommit
                ? expected
                : RelayIdentity.Read(relay.Git, RelayIdentity.Ref, location);
            GitRelay.AddTips(refs, relay._tips);
            return relay;
        }
        catch
        {
            relay.Dispose();
            throw;
        }
    }

    private GitObjectReader Git => _git ??= new GitObjectReader(_gitDir);

    public byte[]? ReadStored(ObjectId id)
    {
        // Zlib of any object pk writes is never much larger than the object itself.
        long maxStored = Limits.MaxValueBytes + Limits.MaxMetadataObjectBytes + (1 << 20);
        if (LocalGitRepository.ReadLooseObject(_gitDir, id.Hex, maxStored, Location) is { } stored)
        {
            // Its header, bounded as cat-file's would be: the size git says, before a byte of content is taken.
            (ObjectType type, long size) = LooseObject.Header(id, stored);
            string kind = type.ToString().ToLowerInvariant();
            if (type != ObjectType.Blob && size > Limits.MaxMetadataObjectBytes)
                throw PolykeyException.Failed($"{Location}'s {kind} {id} holds {size} bytes, more than any pk {kind}");
            GitRelay.CountServed(size, Location, ref _served);
            return stored;
        }
        return GitRelay.ReadThroughGit(Git, id, Location, ref _served);
    }

    public void Write(OutgoingChange change) =>
        throw new InvalidOperationException("a relay read in place only serves pulls; a push goes through the relay's cache");

    public void Dispose() => _git?.Dispose();
}
