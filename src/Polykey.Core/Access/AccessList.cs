using System.Text;
using System.Text.Json;
using Polykey.Core.Crypto;

namespace Polykey.Core.Access;

/// <summary>One identity's rights: the patterns it may read and write.</summary>
public sealed record Grant(Identity Identity, IReadOnlyList<string> Read, IReadOnlyList<string> Write)
{
    // Compiled once per grant: every new version asks who may read its path.
    private PathPattern[]? _read, _write;

    public bool CanRead(string path) => (_read ??= Read.Select(p => new PathPattern(p)).ToArray()).Any(p => p.Matches(path));
    public bool CanWrite(string path) => (_write ??= Write.Select(p => new PathPattern(p)).ToArray()).Any(p => p.Matches(path));
}

/// <summary>An identity whose rights were withdrawn; kept so rotate-needed can name what it could read.</summary>
public sealed record Revocation(Identity Identity, DateTimeOffset Time);

/// <summary>
/// Another keynode whose histories this one accepts: its id, its owner (pinned when the remote
/// was added) and, when given, the only paths it is trusted for. Its own signed rules decide who
/// else may write them.
/// </summary>
public sealed record TrustedOrigin(string KeynodeId, Identity Owner, IReadOnlyList<string> Paths)
{
    private PathPattern[]? _paths;

    /// <summary>Whether a path of that keynode may be taken from it (any path when no pattern was given).</summary>
    public bool Covers(string path) => Paths.Count == 0 || (_paths ??= Paths.Select(p => new PathPattern(p)).ToArray()).Any(p => p.Matches(path));

    /// <summary>Whether new secrets at this path belong to that keynode (only when patterns were given).</summary>
    public bool Claims(string path) => Paths.Count > 0 && Covers(path);
}

/// <summary>
/// Where to reach a keynode: a name, a URL, and the id of the keynode found there when it was
/// added; optionally how old its newest "as of" statement may be before a pull warns, and
/// whether this keynode then refuses to serve that keynode's secrets.
/// </summary>
public sealed record Remote(string Name, string Url, string KeynodeId)
{
    public TimeSpan? MaxAge { get; init; }

    /// <summary>Past <see cref="MaxAge"/>, the secrets of the remote's keynode are refused (fail closed), not only warned about.</summary>
    public bool RefuseStale { get; init; }
}

/// <summary>
/// Who besides the owner may read or write which secrets, and which other keynodes this one
/// takes histories from (origins) and where it reaches them (remotes). Stored inside the keynode
/// as a history of its own, encrypted to the owner and signed by the owner, as JSON (format 1).
/// </summary>
public sealed record AccessList(IReadOnlyList<Grant> Grants, IReadOnlyList<Revocation> Revocations)
{
    public const string MessageName = "polykey:access";
    public const string RulesMessageName = "polykey:rules";

    public static AccessList Empty { get; } = new([], []);

    public IReadOnlyList<TrustedOrigin> Origins { get; init; } = [];
    public IReadOnlyList<Remote> Remotes { get; init; } = [];

    /// <summary>For a rules view (what a grantee is told): the fingerprint it was written for.</summary>
    public string? For { get; init; }

    public TrustedOrigin? OriginOf(string keynodeId) => Origins.FirstOrDefault(o => o.KeynodeId == keynodeId);

    public Remote? RemoteNamed(string name) => Remotes.FirstOrDefault(r => r.Name == name);

    /// <summary>Trusts a keynode (or widens the paths it is trusted for) and names a place to reach it.</summary>
    public AccessList WithRemote(Remote remote, Identity owner, IReadOnlyList<string> paths)
    {
        TrustedOrigin? old = OriginOf(remote.KeynodeId);
        var origin = new TrustedOrigin(remote.KeynodeId, owner,
            old is null ? paths.Distinct().ToList() : old.Paths.Count == 0 || paths.Count == 0 ? [] : old.Paths.Concat(paths).Distinct().ToList());
        return this with
        {
            Origins = Origins.Where(o => o != old).Append(origin).ToList(),
            Remotes = Remotes.Where(r => r.Name != remote.Name).Append(remote).ToList(),
        };
    }

