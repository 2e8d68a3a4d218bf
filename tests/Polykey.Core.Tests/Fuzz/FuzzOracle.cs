using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Polykey.Core.Tests.Fuzz;

internal enum Finding { Crash, Hang, Forgery, SilentLoss, OverMemory, Lockout }

/// <summary>One failure of a case; <see cref="Class"/> groups failures that are likely one bug.</summary>
internal sealed record Failure(Finding Finding, string Class, string Detail);

/// <summary>Where a case's keynode lies, and the reader's cache and state directories when the case opens with warm caches.</summary>
internal sealed record CaseFile(string Path, string? CacheDirectory = null, string? StateDirectory = null)
{
    /// <summary>Opens the keynode there as the oracle does: with the caches when the case has them.</summary>
    public Keynode Open(CorpusKeynode node) => Keynode.Open(Path, node.Credential, CacheDirectory, StateDirectory);
}

/// <summary>
/// What a mutated file must still show. <see cref="MustList"/>: the paths a reader must list
/// whenever Verify reports no problem (null when the file was resealed: a rewritten file may
/// honestly look like an earlier one). <see cref="MustServe"/>: only crafted, well-framed
/// changes were appended, so every original secret must still open and read.
/// <see cref="WholeChanges"/>: how many changes lie whole and in order in the file.
/// </summary>
internal sealed record Expectation(IReadOnlyList<string>? MustList, bool MustServe, int WholeChanges)
{
    /// <param name="cutTo">The fewest whole changes any cut in the case left, or null when nothing was cut.</param>
    public static Expectation For(byte[] file, CorpusKeynode node, Effect effects, bool onlyAppends, int? cutTo)
    {
        RawLayout layout = TarLayout.Parse(file);
        if (effects.HasFlag(Effect.Resealed)) return new(null, false, layout.IntactChanges);
        // Cut (or zeroed to the end) inside change k: the file legitimately opens as change k-1
        // (§3.3). Anything else that stops the walk early is damage a reader must not hide.
        bool cleanCut = layout.Stop == ParseStop.EndOfFile && !TarLayout.RecordAfter(file, layout.StopAt)
            || TarLayout.OnlyZerosFrom(file, layout.StopAt);
        int whole = Math.Min(cleanCut ? layout.IntactChanges : node.Changes, cutTo ?? node.Changes);
        return new(node.LiveAfter[Math.Min(whole, node.Changes)], onlyAppends, layout.IntactChanges);
    }
}

/// <summary>
/// Opens one mutated keynode on a worker thread with a time budget and judges what it shows.
/// Acceptable: a PolykeyException at any step, or values that are exactly ones ever written
/// for their path. Failures: any other exception (crash), no answer within the budget (hang),
/// a value never written (forgery), more than the memory bound allocated (over-memory), fewer
/// secrets while Verify reports no problem (silent loss), and original secrets lost to
/// well-framed appended changes (lockout).
/// </summary>
internal static class FuzzOracle
{
    private const int LoggedHistories = 3;

    private sealed class Probe
    {
        public volatile string Step = "open";
        public Exception? Crash;
        public PolykeyException? FirstRefusal;
        public List<string>? Listed;
        public long ChangeCount;
        public readonly List<string> Unreadable = [];
        public readonly List<string> Forged = [];
        public VerifyReport? Report;
        public long Allocated;

        public void Refused(PolykeyException e) => FirstRefusal ??= e;
    }

