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
/// Who besides the owner may read or write which secrets. Stored inside the keynode as a
/// history of its own, encrypted to the owner and signed by the owner, as JSON (format 1).
/// </summary>
public sealed record AccessList(IReadOnlyList<Grant> Grants, IReadOnlyList<Revocation> Revocations)
{
    public const string MessageName = "polykey:access";

    public static AccessList Empty { get; } = new([], []);

    public Grant? GrantOf(string fingerprint) => Grants.FirstOrDefault(g => g.Identity.Fingerprint == fingerprint);

    /// <summary>Every identity known here (granted or revoked), for naming by fingerprint or label.</summary>
    public IEnumerable<Identity> Known => Grants.Select(g => g.Identity).Concat(Revocations.Select(r => r.Identity));

    public AccessList WithGrant(Identity identity, IEnumerable<string> read, IEnumerable<string> write)
    {
        Grant? old = GrantOf(identity.Fingerprint);
        var grant = new Grant(identity,
            (old?.Read ?? []).Concat(read).Distinct().ToList(),
            (old?.Write ?? []).Concat(write).Distinct().ToList());
        return new AccessList(Grants.Where(g => g != old).Append(grant).ToList(),
            Revocations.Where(r => r.Identity.Fingerprint != identity.Fingerprint).ToList());
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
        return new AccessList(grants, revocations);
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
            return new AccessList(grants, revocations);
        }
        catch (Exception e) when (HostileInput.IsParseFailure(e))
        {
            throw PolykeyException.Failed("the keynode's access list is malformed", "run 'pk verify' for a full report");
        }
    }

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
