using System.CommandLine;
using Polykey.Core;

namespace Polykey.Cli.Commands;

internal static class SetCommand
{
    public static Command Create(GlobalOptions options)
    {
        var path = SecretArguments.Path();
        var file = new Option<string?>("--file", "-f") { Description = "read the value from this file (default: stdin, or a prompt on a terminal)" };
        var json = GlobalOptions.Json();
        var command = new Command("set", "Store a new version of a secret, byte for byte.\n\nExamples:\n  printf %s 'hunter2' | pk set prod/db/password\n  pk set prod/tls/key --file server.key")
        {
            path, file, json,
        };
        command.SetAction(parse =>
        {
            string secretPath = SecretPath.Validate(parse.GetValue(path)!);
            byte[] value = ReadValue(parse.GetValue(file), secretPath);
            try
            {
                using Keynode keynode = new Session(parse, options).Open();
                int version = keynode.Set(secretPath, value);
                if (parse.GetValue(json))
                    Output.Json(w => { w.WriteStartObject(); w.WriteString("path", secretPath); w.WriteNumber("version", version); w.WriteEndObject(); });
                return ExitCodes.Success;
            }
            finally
            {
                Array.Clear(value);
            }
        });
        return command;
    }

    private static byte[] ReadValue(string? file, string path)
    {
        if (file is not null)
        {
            try { return File.ReadAllBytes(file); }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                throw PolykeyException.NotFound($"value file {file} does not exist");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw PolykeyException.Failed($"cannot read value file {file}");
            }
        }
        if (Terminal.IsInteractive) return Terminal.ReadHidden($"Value for {path}: ");
        using Stream stdin = Console.OpenStandardInput();
        using var buffer = new MemoryStream();
        stdin.CopyTo(buffer);
        byte[] value = buffer.ToArray();
        Array.Clear(buffer.GetBuffer());
        return value;
    }
}
