using System.CommandLine;
using Polykey.Core;

namespace Polykey.Cli.Commands;

internal static class GcCommand
{
    public static Command Create(GlobalOptions options)
    {
        var json = GlobalOptions.Json();
        var keepVersions = new Option<int?>("--keep-versions")
        {
            Description = "also prune old values: keep the newest N versions' values of each secret (their commits, times and signers stay; the newest value is always kept)",
            HelpName = "N",
        };
        var keepSince = new Option<string?>("--keep-since")
        {
            Description = "also prune old values: keep every version newer than DURATION (30s, 5m, 12h, 30d); with --keep-versions, a version either keeps is kept",
            HelpName = "DURATION",
        };
        var patterns = new Argument<string[]>("patterns")
        {
            Description = "prune only secrets whose path matches one of these patterns (* ** ?, as in grants)",
            Arity = ArgumentArity.ZeroOrMore,
        }.Completes(ValueHint.Secret);
        var command = new Command("gc",
            "Compact the keynode: write it again with each accepted version once and one ref per history, then rename it into place. " +
            "Histories, signatures and 'pk verify' results are unchanged; a running mount follows the new file.\n\n" +
            "With --keep-versions or --keep-since, the values of older versions are dropped too, after the owner signs a pruned statement " +
            "that 'pk verify' checks; 'pk log' shows them as pruned.\n\n" +
            "Examples:\n  pk gc -k ~/admin.keynode\n  pk gc --keep-versions 5 --keep-since 30d\n  pk gc --keep-versions 1 'logs/**'")
            { keepVersions, keepSince, patterns, json };
        command.SetAction(parse =>
        {
            Retention? retention = RetentionOf(parse.GetValue(keepVersions), parse.GetValue(keepSince), parse.GetValue(patterns) ?? []);
            using Keynode keynode = new Session(parse, options).Open(warnOfGrowth: false);
            if (retention is not null) keynode.Unlock(); // pruning is signed: any passphrase prompt comes before the progress bar
            CompactReport report = ProgressBar.Run("compact", progress => retention is null ? keynode.Compact(progress) : keynode.Compact(retention, progress));
            // The compacted file is the one cold readers meet next: index it while the key is at hand (no prompt for it).
            if (keynode.OwnerKeyAtHand) NameIndexing.Write(keynode);
            if (parse.GetValue(json))
            {
                Output.Json(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("keynode", keynode.Path);
                    w.WriteNumber("bytesBefore", report.BytesBefore);
                    w.WriteNumber("bytesAfter", report.BytesAfter);
                    w.WriteNumber("histories", report.Histories);
                    w.WriteNumber("objects", report.Objects);
                    w.WriteNumber("prunedVersions", report.PrunedVersions);
                    w.WriteEndObject();
                });
            }
            else
            {
                string pruned = retention is null && report.PrunedVersions == 0 ? "" : $", {report.PrunedVersions} version value(s) pruned";
                Output.Status($"compacted {keynode.Path}: {ByteSize.Format(report.BytesBefore)} -> {ByteSize.Format(report.BytesAfter)} ({report.Histories} histories, {report.Objects} objects{pruned})");
            }
            return ExitCodes.Success;
        });
        return command;
    }

    // Checked before the keynode is opened: a bad option changes nothing and asks for no passphrase.
    private static Retention? RetentionOf(int? keepVersions, string? keepSince, string[] patterns)
    {
        if (keepVersions is null && keepSince is null)
            return patterns.Length == 0 ? null
                : throw PolykeyException.Usage("patterns name which secrets to prune, so they need --keep-versions N or --keep-since DURATION");
        return new Retention(keepVersions, keepSince is null ? null : Durations.Parse(keepSince, "--keep-since"), patterns);
    }
}
