using System.CommandLine;
using Polykey.Core;

namespace Polykey.Cli.Commands;

internal static class LsCommand
{
    public static Command Create(GlobalOptions options)
    {
        var prefix = new Argument<string?>("prefix") { Description = "list only secrets under this prefix", Arity = ArgumentArity.ZeroOrOne }.Completes(ValueHint.Secret);
        var longFormat = new Option<bool>("--long", "-l") { Description = "show size, versions and modification time" };
        var json = GlobalOptions.Json();
        var command = new Command("ls", "List secret names.\n\nExample:\n  pk ls prod/ -l") { prefix, longFormat, json };
        command.SetAction(parse =>
        {
            using Keynode keynode = new Session(parse, options).Open();
            bool detailed = parse.GetValue(longFormat) || parse.GetValue(json);
            IReadOnlyList<SecretInfo> secrets = keynode.List(parse.GetValue(prefix), countVersions: detailed);
            if (parse.GetValue(json))
            {
                Output.Json(w =>
                {
                    w.WriteStartArray();
                    foreach (SecretInfo s in secrets)
                    {
                        w.WriteStartObject();
                        w.WriteString("path", s.Path);
                        w.WriteString("id", s.Id);
                        w.WriteNumber("size", s.Size);
                        w.WriteNumber("versions", s.Versions);
                        w.WriteString("modified", Output.Time(s.Modified));
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                });
            }
            else
            {
                bool detailedLines = parse.GetValue(longFormat);
                Output.Lines(secrets.Select(s => detailedLines ? $"{s.Size,10} {s.Versions,4} {Output.Time(s.Modified)} {s.Path}" : s.Path));
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
