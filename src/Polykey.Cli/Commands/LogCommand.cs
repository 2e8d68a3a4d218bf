using System.CommandLine;
using Polykey.Core;

namespace Polykey.Cli.Commands;

internal static class LogCommand
{
    public static Command Create(GlobalOptions options)
    {
        var path = SecretArguments.Path();
        var json = GlobalOptions.Json();
        var command = new Command("log", "Show a secret's versions: number, time, signer (oldest first).\n\nExample:\n  pk log prod/db/password") { path, json };
        command.SetAction(parse =>
        {
            string secretPath = SecretPath.ValidateLookup(parse.GetValue(path)!);
            using Keynode keynode = new Session(parse, options).Open();
            IReadOnlyList<VersionInfo> versions = keynode.Log(secretPath);
            if (parse.GetValue(json))
            {
                Output.Json(w =>
                {
                    w.WriteStartArray();
                    foreach (VersionInfo v in versions)
                    {
                        w.WriteStartObject();
                        w.WriteNumber("version", v.Number);
                        w.WriteString("time", Output.Time(v.Time));
                        w.WriteString("signer", v.Signer);
                        w.WriteString("path", v.Path);
                        w.WriteNumber("size", v.Size);
                        w.WriteBoolean("removed", v.Removed);
                        w.WriteBoolean("readable", v.Readable);
                        w.WriteBoolean("pruned", v.Pruned);
                        w.WriteString("commit", v.CommitId);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                });
                return ExitCodes.Success;
            }
            foreach (VersionInfo v in versions)
            {
                string what = v.Pruned ? (v.Removed ? "removed (pruned)" : "pruned (value dropped by pk gc)")
                    : !v.Readable ? "not readable here (written before this keynode was granted it)" : v.Removed ? "removed" : $"{v.Size} bytes";
                string name = v.Path == secretPath ? "" : $" (as {v.Path})";
                Output.Line($"{v.Number,4}  {Output.Time(v.Time)}  {v.Signer}  {what}{name}");
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
