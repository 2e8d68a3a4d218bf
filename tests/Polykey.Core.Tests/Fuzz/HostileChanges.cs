using System.Text;
using Polykey.Core.Access;
using Polykey.Core.Crypto;

namespace Polykey.Core.Tests.Fuzz;

/// <summary>What a crafted, appended change carries. Each is a well-framed change (its record chains) unless said otherwise.</summary>
internal enum HostileKind
{
    BadRefName,
    BadRefTarget,
    ReplayUnderNewId,
    ReplayOlderVersion,
    OwnerKeyReplaced,
    FormatHeader,
    NonRegularRef,
    HugeSize,
    ZlibBomb,
    AbsurdTime,
    IntruderVersion,
    GranteeOutsidePattern,
    IntruderAccessList,
    Misbound,
}

/// <summary>
/// The members of hostile changes, aimed at one corpus keynode: refs with bad ids and targets,
/// replays, a replaced owner key, a newer format header, refs that are links or devices, huge
/// size fields, zlib bombs, impossible commit times, and versions signed by keys not allowed to
/// write them. Values in owner-signed versions are always ones ever written for their path (the
/// harness holds the owner's key; a new value there would not be a forgery). Versions are bound
/// to their history as format 2 requires, unless the binding is what is under attack.
/// </summary>
internal static class HostileChanges
{
    /// <summary>How far a bomb inflates: hundreds of MiB over a few members, small enough that a fixed reader stays fast.</summary>
    public const int BombMebibytes = 64;

