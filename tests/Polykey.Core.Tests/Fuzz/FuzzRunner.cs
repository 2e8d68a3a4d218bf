using System.Diagnostics;
using System.Globalization;
using CsCheck;

namespace Polykey.Core.Tests.Fuzz;

/// <summary>
/// How long and how hard to fuzz, from the environment: PK_FUZZ_SECONDS (time for cases;
/// the short default keeps the normal test run quick), PK_FUZZ_SEED (replay one case, as the
/// failure report names it), PK_FUZZ_CORPUS (keep or reuse the corpus there, so a replay sees
/// the same bytes), PK_FUZZ_CASE_SECONDS (hang budget per case), PK_FUZZ_MEMORY_MIB.
/// </summary>
internal sealed record FuzzOptions(TimeSpan Budget, TimeSpan CaseBudget, long MemoryBound, string? Replay, string? CorpusDirectory)
{
    public const int DefaultSeconds = 20;

    public static FuzzOptions FromEnvironment() => new(
        TimeSpan.FromSeconds(Number("PK_FUZZ_SECONDS", DefaultSeconds)),
        TimeSpan.FromSeconds(Number("PK_FUZZ_CASE_SECONDS", 5)),
        Number("PK_FUZZ_MEMORY_MIB", 512) << 20,
        Environment.GetEnvironmentVariable("PK_FUZZ_SEED") is { Length: > 0 } seed ? seed : null,
        Environment.GetEnvironmentVariable("PK_FUZZ_CORPUS") is { Length: > 0 } corpus ? corpus : null);

    private static long Number(string name, long fallback) =>
        long.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out long value) && value > 0 ? value : fallback;
}

/// <summary>One failure class: how many cases fell in it and the first few, each replayable by its seed.</summary>
internal sealed class FailureClass(Finding finding, string name)
{
    public Finding Finding { get; } = finding;
    public string Name { get; } = name;
    public int Cases { get; set; }
    public List<(string Seed, string Case, string Detail)> Examples { get; } = [];
}

/// <summary>What a run found: counts by finding, the failure classes, and how the other cases ended.</summary>
internal sealed class FuzzReport
{
    public int Cases { get; set; }
    public int Opened { get; set; }
    public int Refused { get; set; }
    public TimeSpan Elapsed { get; set; }
    public string? CorpusKept { get; set; }
    public Dictionary<Finding, int> Counts { get; } = Enum.GetValues<Finding>().ToDictionary(f => f, _ => 0);
    public Dictionary<string, FailureClass> Classes { get; } = new(StringComparer.Ordinal);

    /// <summary>How cases ended, by kind of ending: to see which defences the cases reached.</summary>
    public Dictionary<string, (int Cases, string Seed)> Outcomes { get; } = new(StringComparer.Ordinal);

    public bool Clean => Classes.Count == 0;

    public void Add(string seed, string description, IReadOnlyList<Failure> failures, string outcome)
    {
        Cases++;
        string kind = outcome.Length > 110 ? outcome[..110] + "…" : outcome;
        Outcomes[kind] = Outcomes.TryGetValue(kind, out var known) ? (known.Cases + 1, known.Seed) : (1, seed);
        if (outcome.StartsWith("opened", StringComparison.Ordinal)) Opened++;
        else if (outcome.StartsWith("refused", StringComparison.Ordinal)) Refused++;
        foreach (Failure failure in failures)
        {
            Counts[failure.Finding]++;
            if (!Classes.TryGetValue(failure.Class, out FailureClass? found)) Classes[failure.Class] = found = new FailureClass(failure.Finding, failure.Class);
            found.Cases++;
            if (found.Examples.Count < 3) found.Examples.Add((seed, description, failure.Detail));
        }
    }

    /// <summary>The one line to paste into docs.</summary>
    public string Summary =>
        $"pk fuzz: {Cases} cases in {Elapsed.TotalSeconds:0} s: {Counts[Finding.Crash]} crashes, {Counts[Finding.Hang]} hangs, " +
        $"{Counts[Finding.Forgery]} forgeries, {Counts[Finding.SilentLoss]} silent losses, {Counts[Finding.OverMemory]} over-memory, " +
        $"{Counts[Finding.Lockout]} lockouts ({Classes.Count} failure classes; {Refused} refused, {Opened} opened)";