    public static (List<Failure> Failures, string Outcome, bool Hung) Judge(CaseFile file, CorpusKeynode node, Expectation expect, TimeSpan budget, long memoryBound)
    {
        var probe = new Probe();
        var worker = new Thread(() => Run(file, node, probe), 16 << 20) { IsBackground = true, Name = "pk-fuzz-probe" };
        worker.Start();
        if (!worker.Join(budget))
            return ([new Failure(Finding.Hang, $"hang: no answer within {budget.TotalSeconds:0} s", $"still in step {probe.Step}")], "hang", true);

        var failures = new List<Failure>();
        if (probe.Crash is { } crash)
            failures.Add(new Failure(Finding.Crash, $"crash: {crash.GetType().Name} in {ThrowingFrame(crash)}", $"during {probe.Step}: {crash.Message}"));
        if (probe.Forged.Count > 0)
            failures.Add(new Failure(Finding.Forgery, "forgery: a value never written is shown", string.Join("; ", probe.Forged)));
        if (probe.Allocated > memoryBound)
            failures.Add(new Failure(Finding.OverMemory, $"over-memory: one open allocated more than {memoryBound >> 20} MiB",
                $"{probe.Allocated >> 20} MiB allocated by the time of {probe.Step}"));
        if (expect.MustServe && probe.Crash is null && Lockout(file.Path, node, probe) is { } lockout)
            failures.Add(lockout);
        if (expect.MustList is { } must && probe is { Report.Ok: true, Listed: { } listed })
        {
            var missing = must.Except(listed).ToList();
            if (missing.Count > 0)
            {
                string what = probe.ChangeCount >= expect.WholeChanges ? "secrets hidden though every whole change was read"
                    : probe.ChangeCount == expect.WholeChanges - 1 ? "the last whole change dropped"
                    : "later whole changes dropped";
                failures.Add(new Failure(Finding.SilentLoss, $"silent loss: {what}, and Verify reports no problem",
                    $"the reader took {probe.ChangeCount} changes and lists {listed.Count} secrets; missing {string.Join(", ", missing)}"));
            }
        }
        string outcome = probe.Crash is not null ? "crash"
            : probe.FirstRefusal is { } refusal ? "refused: " + Normalize(refusal.Message, file.Path)
            : probe.Report is { Ok: false } report ? "opened, verify: " + Normalize(report.Problems[0], file.Path)
            : "opened";
        return (failures, outcome, false);
    }

    private static void Run(CaseFile file, CorpusKeynode node, Probe probe)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            using Keynode keynode = file.Open(node);
            probe.Step = "list";
            List<string> listed = keynode.List().Select(s => s.Path).ToList();
            probe.ChangeCount = keynode.ChangeCount;
            probe.Listed = listed;
            probe.Step = "get";
            foreach (string secret in listed) Read(probe, node, secret, secret, () => keynode.Get(secret));
            probe.Step = "log";
            foreach (string secret in listed.Take(LoggedHistories))
            {
                try
                {
                    foreach (VersionInfo v in keynode.Log(secret).Where(v => !v.Removed))
                        Read(probe, node, $"{secret} version {v.Number}", v.Path, () => keynode.Get(secret, v.Number));
                }
                catch (PolykeyException e)
                {
                    probe.Refused(e);
                }
            }
            probe.Step = "verify";
            probe.Report = keynode.Verify();
        }
        catch (PolykeyException e)
        {
            probe.Refused(e);
        }
        catch (Exception e)
        {
            probe.Crash = e;
        }
        finally
        {
            probe.Allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }
    }

    private static void Read(Probe probe, CorpusKeynode node, string what, string writtenAs, Func<SecretBytes> get)
    {
        try
        {
            using SecretBytes value = get();
            if (!node.WasWritten(writtenAs, value.Span)) probe.Forged.Add($"{what} shows a {value.Length}-byte value never written to {writtenAs}");
        }
        catch (PolykeyException e)
        {
            probe.Unreadable.Add(writtenAs);
            probe.Refused(e);
        }
    }

    private static Failure? Lockout(string path, CorpusKeynode node, Probe probe)
    {
        if (probe.Listed is null)
            return new Failure(Finding.Lockout, "lockout: " + Normalize(probe.FirstRefusal?.Message ?? "no listing", path),
                $"an appended change made {probe.Step} fail: {probe.FirstRefusal?.Message}");
        var lost = node.LiveAfter[^1].Where(p => !probe.Listed.Contains(p) || probe.Unreadable.Contains(p)).ToList();
        return lost.Count == 0 ? null
            : new Failure(Finding.Lockout, "lockout: an appended change hid or broke original secrets", $"lost {string.Join(", ", lost)}");
    }

    /// <summary>The innermost Polykey.Core method the exception left.</summary>
    private static string ThrowingFrame(Exception e)
    {
        foreach (StackFrame frame in new StackTrace(e, false).GetFrames())
        {
            Type? type = frame.GetMethod()?.DeclaringType;
            if (type?.FullName is { } name && name.StartsWith("Polykey.Core.", StringComparison.Ordinal) && !name.StartsWith("Polykey.Core.Tests", StringComparison.Ordinal))
                return $"{(type.DeclaringType ?? type).Name}.{frame.GetMethod()!.Name}";
        }
        return "(no Polykey.Core frame)";
    }

    /// <summary>A message with the file, ids and numbers taken out, so refusals of one kind share a class.</summary>
    public static string Normalize(string message, string path)
    {
        string text = message.Replace(path, "<file>");
        text = Regex.Replace(text, "[0-9a-fA-F]{8,}", "<id>");
        return Regex.Replace(text, "[0-9]+", "N");
    }
}