    public static (List<HostileMember> Members, string Description) Build(HostileKind kind, ulong pick, int variant, byte[] file, CorpusKeynode node, FuzzPeople people)
    {
        var rng = new Random(unchecked((int)(pick ^ (pick >> 32))));
        LiveSecret secret = node.Live[rng.Next(node.Live.Count)];
        PastVersion past = node.Versions[rng.Next(node.Versions.Count)];
        Identity owner = node.Owner.Public;
        switch (kind)
        {
            case HostileKind.BadRefName:
            {
                string[] ids = ["", "x", "..", "../../../../etc/passwd", secret.Id.ToUpperInvariant(), secret.Id[..31], secret.Id + "0",
                    secret.Id + "/extra", "\u00fcnic\u00f6de", new string('f', 80), " " + secret.Id, secret.Id + "\n"];
                string id = ids[variant % ids.Length];
                return ([HostileMember.Ref(id, past.Commit)], $"ref named refs/secrets/{Show(id)} to {past.Commit[..8]}");
            }
            case HostileKind.BadRefTarget:
            {
                string other = node.Live[(node.Live.IndexOf(secret) + 1) % node.Live.Count].Tip;
                string[] targets = ["", "\n", "not-a-commit", secret.Tip[..39], secret.Tip + "0", RandomHex(rng, 40), ObjectIdIn(file, rng),
                    secret.Tip.ToUpperInvariant(), secret.Tip + " junk", new string('\0', 41), other, "\uFEFF" + secret.Tip, $"ref: refs/secrets/{secret.Id}"];
                string target = targets[variant % targets.Length];
                var member = new HostileMember("refs/secrets/" + secret.Id, Encoding.UTF8.GetBytes(target));
                return ([member], $"ref {secret.Id[..8]} set to \"{Show(target)}\"");
            }
            case HostileKind.ReplayUnderNewId:
            {
                string id = ForgedObjects.NewHistoryId();
                return ([HostileMember.Ref(id, past.Commit)], $"new history {id[..8]} pointed at the older commit {past.Commit[..8]} of {past.Path}");
            }
            case HostileKind.ReplayOlderVersion:
                return ([HostileMember.Ref(past.HistoryId, past.Commit)], $"history {past.HistoryId[..8]} moved back to commit {past.Commit[..8]}");
            case HostileKind.OwnerKeyReplaced:
            {
                SecretIdentity intruder = people.IntruderKey;
                byte[][] keys = [intruder.Public.ToBinary(), RandomBytes(rng, 200), [], Encoding.ASCII.GetBytes(intruder.Public.ToArmored())];
                var members = new List<HostileMember> { new("polykey/owner.pub", keys[variant % keys.Length]) };
                bool forge = variant / keys.Length % 2 == 1;
                if (forge)
                    members.AddRange(ForgedObjects.Version(node.KeynodeId, secret.Id, secret.Tip, ForgedObjects.NextSequence(file, secret.Tip), secret.Path,
                        "forged-by-new-owner"u8.ToArray(), intruder, [owner, intruder.Public]).Members);
                return (members, $"polykey/owner.pub replaced by {(new[] { "the intruder's key", "random bytes", "nothing", "the intruder's armored key" })[variant % keys.Length]}"
                    + (forge ? $", with an intruder-signed version of {secret.Path}" : ""));
            }
            case HostileKind.FormatHeader:
            {
                string header = HeaderText(file);
                string[] texts = [header.Replace("polykey-keynode 1", "polykey-keynode 2"), header.Replace("polykey-keynode 1", "polykey-keynode 99"),
                    $"polykey-keynode 1\nid {ForgedObjects.NewHistoryId()}\n", "polykey-keynode 1\n", "", "\u0000garbage"];
                string text = texts[variant % texts.Length];
                return ([new HostileMember("polykey/keynode", Encoding.UTF8.GetBytes(text))], $"polykey/keynode header \"{Show(text)}\" appended");
            }
            case HostileKind.NonRegularRef:
            {
                char[] types = ['1', '2', '3', '4', '5', '6', '7', 'x', 'g', 'L', 'K', 'S'];
                char type = types[variant % types.Length];
                bool withData = variant / types.Length % 2 == 1;
                string id = variant / types.Length / 2 % 2 == 1 ? ForgedObjects.NewHistoryId() : past.HistoryId;
                var member = withData
                    ? new HostileMember("refs/secrets/" + id, Encoding.ASCII.GetBytes(past.Commit + "\n"), type)
                    : new HostileMember("refs/secrets/" + id, [], type, Link: past.Commit);
                return ([member], $"type '{type}' member named refs/secrets/{id[..8]} {(withData ? "holding" : "linking to")} {past.Commit[..8]}");
            }
            case HostileKind.HugeSize:
            {
                long[] sizes = [(1L << 33) - 1, 1L << 36, (1L << 33) + 1, 1L << 40, (1L << 31) - 1, int.MaxValue + 1L];
                string[] names = ["refs/secrets/" + secret.Id, "objects/" + secret.Tip[..2] + "/" + secret.Tip[2..], "polykey/owner.pub", "HEAD"];
                long size = sizes[variant % sizes.Length];
                string name = names[variant / sizes.Length % names.Length];
                HostileMember[] members = [HostileMember.Ref(secret.Id, past.Commit), new(name, [], ClaimedSize: size)];
                return ([.. members], $"member {name} claiming {size} bytes");
            }
            case HostileKind.ZlibBomb:
            {
                string[] headers = ["commit 200\0", "blob 12\0", "tree 30\0", ""];
                int count = 1 + variant % 4;
                string header = headers[variant / 4 % headers.Length];
                var members = new List<HostileMember>();
                for (int i = 0; i < count; i++)
                {
                    string id = RandomHex(rng, 40);
                    members.Add(ForgedObjects.Bomb($"objects/{id[..2]}/{id[2..]}", header, BombMebibytes));
                    members.Add(HostileMember.Ref(ForgedObjects.NewHistoryId(), id));
                }
                return (members, $"{count} zlib bomb(s) of {BombMebibytes} MiB (header \"{Show(header)}\"), each named by a new ref");
            }
            case HostileKind.AbsurdTime:
            {
                string[] times = ["99999999999999", "-99999999999999", "9223372036854775807", "-9223372036854775808", "99999999999999999999",
                    "253402300800", "-62135596801", "1e9", "", "+5", "0x10"];
                string time = times[variant % times.Length];
                bool newHistory = variant / times.Length % 2 == 1;
                string? parent = newHistory ? null : secret.Tip;
                (string commit, List<HostileMember> members) = ForgedObjects.Version(node.KeynodeId, newHistory ? ForgedObjects.NewHistoryId() : secret.Id,
                    parent, ForgedObjects.NextSequence(file, parent), secret.Path, node.AnyValueOf(secret.Path, pick), node.Owner, [owner], time: time);
                return (members, $"owner-signed {(newHistory ? "new history" : "version")} {commit[..8]} of {secret.Path} with commit time \"{time}\"");
            }
            case HostileKind.IntruderVersion:
            {
                SecretIdentity intruder = people.IntruderKey;
                (string id, string? parent, string path, string? claimed) = (variant % 4) switch
                {
                    0 => (secret.Id, secret.Tip, secret.Path, null),
                    1 => (ForgedObjects.NewHistoryId(), (string?)null, "forged/new", (string?)null),
                    2 => (secret.Id, null, secret.Path, null),
                    _ => (secret.Id, secret.Tip, secret.Path, owner.Fingerprint),
                };
                (string commit, List<HostileMember> members) = ForgedObjects.Version(node.KeynodeId, id, parent, ForgedObjects.NextSequence(file, parent), path,
                    "forged-by-intruder"u8.ToArray(), intruder, [owner, intruder.Public], claimedSigner: claimed);
                return (members, $"intruder-signed version {commit[..8]} of {path}{(claimed is null ? "" : " naming the owner as signer")}{(parent is null ? " (root commit)" : "")}");
            }
            case HostileKind.GranteeOutsidePattern:
            {
                LiveSecret outside = OutsideGrant(node, secret);
                bool removal = variant % 2 == 1;
                (string commit, List<HostileMember> members) = ForgedObjects.Version(node.KeynodeId, outside.Id, outside.Tip, ForgedObjects.NextSequence(file, outside.Tip),
                    outside.Path, removal ? [] : "hijack-by-grantee"u8.ToArray(), people.WriterKey, [owner, people.WriterKey.Public],
                    entry: removal ? "removed.pgp" : "secret.pgp");
                return (members, $"write-grantee-signed {(removal ? "removal" : "version")} {commit[..8]} of {outside.Path} (outside its shared/** grant)");
            }
            case HostileKind.IntruderAccessList:
            {
                SecretIdentity signer = variant % 2 == 0 ? people.IntruderKey : people.WriterKey;
                byte[] list = AccessList.Empty.WithGrant(signer.Public, ["**"], ["**"]).Serialize();
                // The access list's history is named by the keynode id (format 2).
                string? accessTip = RefTarget(file, node.KeynodeId);
                var members = ForgedObjects.Version(node.KeynodeId, node.KeynodeId, accessTip, ForgedObjects.NextSequence(file, accessTip), AccessList.MessageName, list,
                    signer, [owner], entry: "access.pgp").Members;
                // The write grantee may write shared/** honestly: its forged version aims outside.
                LiveSecret target = signer == people.WriterKey ? OutsideGrant(node, secret) : secret;
                members.AddRange(ForgedObjects.Version(node.KeynodeId, target.Id, target.Tip, ForgedObjects.NextSequence(file, target.Tip), target.Path,
                    "forged-via-access"u8.ToArray(), signer, [owner, signer.Public]).Members);
                return (members, $"access list granting ** signed by the {(signer == people.IntruderKey ? "intruder" : "write grantee")}, then its version of {target.Path}");
            }
            case HostileKind.Misbound:
            {
                LiveSecret other = node.Live[(node.Live.IndexOf(secret) + 1) % node.Live.Count];
                long next = ForgedObjects.NextSequence(file, secret.Tip);
                (string refId, long sequence, string? message, string entry, string what) = (variant % 9) switch
                {
                    0 => (secret.Id, next, new HistoryBindingText(other.Id, node.KeynodeId, next).Text, "secret.pgp", $"bound to history {other.Id[..8]}"),
                    1 => (secret.Id, next + 1, null, "secret.pgp", $"claiming version {next + 1} after version {next - 1}"),
                    2 => (secret.Id, next - 1, null, "secret.pgp", $"claiming version {next - 1} again"),
                    3 => (secret.Id, next, "polykey version\n", "secret.pgp", "without a history binding"),
                    4 => (secret.Id, next, new HistoryBindingText(secret.Id.ToUpperInvariant(), node.KeynodeId, next).Text, "secret.pgp", "bound to the history id in upper case"),
                    5 => (secret.Id, next, new HistoryBindingText(secret.Id, node.KeynodeId, next).Text + "extra\n", "secret.pgp", "with a line after the binding"),
                    6 => (secret.Id, next, $"polykey version\n\nhistory {secret.Id}\norigin {node.KeynodeId}\nsequence 0{next}\n", "secret.pgp", "with a zero-padded sequence"),
                    7 => (other.Id, next, null, "secret.pgp", $"under the ref of history {other.Id[..8]}"),
                    _ => (secret.Id, next, null, "access.pgp", "holding an access list"),
                };
                (string commit, List<HostileMember> members) = ForgedObjects.Version(node.KeynodeId, secret.Id, secret.Tip, sequence, secret.Path,
                    node.AnyValueOf(secret.Path, pick), node.Owner, [owner], entry: entry, message: message);
                members[^1] = HostileMember.Ref(refId, commit);
                return (members, $"owner-signed version {commit[..8]} of {secret.Path} {what}");
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    /// <summary>A live secret the corpus's write grantee may not write (its grant is shared/**).</summary>
    private static LiveSecret OutsideGrant(CorpusKeynode node, LiveSecret preferred) =>
        preferred.Path.StartsWith("shared/", StringComparison.Ordinal)
            ? node.Live.First(s => !s.Path.StartsWith("shared/", StringComparison.Ordinal))
            : preferred;

    /// <summary>A format-2 commit message as the writer lays it out, with any id and number.</summary>
    private readonly record struct HistoryBindingText(string Id, string Origin, long Sequence)
    {
        public string Text => $"polykey version\n\nhistory {Id}\norigin {Origin}\nsequence {Sequence}\n";
    }

    /// <summary>The commit a ref names last in the file, or null.</summary>
    private static string? RefTarget(byte[] file, string id)
    {
        return TarLayout.Parse(file).LastNamed("refs/secrets/" + id) is { } m ? Encoding.ASCII.GetString(file, (int)m.Data, (int)m.Size).Trim() : null;
    }

    private static string HeaderText(byte[] file) =>
        TarLayout.Parse(file).LastNamed("polykey/keynode") is { Size: < 512 } m
            ? Encoding.ASCII.GetString(file, (int)m.Data, (int)m.Size)
            : "polykey-keynode 1\nid 00000000000000000000000000000000\n";

    private static string ObjectIdIn(byte[] file, Random rng)
    {
        var objects = TarLayout.Parse(file).Members.Where(m => m.Name.StartsWith("objects/", StringComparison.Ordinal) && m.Name.Length == 49).ToList();
        return objects.Count == 0 ? RandomHex(rng, 40) : objects[rng.Next(objects.Count)].Name.Replace("objects/", "").Replace("/", "");
    }

    private static string RandomHex(Random rng, int digits) => Convert.ToHexStringLower(RandomBytes(rng, digits / 2));

    private static byte[] RandomBytes(Random rng, int count)
    {
        byte[] bytes = new byte[count];
        rng.NextBytes(bytes);
        return bytes;
    }

    private static string Show(string text)
    {
        string shown = text.Replace("\n", "\\n").Replace("\0", "\\0");
        return shown.Length > 40 ? shown[..40] + "…" : shown;
    }
}