    public string Describe()
    {
        var lines = new List<string> { Summary, "  most common endings:" };
        lines.AddRange(Outcomes.OrderByDescending(o => o.Value.Cases).Take(12).Select(o => $"    {o.Value.Cases,6}  {o.Key}  (e.g. {o.Value.Seed})"));
        foreach (FailureClass c in Classes.Values.OrderBy(c => c.Finding).ThenByDescending(c => c.Cases))
        {
            lines.Add($"  [{c.Finding}] {c.Name}: {c.Cases} case(s)");
            foreach ((string seed, string description, string detail) in c.Examples)
                lines.Add($"      PK_FUZZ_SEED={seed}  {description}  => {detail}");
        }
        if (CorpusKept is not null && !Clean)
            lines.Add($"  replay one with: PK_FUZZ_CORPUS={CorpusKept} PK_FUZZ_SEED=<seed> scripts/fuzz.sh");
        return string.Join('\n', lines);
    }
}

/// <summary>
/// Drives the harness: builds (or loads) the corpus, checks the oracle against the unmutated
/// keynodes, then runs one case of each mutation kind from a fixed seed, then cases of mixed
/// kinds from a random seed until the budget is spent. A case's seed is "kind:pcg", enough to
/// generate it again.
/// </summary>
internal static class FuzzRunner
{
    private const string Mixed = "any";
    private const int MaxStuckProbes = 3;
    private static readonly PCG FixedSeed = new(0x706b, 9);

    public static FuzzReport Run(FuzzOptions options, Action<string> log)
    {
        var clock = Stopwatch.StartNew();
        string root = options.CorpusDirectory ?? Directory.CreateTempSubdirectory("pk-fuzz-").FullName;
        string corpusDirectory = options.CorpusDirectory ?? Path.Combine(root, "corpus");
        string cases = Directory.CreateTempSubdirectory("pk-fuzz-cases-").FullName;
        FuzzCorpus corpus = FuzzCorpus.LoadOrBuild(corpusDirectory);
        log($"pk fuzz: corpus {corpusDirectory} ready in {clock.Elapsed.TotalSeconds:0.0} s");
        var report = new FuzzReport();
        try
        {
            CheckUnmutated(corpus, cases, options);
            if (options.Replay is { } replay)
            {
                if (options.CorpusDirectory is null) log("pk fuzz: replaying against a new corpus; set PK_FUZZ_CORPUS to the failing run's corpus for the same bytes");
                Replay(corpus, replay, options, report, log);
                return report;
            }
            clock.Restart();
            int stuck = 0;
            bool Spent() => clock.Elapsed >= options.Budget || stuck >= MaxStuckProbes;
            PCG fixedSeeds = new(FixedSeed.Stream, FixedSeed.Seed);
            foreach ((string kind, _, _) in Mutations.Kinds)
            {
                if (Spent()) break;
                stuck += RunCase(corpus, Seed(kind, fixedSeeds), cases, options, report) ? 1 : 0;
            }
            var randomSeeds = new PCG((uint)Random.Shared.Next(), (ulong)Random.Shared.NextInt64());
            while (!Spent()) stuck += RunCase(corpus, Seed(Mixed, randomSeeds), cases, options, report) ? 1 : 0;
            if (stuck >= MaxStuckProbes) log($"pk fuzz: stopped early, {stuck} probes hung");
            report.Elapsed = clock.Elapsed;
            return report;
        }
        finally
        {
            TryDelete(cases);
            if (options.CorpusDirectory is null)
            {
                if (report.Clean) TryDelete(root);
                else report.CorpusKept = corpusDirectory;
            }
        }
    }

    private static string Seed(string kind, PCG master) => $"{kind}:{new PCG(master.Next(), master.Next64())}";

