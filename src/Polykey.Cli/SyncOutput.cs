using Polykey.Core.Sync;

namespace Polykey.Cli;

/// <summary>How a push or pull tells what it did: a line per history for people, or JSON.</summary>
internal static class SyncOutput
{
    private const int MaxListed = 20;

    public static void Print(SyncReport report, string verb, string where, bool json)
    {
        if (json)
        {
            Output.Json(w =>
            {
                w.WriteStartObject();
                w.WriteString("remote", where);
                w.WriteStartArray(verb == "pushed" ? "sent" : "received");
                foreach (SyncedHistory moved in report.Moved) Entry(w, moved.Path, moved.Id, null);
                w.WriteEndArray();
                w.WriteStartArray("refused");
                foreach (SyncRefusal refused in report.Refused) Entry(w, refused.Path, refused.Id, refused.Reason);
                w.WriteEndArray();
                w.WriteStartArray("conflicts");
                foreach (SyncConflict conflict in report.Conflicts)
                {
                    w.WriteStartObject();
                    w.WriteString("path", conflict.Path);
                    w.WriteString("id", conflict.Id);
                    w.WriteString("ours", conflict.Ours);
                    w.WriteString("theirs", conflict.Theirs);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteStartArray("skipped");
                foreach (SyncRefusal skipped in report.Skipped) Entry(w, skipped.Path, skipped.Id, skipped.Reason);
                w.WriteEndArray();
                w.WriteNumber("upToDate", report.UpToDate);
                w.WriteNumber("older", report.Older);
                w.WriteEndObject();
            });
            return;
        }
        // A few paths are worth a line each; thousands are not (--json lists them all).
        if (report.Moved.Count <= MaxListed)
            foreach (SyncedHistory moved in report.Moved) Output.Status($"  {moved.Path}");
        foreach (SyncConflict conflict in report.Conflicts)
            Output.Status($"  conflict: {conflict.Path} changed on both sides; both versions are kept (settle with 'pk resolve {conflict.Path} --ours|--theirs')");
        foreach (SyncRefusal refused in report.Refused)
            Output.Warning($"refused {refused.Path ?? "history " + refused.Id[..8]}: {refused.Reason}");
        Output.Status($"{verb} {report.Moved.Count} history(ies) {(verb == "pushed" ? "to" : "from")} {where}"
            + $"; {report.UpToDate} up to date" + (report.Older > 0 ? $", {report.Older} older there" : "")
            + (report.Conflicts.Count > 0 ? $", {report.Conflicts.Count} in conflict" : "")
            + (report.Refused.Count > 0 ? $", {report.Refused.Count} refused" : "")
            + (report.Skipped.Count > 0 ? $", {report.Skipped.Count} not taken (other keynodes' or outside the remote's paths)" : ""));
    }

    /// <summary>Exit 5 when anything is in conflict, 4 when anything was refused, else 0.</summary>
    public static int ExitCode(SyncReport report) =>
        report.Conflicts.Count > 0 ? ExitCodes.Conflict : report.Refused.Count > 0 ? ExitCodes.AccessDenied : ExitCodes.Success;

    private static void Entry(System.Text.Json.Utf8JsonWriter w, string? path, string id, string? reason)
    {
        w.WriteStartObject();
        if (path is not null) w.WriteString("path", path);
        w.WriteString("id", id);
        if (reason is not null) w.WriteString("reason", reason);
        w.WriteEndObject();
    }
}