    /// <summary>Names a place that holds a copy of this keynode itself (a git relay it pushes to); no origin is trusted for it.</summary>
    public AccessList WithMirror(Remote remote) => this with { Remotes = Remotes.Where(r => r.Name != remote.Name).Append(remote).ToList() };

    /// <summary>Forgets a remote's name and place; the keynode stays trusted for the histories already taken from it.</summary>
    public AccessList WithoutRemote(string name) => this with { Remotes = Remotes.Where(r => r.Name != name).ToList() };

    /// <summary>
    /// What one grantee is told of these rules: its own grant, and of the others only the
    /// patterns that can touch paths it reads or writes (writers of what it reads, readers of
    /// what it writes). Nothing about origins, remotes or revocations.
    /// </summary>
    public AccessList ViewFor(Grant grantee)
    {
        var grants = new List<Grant> { grantee };
        foreach (Grant other in Grants.Where(g => g.Identity.Fingerprint != grantee.Identity.Fingerprint))
        {
            var write = other.Write.Where(w => grantee.Read.Concat(grantee.Write).Any(p => PatternOverlap.MayOverlap(w, p))).ToList();
            var read = other.Read.Where(r => grantee.Write.Any(p => PatternOverlap.MayOverlap(r, p))).ToList();
            if (write.Count + read.Count > 0) grants.Add(new Grant(other.Identity, read, write));
        }
        return new AccessList(grants, []) { For = grantee.Identity.Fingerprint };
    }

    public Grant? GrantOf(string fingerprint) => Grants.FirstOrDefault(g => g.Identity.Fingerprint == fingerprint);

    /// <summary>Every identity known here (granted or revoked), for naming by fingerprint or label.</summary>
    public IEnumerable<Identity> Known => Grants.Select(g => g.Identity).Concat(Revocations.Select(r => r.Identity));

    public AccessList WithGrant(Identity identity, IEnumerable<string> read, IEnumerable<string> write)
    {
        Grant? old = GrantOf(identity.Fingerprint);
        var grant = new Grant(identity,
            (old?.Read ?? []).Concat(read).Distinct().ToList(),
            (old?.Write ?? []).Concat(write).Distinct().ToList());
        return this with
        {
            Grants = Grants.Where(g => g != old).Append(grant).ToList(),
            Revocations = Revocations.Where(r => r.Identity.Fingerprint != identity.Fingerprint).ToList(),
        };
    }

    /// <summary>Withdraws the given patterns (all of them when none are named).</summary>
    public AccessList WithoutGrant(Identity identity, IReadOnlyCollection<string> patterns, DateTimeOffset time)
    {
        Grant? old = GrantOf(identity.Fingerprint);
        if (old is null) return this;
        var remaining = patterns.Count == 0 ? null : new Grant(identity,
            old.Read.Where(p => !patterns.Contains(p)).ToList(), old.Write.Where(p => !patterns.Contains(p)).ToList());
        var grants = Grants.Where(g => g != old).ToList();
        var revocations = Revocations.ToList();
        if (remaining is { Read.Count: > 0 } or { Write.Count: > 0 }) grants.Add(remaining);
        if (remaining is null || remaining.Read.Count < old.Read.Count) revocations.Add(new Revocation(identity, time));
        return this with { Grants = grants, Revocations = revocations };
    }

