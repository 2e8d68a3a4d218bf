using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Polykey.Core.Crypto;

namespace Polykey.Core.Tests.Fuzz;

internal sealed record LiveSecret(string Id, string Path, string Tip);

internal sealed record PastVersion(string HistoryId, string Commit, string Path);

/// <summary>
/// One unmutated keynode of the corpus and what its writer knows about it: every value ever
/// written to each path (the oracle's allow-list), the live paths after each change, and the
/// ids and commits hostile changes aim at. Serializable, so a run's corpus can be kept and a
/// failing seed replayed against the very same bytes.
/// </summary>
internal sealed record CorpusKeynode(
    string Name, string OwnerKey, string? Passphrase,
    Dictionary<string, List<string>> EverWritten, List<List<string>> LiveAfter,
    List<LiveSecret> Live, List<PastVersion> Versions, string KeynodeId)
{
    private readonly Lazy<SecretIdentity> _owner = new(() => SecretIdentity.Load(Encoding.ASCII.GetBytes(OwnerKey), "fuzz owner key"));

    [JsonIgnore] public byte[] Bytes { get; init; } = [];

    [JsonIgnore] public SecretIdentity Owner => _owner.Value;

    /// <summary>How many changes the unmutated file holds.</summary>
    [JsonIgnore] public int Changes => LiveAfter.Count - 1;

    [JsonIgnore] public Credential Credential => Passphrase is null
        ? new Credential.KeyFile(Owner, "fuzz owner key")
        : new Credential.Passphrase(() => Encoding.UTF8.GetBytes(Passphrase));

    public bool WasWritten(string path, ReadOnlySpan<byte> value) =>
        EverWritten.TryGetValue(path, out List<string>? values) && values.Contains(Convert.ToBase64String(value));

    public byte[] AnyValueOf(string path, ulong pick) => Convert.FromBase64String(EverWritten[path][(int)(pick % (ulong)EverWritten[path].Count)]);
}

/// <summary>Identities besides the owners: a read grantee (later revoked), a write grantee, and a stranger.</summary>
internal sealed record FuzzPeople(string Reader, string Writer, string Intruder)
{
    private readonly Lazy<SecretIdentity[]> _keys = new(() => [Load(Reader), Load(Writer), Load(Intruder)]);

    [JsonIgnore] public SecretIdentity ReaderKey => _keys.Value[0];
    [JsonIgnore] public SecretIdentity WriterKey => _keys.Value[1];
    [JsonIgnore] public SecretIdentity IntruderKey => _keys.Value[2];

    private static SecretIdentity Load(string armored) => SecretIdentity.Load(Encoding.ASCII.GetBytes(armored), "fuzz identity");
}

internal sealed record FuzzCorpus(FuzzPeople People, List<CorpusKeynode> Keynodes)
{
    private const string IndexFile = "corpus.json";

    /// <summary>Loads the corpus kept in <paramref name="directory"/>, or builds it there through the public API.</summary>
    public static FuzzCorpus LoadOrBuild(string directory)
    {
        string index = Path.Combine(directory, IndexFile);
        if (File.Exists(index))
        {
            FuzzCorpus saved = JsonSerializer.Deserialize<FuzzCorpus>(File.ReadAllText(index))
                ?? throw new InvalidDataException($"{index} holds no corpus");
            return saved with { Keynodes = saved.Keynodes.Select(k => k with { Bytes = File.ReadAllBytes(Path.Combine(directory, k.Name + ".keynode")) }).ToList() };
        }
        Directory.CreateDirectory(directory);
        var people = new FuzzPeople(SecretIdentity.Generate("fuzz-reader").ToArmored(),
            SecretIdentity.Generate("fuzz-writer").ToArmored(), SecretIdentity.Generate("fuzz-intruder").ToArmored());
        var corpus = new FuzzCorpus(people, [
            Build(directory, "small", null, BuildSmall),
            Build(directory, "full", null, (path, credential, r) => BuildFull(path, credential, r, people)),
            Build(directory, "sealed", "correct horse battery staple", BuildSmall),
            Build(directory, "packed", null, BuildPacked),
        ]);
        File.WriteAllText(index, JsonSerializer.Serialize(corpus));
        return corpus;
    }

    /// <summary>The model of what was written, kept next to the real writes.</summary>
    private sealed class Recorder
    {
        private readonly Dictionary<string, byte[]> _current = new(StringComparer.Ordinal);
        public Dictionary<string, List<string>> EverWritten { get; } = new(StringComparer.Ordinal);
        public List<List<string>> LiveAfter { get; } = [[]];

        public void Set(Keynode node, string path, string value) => Set(node, path, Encoding.UTF8.GetBytes(value));

        public void Set(Keynode node, string path, byte[] value)
        {
            node.Set(path, value);
            Wrote(path, value);
            Committed();
        }

        public void Wrote(string path, byte[] value)
        {
            _current[path] = value;
            List<string> values = EverWritten.TryGetValue(path, out var known) ? known : EverWritten[path] = [];
            if (!values.Contains(Convert.ToBase64String(value))) values.Add(Convert.ToBase64String(value));
        }

        public void Removed(string path) => _current.Remove(path);

        public void Moved(string from, string to)
        {
            Wrote(to, _current[from]);
            _current.Remove(from);
        }

