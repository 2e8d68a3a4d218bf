using System.Text;
using Polykey.Core;
using Polykey.Core.Crypto;
using Polykey.Core.Git;
using Polykey.Core.Sync;

namespace Polykey.Cli.Transports;

/// <summary>
/// A keynode's histories kept in an ordinary bare git repository, reached with the real git
/// client (docs/git-relay.md). Opening it fetches the relay into a local cache repository;
/// tips come from the cache's refs/secrets/*, objects from one `git cat-file --batch`; a write
/// is one `git push --atomic` whose leases make it land whole or not at all. The relay holds
/// only ciphertext and public metadata, and everything read from it is bounded: whoever
/// receives checks every object, signature and rule.
/// </summary>
internal sealed class GitRelay : IHistoryTarget
{
    public const string SecretRefPrefix = "refs/secrets/";

    // Where a fetch puts the relay's identity, compared with the one the cache knew before it is taken.
    private const string FetchedIdentityRef = "refs/polykey/fetched";

    /// <summary>Most refs a relay may list: twenty per secret of a 10,000-secret keynode.</summary>
    public const int MaxRefs = 200_000;

    private const int MaxRefLineBytes = 200;

    private readonly string _url;
    private readonly string _cache;
    private readonly RelayCache.Lease _lease;
    private readonly GitObjectReader _objects;
    private readonly Dictionary<string, ObjectId> _tips = new(StringComparer.Ordinal);
    private bool _claimed; // an empty relay: the identity is pushed along with the first change
    private long _served;

    private GitRelay(string url, string cache, RelayCache.Lease lease, RelayIdentity identity, bool claimed)
        : this(url, cache, lease, new GitObjectReader(cache), identity, claimed)
    {
    }

    private GitRelay(string url, string cache, RelayCache.Lease lease, GitObjectReader objects, RelayIdentity identity, bool claimed)
    {
        _url = url;
        _cache = cache;
        _lease = lease;
        _objects = objects;
        Identity = identity;
        _claimed = claimed;
    }

    public string Location => GitProcess.Redact(_url);
    public RelayIdentity Identity { get; }
    public string KeynodeId => Identity.KeynodeId;
    public Identity Owner => Identity.Owner;
    public IReadOnlyDictionary<string, ObjectId> Tips => _tips;

    public static bool IsHistoryId(string id) => id.Length == 32 && !id.AsSpan().ContainsAnyExcept("0123456789abcdef");

    /// <summary>
    /// Fetches the relay at <paramref name="url"/> into its cache. An empty repository becomes the
    /// relay of <paramref name="claim"/> (when there is one) with the first push; a repository pk
    /// never pushed to, or one that now carries another keynode than the cache knew, is an error.
    /// </summary>
    /// <param name="expected">The identity the puller pinned, if any: when the fetched identity is that one, it is not read again.</param>
    public static GitRelay Open(string url, RelayIdentity? claim, RelayIdentity? expected = null)
    {
        string location = GitProcess.Redact(url);
        string cache = RelayCache.Prepare(url);
        // One pk at a time per cache: a second fetch or push into it waits instead of failing on git's ref locks.
        RelayCache.Lease lease = RelayCache.Take(cache);
        GitRelay? relay = null;
        try
        {
            // A relay this cache fetched before is fetched straight away (the fetch says whether it is
            // reachable, and the identity it brings is checked): one git conversation, not two.
            if (FetchedBefore(cache))
            {
                Fetch(url, location, cache);
                CompactIfDue(cache, location);
                return relay = Fetched(url, cache, lease, location, expected);
            }
            Dictionary<string, string> refs = ListRemote(url, location);
            if (refs.Count == 0)
            {
                if (claim is null)
                    throw PolykeyException.Failed($"{location} is an empty git repository: no keynode was pushed to it yet",
                        "its keynode's owner makes it a relay: pk remote add NAME URL, then pk push NAME");
                return new GitRelay(url, cache, lease, claim, claimed: true);
            }
            if (!refs.ContainsKey(RelayIdentity.Ref))
                throw PolykeyException.Failed($"{location} is a git repository but not a pk relay: it has no {RelayIdentity.Ref}",
                    "name an empty repository (pk makes it a relay with the first push) or one pk pushed to");
            Fetch(url, location, cache);
            return relay = Fetched(url, cache, lease, location, expected);
        }
        catch
        {
            if (relay is not null) relay.Dispose();
            else lease.Dispose();
            throw;
        }
    }