    public byte[] Serialize()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("format", 1);
            json.WriteStartArray("grants");
            foreach (Grant grant in Grants)
            {
                json.WriteStartObject();
                json.WriteString("fingerprint", grant.Identity.Fingerprint);
                json.WriteString("key", grant.Identity.ToArmored());
                WriteStrings(json, "read", grant.Read);
                WriteStrings(json, "write", grant.Write);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("revoked");
            foreach (Revocation revocation in Revocations)
            {
                json.WriteStartObject();
                json.WriteString("fingerprint", revocation.Identity.Fingerprint);
                json.WriteString("key", revocation.Identity.ToArmored());
                json.WriteString("time", revocation.Time.ToString("O"));
                json.WriteEndObject();
            }
            json.WriteEndArray();
            if (Origins.Count > 0)
            {
                json.WriteStartArray("origins");
                foreach (TrustedOrigin origin in Origins)
                {
                    json.WriteStartObject();
                    json.WriteString("keynode", origin.KeynodeId);
                    json.WriteString("fingerprint", origin.Owner.Fingerprint);
                    json.WriteString("key", origin.Owner.ToArmored());
                    WriteStrings(json, "paths", origin.Paths);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
            }
            if (Remotes.Count > 0)
            {
                json.WriteStartArray("remotes");
                foreach (Remote remote in Remotes)
                {
                    json.WriteStartObject();
                    json.WriteString("name", remote.Name);
                    json.WriteString("url", remote.Url);
                    json.WriteString("keynode", remote.KeynodeId);
                    if (remote.MaxAge is { } age) json.WriteNumber("maxAgeSeconds", (long)age.TotalSeconds);
                    if (remote.RefuseStale) json.WriteBoolean("refuseStale", true);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
            }
            if (For is not null) json.WriteString("for", For);
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    public static AccessList Parse(ReadOnlySpan<byte> data)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(data.ToArray());
            JsonElement root = document.RootElement;
            if (root.GetProperty("format").GetInt32() != 1) throw new FormatException("unknown access list format");
            var grants = root.GetProperty("grants").EnumerateArray().Select(g => new Grant(
                Key(g), Strings(g.GetProperty("read")), Strings(g.GetProperty("write")))).ToList();
            var revocations = root.GetProperty("revoked").EnumerateArray().Select(r => new Revocation(
                Key(r), DateTimeOffset.Parse(r.GetProperty("time").GetString()!, System.Globalization.CultureInfo.InvariantCulture))).ToList();
            var origins = Optional(root, "origins").Select(o => new TrustedOrigin(
                KeynodeId(o), Key(o), Strings(o.GetProperty("paths")))).ToList();
            var remotes = Optional(root, "remotes").Select(r => new Remote(
                r.GetProperty("name").GetString()!, r.GetProperty("url").GetString()!, KeynodeId(r))
            {
                MaxAge = r.TryGetProperty("maxAgeSeconds", out JsonElement age) ? TimeSpan.FromSeconds(age.GetInt64()) : null,
                RefuseStale = r.TryGetProperty("refuseStale", out JsonElement refuse) && refuse.GetBoolean(),
            }).ToList();
            string? forWhom = root.TryGetProperty("for", out JsonElement f) ? f.GetString() : null;
            return new AccessList(grants, revocations) { Origins = origins, Remotes = remotes, For = forWhom };
        }
        catch (Exception e) when (HostileInput.IsParseFailure(e))
        {
            throw PolykeyException.Failed("the keynode's access list is malformed", "run 'pk verify' for a full report");
        }
    }

    private static IEnumerable<JsonElement> Optional(JsonElement root, string name) =>
        root.TryGetProperty(name, out JsonElement array) ? array.EnumerateArray() : [];

    private static string KeynodeId(JsonElement element) =>
        element.GetProperty("keynode").GetString() is { } id && Storage.KeynodeLayout.IsHistoryId(id) ? id : throw new FormatException("a keynode id");

    private static Identity Key(JsonElement element) =>
        Identity.Load(Encoding.ASCII.GetBytes(element.GetProperty("key").GetString()!), "a key in the access list");

    private static List<string> Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToList();

    private static void WriteStrings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (string value in values) json.WriteStringValue(value);
        json.WriteEndArray();
    }
}
