using System.CommandLine;
using Polykey.Core;

namespace Polykey.Cli.Commands;

internal static class GcCommand
{
    public static Command Create(GlobalOptions options)
    {
        var json = GlobalOptions.Json();
        var command = new Command("gc",
            "Compact the keynode: write it again with each accepted version once and one ref per history, then rename it into place. " +
            "Histories, signatures and 'pk verify' results are unchanged; a running mount follows the new file.\n\nExample:\n  pk gc -k ~/admin.keynode")
            { json };
        command.SetAction(parse =>
        {
            using Keynode keynode = new Session(parse, options).Open();
            CompactReport report = ProgressBar.Run("compact", progress => keynode.Compact(progress));
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
                    w.WriteEndObject();
                });
            }
            else
            {
                Output.Status($"compacted {keynode.Path}: {ByteSize.Format(report.BytesBefore)} -> {ByteSize.Format(report.BytesAfter)} ({report.Histories} histories, {report.Objects} objects)");
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