    // The relay's refs, bounded in count and length; the one git command that tells whether the relay is reachable at all.
    private static Dictionary<string, string> ListRemote(string url, string location)
    {
        GitResult result = GitProcess.Run(null, ["ls-remote", "--refs", url], maxOutput: MaxRefs * MaxRefLineBytes);
        if (result.ExitCode == -1) throw TooManyRefs(location);
        if (!result.Ok) throw Unreachable(location, result);
        return ParseRefs(result.Stdout, location);
    }

    public static PolykeyException TooManyRefs(string location) =>
        PolykeyException.Failed($"{location} lists more than {MaxRefs} refs; a pk relay holds far fewer");

    /// <summary>The histories a relay's refs name (refs/secrets/&lt;id&gt;), by history id.</summary>
    public static void AddTips(IReadOnlyDictionary<string, string> refs, Dictionary<string, ObjectId> tips)
    {
        foreach ((string name, string hex) in refs)
        {
            if (!name.StartsWith(SecretRefPrefix, StringComparison.Ordinal)) continue;
            string id = name[SecretRefPrefix.Length..];
            // Anything else under refs/secrets/ cannot be a history: it is not offered (its name would become a member name).
            if (IsHistoryId(id)) tips[id] = new ObjectId(hex);
        }
    }

    public static PolykeyException Unreachable(string location, GitResult result) =>
        PolykeyException.Failed($"cannot reach {location}: {result.Reason()}", "check the URL and that 'git ls-remote URL' works for this user");

