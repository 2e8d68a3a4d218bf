using System.CommandLine;
using Polykey.Core;

namespace Polykey.Cli.Commands;

internal static class VerifyCommand
{
    public static Command Create(GlobalOptions options)
    {
        var json = GlobalOptions.Json();
        var command = new Command("verify", "Check the whole keynode: change records, git objects, every version's signature and encryption. Exit 1 on any problem.\n\nExample:\n  pk verify --json") { json };
        command.SetAction(parse =>
        {
            // Opened directly, not through Session.Open: what opening refused belongs in the report, not in warnings.
            var session = new Session(parse, options);
            using Keynode keynode = Keynode.Open(session.KeynodePath, session.Credential(forInit: false), cacheDirectory: null, Session.StateDirectory);
            keynode.Unlock(); // any passphrase prompt comes before the progress bar
            VerifyReport report = ProgressBar.Run("verify", progress => keynode.Verify(progress));
            IReadOnlyList<OwnerEvent> owner = keynode.OwnerHistory();
            if (parse.GetValue(json))
            {
                Output.Json(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("keynode", report.Keynode);
                    w.WriteBoolean("ok", report.Ok);
                    w.WriteNumber("changes", report.Changes);
                    w.WriteNumber("objects", report.Objects);
                    w.WriteNumber("histories", report.Histories);
                    w.WriteNumber("versions", report.Versions);
                    w.WriteNumber("pruned", report.Pruned);
                    w.WriteBoolean("nameIndexChecked", report.NameIndexChecked);
                    Output.Strings(w, "problems", report.Problems);
                    w.WriteStartArray("owner");
                    foreach (OwnerEvent e in owner)
                    {
                        w.WriteStartObject();
                        w.WriteString("event", e.Revoked ? "revoked" : "rotated");
                        w.WriteString("from", e.From);
                        if (e.To is { } to) w.WriteString("to", to);
                        w.WriteString("time", Output.Time(e.Time));
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                });
            }
            else
            {
                string pruned = report.Pruned > 0 ? $" ({report.Pruned} pruned by pk gc, on the owner's signed statement)" : "";
                Output.Line($"{report.Keynode}: {report.Changes} changes, {report.Objects} objects, {report.Histories} histories, {report.Versions} versions{pruned}");
                foreach (OwnerEvent e in owner) Output.Line(OwnerLine(e));
                if (report.NameIndexChecked) Output.Line("name index: a reader without caches sees what the histories show");
                foreach (string problem in report.Problems) Output.Line($"problem: {problem}");
                Output.Line(report.Ok ? "ok" : $"{report.Problems.Count} problem(s)");
            }
            return report.Ok ? ExitCodes.Success : ExitCodes.Failure;
        });
        return command;
    }

    // Each step of the owner chain, as checked: a transition holds only when both keys signed it.
    private static string OwnerLine(OwnerEvent e) => e.Revoked
        ? $"owner: key {e.From} revoked as compromised (certificate made {Output.Time(e.Time)}); nothing it signed after the revocation is accepted"
        : $"owner: rotated from {e.From} to {e.To} at {Output.Time(e.Time)} (transition signed by both keys); the old key's later versions are refused";
}
