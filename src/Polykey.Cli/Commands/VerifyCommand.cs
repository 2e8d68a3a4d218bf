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
                    Output.Strings(w, "problems", report.Problems);
                    w.WriteEndObject();
                });
            }
            else
            {
                string pruned = report.Pruned > 0 ? $" ({report.Pruned} pruned by pk gc, on the owner's signed statement)" : "";
                Output.Line($"{report.Keynode}: {report.Changes} changes, {report.Objects} objects, {report.Histories} histories, {report.Versions} versions{pruned}");
                foreach (string problem in report.Problems) Output.Line($"problem: {problem}");
                Output.Line(report.Ok ? "ok" : $"{report.Problems.Count} problem(s)");
            }
            return report.Ok ? ExitCodes.Success : ExitCodes.Failure;
        });
        return command;
    }
}