    // Lines of "<40 hex> <ref>" (tab or space), from ls-remote or for-each-ref.
    public static Dictionary<string, string> ParseRefs(byte[] output, string location)
    {
        var refs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in Encoding.UTF8.GetString(output).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int gap = line.IndexOfAny(['\t', ' ']);
            if (gap != 40 || line.Length > MaxRefLineBytes || !ObjectId.TryParse(line[..40], out ObjectId id))
                throw PolykeyException.Failed($"{location}: git listed a ref pk cannot read");
            if (refs.Count >= MaxRefs) throw TooManyRefs(location);
            refs[line[(gap + 1)..]] = id.Hex;
        }
        return refs;
    }

    // Mirrors the relay's histories and identity into the cache, stopping git if it brings more than one transfer may.
    private static void Fetch(string url, string location, string cache)
    {
        string packs = Path.Combine(cache, "objects", "pack");
        long before = RelayCache.Bytes(packs);
        GitResult result = GitProcess.Run(cache,
            ["-c", "transfer.unpackLimit=1", "-c", "fetch.unpackLimit=1", "fetch", "--quiet", "--no-tags", "--prune", "--no-write-fetch-head", "--no-auto-gc",
                url, $"+{SecretRefPrefix}*:{SecretRefPrefix}*", $"+{RelayIdentity.Ref}:{FetchedIdentityRef}"],
            stopWhen: () => RelayCache.Bytes(packs) - before > Limits.MaxTransferBytes);
        if (result.ExitCode == -1)
            throw PolykeyException.Failed($"{location} sent more than {Limits.MaxTransferBytes >> 30} GiB; a relay is refused past that", "ask who manages the relay what it holds");
        if (!result.Ok) throw Unreachable(location, result);
    }

    /// <summary>Packs a cache holds before they are made one: each fetch adds one, and every object read looks through all of them.</summary>
    public const int MaxCachePacks = 32;

    // A machine that pulls every 30 s would otherwise gather thousands of packs (and a publisher
    // loose objects) a day. Counted here, without starting git; git's own gc does the work,
    // in the foreground, while this process holds the cache.
    private static void CompactIfDue(string cache, string location)
    {
        string objects = Path.Combine(cache, "objects");
        string packs = Path.Combine(objects, "pack");
        int packCount = Directory.Exists(packs) ? Directory.EnumerateFiles(packs, "*.pack").Count() : 0;
        // git's own estimate: loose objects in one of the 256 fan-out directories, times 256.
        string sample = Path.Combine(objects, "17");
        int looseSample = Directory.Exists(sample) ? Directory.EnumerateFiles(sample).Count() : 0;
        if (packCount <= MaxCachePacks && looseSample * 256 <= 6700) return;
        GitResult result = GitProcess.Run(cache, ["-c", "gc.autoDetach=false", "gc", "--quiet"]);
        // A cache that cannot be compacted still serves: it is only slower. Say so once.
        if (!result.Ok) Output.Warning($"could not compact the cache of {location} ({cache}): {result.Reason()}");
    }

    // Whether this cache holds a relay's identity, told from git's files without starting git. A
    // wrong "no" (a ref git packed) costs one ls-remote; a wrong "yes" cannot happen, as the
    // fetch that follows must bring the identity.
    private static bool FetchedBefore(string cache)
    {
        if (File.Exists(Path.Combine(cache, RelayIdentity.Ref))) return true;
        string packed = Path.Combine(cache, "packed-refs");
        return File.Exists(packed) && new FileInfo(packed).Length < GitProcess.MaxOutputBytes
            && File.ReadAllText(packed).Contains(" " + RelayIdentity.Ref + "\n", StringComparison.Ordinal);
    }

    // The cache's refs after a fetch, read with one git: the identity just fetched, checked
    // against the one the cache took last time (an id or owner that changed is refused), and the tips.
    private static GitRelay Fetched(string url, string cache, RelayCache.Lease lease, string location, RelayIdentity? expected)
    {
        Dictionary<string, string> refs = CacheRefs(cache, location);
        string fetchedCommit = refs.GetValueOrDefault(FetchedIdentityRef) ?? throw PolykeyException.Failed($"{location}: the cache lost {FetchedIdentityRef}");
        var objects = new GitObjectReader(cache);
        try
        {
            // The commit's name covers every byte of the identity: the pinned one needs no reading.
            RelayIdentity fetched = expected is not null && expected.CommitHex() == fetchedCommit
                ? expected
                : RelayIdentity.Read(objects, FetchedIdentityRef, location);
            // The identity commit is the same for the same keynode and owner: an unchanged one needs no comparing.
            if (refs.GetValueOrDefault(RelayIdentity.Ref) is { } knownCommit && knownCommit != fetchedCommit)
            {
                RelayIdentity known = RelayIdentity.Read(objects, RelayIdentity.Ref, location);
                if (known.KeynodeId != fetched.KeynodeId || known.Owner.Fingerprint != fetched.Owner.Fingerprint)
                    throw PolykeyException.Denied(
                        $"{location} now carries keynode {fetched.KeynodeId} owned by {fetched.Owner.Fingerprint}; it carried keynode {known.KeynodeId} owned by {known.Owner.Fingerprint}",
                        $"someone replaced what the relay holds; nothing was taken. If that was meant, remove {cache} and try again");
            }
            if (refs.GetValueOrDefault(RelayIdentity.Ref) != fetchedCommit) UpdateRef(cache, RelayIdentity.Ref, fetchedCommit);
            var relay = new GitRelay(url, cache, lease, objects, fetched, claimed: false);
            AddTips(refs, relay._tips);
            return relay;
        }
        catch
        {
            objects.Dispose();
            throw;
        }
    }

    // The cache's identity refs and tips: from git's files when it keeps them there (no process), else one for-each-ref.
    private static Dictionary<string, string> CacheRefs(string cache, string location)
    {
        if (LocalGitRepository.Locate(cache) is not null)
            return LocalGitRepository.ReadRefs(cache, ["refs/polykey/", SecretRefPrefix], location);
        GitResult listed = GitProcess.Run(cache, ["for-each-ref", "--format=%(objectname) %(refname)", "refs/polykey/", SecretRefPrefix],
            maxOutput: MaxRefs * MaxRefLineBytes);
        if (listed.ExitCode == -1) throw TooManyRefs(location);
        if (!listed.Ok) throw PolykeyException.Failed($"cannot read the refs of {location}'s cache {cache}: {listed.Reason()}");
        return ParseRefs(listed.Stdout, location);
    }

    /// <summary>An object as a loose object (re-encoded from what git holds: the receiver checks its name, not its compression).</summary>
    public byte[]? ReadStored(ObjectId id) => ReadThroughGit(_objects, id, Location, ref _served);

    /// <summary>An object read with `git cat-file`, bounded by its kind and by what one transfer may bring.</summary>
    public static byte[]? ReadThroughGit(GitObjectReader objects, ObjectId id, string location, ref long served)
    {
        (string type, byte[] content)? found = objects.Read(id.Hex, Limits.MaxValueBytes + Limits.MaxMetadataObjectBytes);
        if (found is not { } o) return null;
        if (o.type is not ("blob" or "tree" or "commit")) return null; // no pk history holds a tag
        if (o.type != "blob" && o.content.Length > Limits.MaxMetadataObjectBytes)
            throw PolykeyException.Failed($"{location}'s {o.type} {id} holds {o.content.Length} bytes, more than any pk {o.type}");
        CountServed(o.content.Length, location, ref served);
        return LooseObjectFile.Encode(o.type, o.content).Compressed;
    }

    public static void CountServed(long bytes, string location, ref long served)
    {
        if ((served += bytes) > Limits.MaxTransferBytes)
            throw PolykeyException.Failed($"{location} offers more than {Limits.MaxTransferBytes >> 30} GiB in one transfer", "pull fewer secrets at a time: name patterns after the remote");
    }

    /// <summary>
    /// Pushes a change as one atomic push: each ref leased at the tip the sender saw (absent: it
    /// must not exist), so either all of it lands or none does.
    /// </summary>
    public void Write(OutgoingChange change)
    {
        if (change.Refs.Count == 0) return;
        foreach ((ObjectId id, byte[] stored) in change.Objects) LooseObjectFile.Store(_cache, id.Hex, stored);
        var args = new List<string> { "push", "--atomic", "--porcelain", "--no-verify", _url };
        var leases = new List<string>();
        foreach (RefUpdate update in change.Refs)
        {
            args.Add($"{update.Tip.Hex}:{SecretRefPrefix}{update.HistoryId}");
            leases.Add($"--force-with-lease={SecretRefPrefix}{update.HistoryId}:{update.Expected?.Hex}");
        }
        string? identityCommit = null;
        if (_claimed)
        {
            identityCommit = Identity.Store(_cache);
            args.Add($"{identityCommit}:{RelayIdentity.Ref}");
            leases.Add($"--force-with-lease={RelayIdentity.Ref}:");
        }
        args.InsertRange(1, leases);
        GitResult result = GitProcess.Run(_cache, args);
        if (!result.Ok)
        {
            if (result.Text.Contains("stale info", StringComparison.Ordinal) || result.Text.Contains("fetch first", StringComparison.Ordinal)
                || result.Text.Contains("non-fast-forward", StringComparison.Ordinal))
                throw PolykeyException.Conflict($"{Location}: the relay changed while pushing; nothing was written", "pull and push again");
            throw PolykeyException.Failed($"cannot push to {Location}: {result.Reason()}", "nothing was written; check that this user may push to the relay");
        }
        // The cache follows what landed, so the tips and objects read next are the relay's.
        var landed = change.Refs.Select(u => (SecretRefPrefix + u.HistoryId, u.Tip.Hex)).ToList();
        if (identityCommit is not null) landed.Add((RelayIdentity.Ref, identityCommit));
        UpdateRefs(_cache, landed);
        foreach (RefUpdate update in change.Refs) _tips[update.HistoryId] = update.Tip;
        _claimed = false;
    }

    private static void UpdateRef(string cache, string name, string hex) => UpdateRefs(cache, [(name, hex)]);

    // One git for all of them: a push may move thousands of refs.
    private static void UpdateRefs(string cache, IReadOnlyList<(string Name, string Hex)> refs)
    {
        byte[] commands = Encoding.ASCII.GetBytes(string.Concat(refs.Select(r => $"update {r.Name} {r.Hex}\n")));
        GitResult result = GitProcess.Run(cache, ["update-ref", "--stdin"], commands);
        if (!result.Ok) throw PolykeyException.Failed($"cannot update the relay cache {cache}: {result.Reason()}");
    }

    public void Dispose()
    {
        _objects.Dispose();
        _lease.Dispose();
    }
}