        public void Committed() => LiveAfter.Add(_current.Keys.Order(StringComparer.Ordinal).ToList());
    }

    private static CorpusKeynode Build(string directory, string name, string? passphrase, Action<string, Credential, Recorder> script)
    {
        string path = Path.Combine(directory, name + ".keynode");
        Credential credential = passphrase is null
            ? TestFiles.OwnerCredential
            : new Credential.Passphrase(() => Encoding.UTF8.GetBytes(passphrase));
        var recorder = new Recorder();
        string ownerKey;
        using (Keynode created = Keynode.Create(path, "fuzz-" + name, credential))
            ownerKey = created.Unlock().ToArmored();
        recorder.Committed();
        script(path, credential, recorder);

        using Keynode node = Keynode.Open(path, credential);
        byte[] bytes = File.ReadAllBytes(path);
        RawLayout layout = TarLayout.Parse(bytes);
        if (node.ChangeCount != recorder.LiveAfter.Count - 1 || layout.Changes.Count != node.ChangeCount || node.Warnings.Count > 0)
            throw new InvalidOperationException($"fuzz corpus {name}: the model ({recorder.LiveAfter.Count - 1} changes) and the file ({layout.Changes.Count}) disagree");
        var live = node.List().Select(s => new LiveSecret(s.Id, s.Path, s.Tip)).ToList();
        var versions = live.SelectMany(s => node.Log(s.Path).Select(v => new PastVersion(s.Id, v.CommitId, v.Path))).ToList();
        return new CorpusKeynode(name, ownerKey, passphrase, recorder.EverWritten, recorder.LiveAfter, live, versions, node.Id) { Bytes = bytes };
    }

    private static void BuildSmall(string path, Credential credential, Recorder r)
    {
        using Keynode node = Keynode.Open(path, credential);
        r.Set(node, "db/password", "hunter2");
        r.Set(node, "api/token", "t-1");
        r.Set(node, "db/password", "hunter3");
    }

    // An import (one pack, its index, packed-refs), a loose edit on top, and a second import:
    // mutations of these reach the pack, index and packed-refs parsers.
    private static void BuildPacked(string path, Credential credential, Recorder r)
    {
        using Keynode node = Keynode.Open(path, credential);
        void Import(string prefix, string round)
        {
            var edits = Enumerable.Range(0, 24).Select(i => new SecretEdit.Set($"{prefix}/s{i:D2}", Encoding.UTF8.GetBytes($"{round}-{i}"))).ToList();
            node.Commit([.. edits]);
            foreach (SecretEdit.Set edit in edits) r.Wrote(edit.Path, edit.Value);
            r.Committed();
        }
        Import("team", "v1");
        r.Set(node, "team/s03", "edited");
        Import("more", "v1");
    }

    // Every kind of change the API makes: values, an empty and a multi-block value, a batch, a
    // removal, a rename, a directory record, grants, a grantee's own write, a revocation.
    private static void BuildFull(string path, Credential credential, Recorder r, FuzzPeople people)
    {
        string writerTip, writerId;
        using (Keynode node = Keynode.Open(path, credential))
        {
            r.Set(node, "prod/db/password", "p1");
            r.Set(node, "prod/api/key", "k1");
            r.Set(node, "staging/db", "");
            r.Set(node, "big/blob", Enumerable.Range(0, 3000).Select(i => (byte)(i * 31 + 7)).ToArray());
            r.Set(node, "prod/db/password", "p2");
            node.Commit([new SecretEdit.Set("a/one", "1"u8.ToArray()), new SecretEdit.Set("a/two", "2"u8.ToArray())]);
            r.Wrote("a/one", "1"u8.ToArray());
            r.Wrote("a/two", "2"u8.ToArray());
            r.Committed();
            node.Remove("prod/api/key");
            r.Removed("prod/api/key");
            r.Committed();
            node.Move("staging/db", "staging/database");
            r.Moved("staging/db", "staging/database");
            r.Committed();
            node.Commit([new SecretEdit.MakeDirectory("empty/dir")]);
            r.Committed();
            node.Grant(people.ReaderKey.Public, read: true, write: false, ["prod/**"]);
            r.Committed();
            node.Grant(people.WriterKey.Public, read: true, write: true, ["shared/**"]);
            r.Committed();
            r.Set(node, "shared/config", "owner-config");
            SecretInfo shared = node.Find("shared/config")!;
            (writerId, writerTip) = (shared.Id, shared.Tip);
        }
        // The write grantee's own version, appended as a grantee's pk would.
        byte[] byWriter = "by-writer"u8.ToArray();
        byte[] file = File.ReadAllBytes(path);
        (_, List<HostileMember> members) = ForgedObjects.Version(RawKeynode.Id(path), writerId, writerTip, ForgedObjects.NextSequence(file, writerTip), "shared/config",
            byWriter, people.WriterKey, [TestFiles.Owner.Public, people.WriterKey.Public]);
        File.WriteAllBytes(path, ForgedObjects.Append(file, members).File);
        r.Wrote("shared/config", byWriter);
        r.Committed();
        using (Keynode node = Keynode.Open(path, credential))
        {
            node.Revoke(people.ReaderKey.Public, []);
            r.Committed();
            r.Set(node, "prod/api/key", "k2");
            r.Set(node, "prod/db/password", "p3");
        }
    }
}