    /// <summary>Applies a case's mutations and judges the result; true when its probe hung (and still runs).</summary>
    private static bool RunCase(FuzzCorpus corpus, string seed, string directory, FuzzOptions options, FuzzReport report, Action<string>? log = null)
    {
        (FuzzCase fuzzCase, byte[] file, List<string> steps, Effect effects, bool onlyAppends, int? cutTo) = Mutate(corpus, seed);
        CorpusKeynode node = corpus.Keynodes[fuzzCase.Corpus];
        string path = Path.Combine(directory, $"case-{report.Cases}.keynode");
        var caseFile = fuzzCase.Warm ? new CaseFile(path, path + ".cache", path + ".state") : new CaseFile(path);
        if (fuzzCase.Warm)
        {
            // The reader knew the unmutated file: it remembered the scan point, verified commits and pins.
            File.WriteAllBytes(path, node.Bytes);
            using (Keynode warm = caseFile.Open(node)) warm.List();
        }
        File.WriteAllBytes(path, file);
        (List<Failure> failures, string outcome, bool hung) = FuzzOracle.Judge(caseFile, node, Expectation.For(file, node, effects, onlyAppends, cutTo),
            options.CaseBudget, options.MemoryBound);
        string description = $"{node.Name}{(fuzzCase.Warm ? " (warm caches)" : "")}: {string.Join("; ", steps)}";
        report.Add(seed, description, failures, outcome);
        log?.Invoke($"pk fuzz: case {seed}\n  {description}\n  outcome: {outcome}, file kept at {path}");
        foreach (Failure failure in failures) log?.Invoke($"  [{failure.Finding}] {failure.Class}: {failure.Detail}");
        if (log is null && !hung)
        {
            TryDelete(path);
            if (caseFile.CacheDirectory is not null) TryDelete(caseFile.CacheDirectory);
            if (caseFile.StateDirectory is not null) TryDelete(caseFile.StateDirectory);
        }
        return hung;
    }

    private static (FuzzCase, byte[], List<string>, Effect, bool, int?) Mutate(FuzzCorpus corpus, string seed)
    {
        int colon = seed.IndexOf(':');
        if (colon < 0 || (seed[..colon] != Mixed && Mutations.Kinds.All(k => k.Kind != seed[..colon])))
            throw new ArgumentException($"'{seed}' is not a fuzz seed (kind:pcg, kind one of {Mixed}, {string.Join(", ", Mutations.Kinds.Select(k => k.Kind))})");
        FuzzCase fuzzCase = Mutations.Case(seed[..colon]).Generate(PCG.Parse(seed[(colon + 1)..]), null!, out _);
        CorpusKeynode node = corpus.Keynodes[fuzzCase.Corpus];
        byte[] file = node.Bytes;
        var steps = new List<string>();
        Effect effects = Effect.None;
        bool onlyAppends = true;
        int? cutTo = null;
        foreach (Mutation mutation in fuzzCase.Mutations)
        {
            Applied applied;
            try
            {
                applied = mutation.Apply(file, node, corpus.People);
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"the harness failed to apply {mutation.Kind} of case {seed} to {node.Name}: {e.Message}", e);
            }
            file = applied.File;
            steps.Add(applied.Description);
            effects |= applied.Effect;
            onlyAppends &= applied.Effect.HasFlag(Effect.ChainedAppend);
            if (applied.CutTo is { } cut) cutTo = Math.Min(cut, cutTo ?? cut);
        }
        return (fuzzCase, file, steps, effects, onlyAppends, cutTo);
    }

    private static void Replay(FuzzCorpus corpus, string seed, FuzzOptions options, FuzzReport report, Action<string> log)
    {
        string kept = Directory.CreateTempSubdirectory("pk-fuzz-replay-").FullName;
        var clock = Stopwatch.StartNew();
        RunCase(corpus, seed, kept, options, report, log);
        report.Elapsed = clock.Elapsed;
    }

    /// <summary>The oracle must pass every unmutated keynode, or its verdicts on mutated ones mean nothing.</summary>
    private static void CheckUnmutated(FuzzCorpus corpus, string directory, FuzzOptions options)
    {
        foreach (CorpusKeynode node in corpus.Keynodes)
        {
            string path = Path.Combine(directory, node.Name + ".keynode");
            File.WriteAllBytes(path, node.Bytes);
            (List<Failure> failures, string outcome, _) = FuzzOracle.Judge(new CaseFile(path), node, new Expectation(node.LiveAfter[^1], MustServe: true, node.Changes),
                options.CaseBudget * 4, options.MemoryBound);
            if (failures.Count > 0 || outcome != "opened")
                throw new InvalidOperationException($"the unmutated {node.Name} keynode fails the oracle ({outcome}): " +
                    string.Join("; ", failures.Select(f => $"{f.Class}: {f.Detail}")));
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            else File.Delete(path);
        }
        catch (IOException)
        {
            // A hung probe may still hold it; the temp directory is cleaned up later.
        }
    }
}
