using System.CommandLine;
using System.CommandLine.Parsing;
using Polykey.Core;

namespace Polykey.Cli.Commands;

internal static class SetCommand
{
    public static Command Create(GlobalOptions options)
    {
        var path = SecretArguments.Path();
        var file = new Option<string?>("--file", "-f") { Description = "read the value from this file (default: stdin, or a prompt on a terminal)" }.Completes(ValueHint.File);
        var maxSize = new Option<long?>("--max-size")
        {
            Description = $"refuse a value larger than SIZE: bytes, or with K, M, G (KiB, MiB, GiB) [default: {ByteSize.Format(Limits.DefaultMaxValueBytes)}; at most {ByteSize.Format(Limits.MaxValueBytes)}]",
            HelpName = "SIZE",
            CustomParser = ParseMaxSize,
        };
        var json = GlobalOptions.Json();
        var command = new Command("set", "Store a new version of a secret, byte for byte.\n\nExamples:\n  printf %s 'hunter2' | pk set prod/db/password\n  pk set prod/tls/key --file server.key --max-size 128M")
        {
            path, file, maxSize, json,
        };
        command.SetAction(parse =>
        {
            string secretPath = SecretPath.ValidateLookup(parse.GetValue(path)!);
            byte[] value = ReadValue(parse.GetValue(file), secretPath, parse.GetValue(maxSize) ?? Limits.DefaultMaxValueBytes);
            try
            {
                using Keynode keynode = new Session(parse, options).Open();
                keynode.Write(secretPath, value);
                if (parse.GetValue(json))
                {
                    int version = keynode.CurrentVersionNumber(secretPath);
                    Output.Json(w => { w.WriteStartObject(); w.WriteString("path", secretPath); w.WriteNumber("version", version); w.WriteEndObject(); });
                }
                return ExitCodes.Success;
            }
            finally
            {
                Array.Clear(value);
            }
        });
        return command;
    }

    internal static long? ParseMaxSize(ArgumentResult result)
    {
        if (result.Tokens.Count == 0) return null;
        string text = result.Tokens[0].Value;
        long? size = ByteSize.Parse(text);
        if (size is null)
            result.AddError($"--max-size '{text}' is not a size: give bytes, or a number with K, M or G (KiB, MiB, GiB)");
        else if (size > Limits.MaxValueBytes)
            result.AddError($"--max-size {text} is more than the largest value pk stores, {ByteSize.Format(Limits.MaxValueBytes)}");
        return size;
    }

    private static byte[] ReadValue(string? file, string path, long limit)
    {
        byte[]? value;
        string source;
        if (file is not null)
        {
            value = BoundedInput.ReadFile(file, limit, "value file", FailureKind.Failure);
            source = $"value file {file}";
        }
        else if (Terminal.IsInteractive)
        {
            value = Terminal.ReadHidden($"Value for {path}: ");
            source = "value typed";
            if (value.Length > limit)
            {
                Array.Clear(value);
                value = null;
            }
        }
        else
        {
            using Stream stdin = Console.OpenStandardInput();
            value = BoundedInput.Read(stdin, limit);
            source = "value on stdin";
        }
        return value ?? throw PolykeyException.Failed($"the {source} is larger than {ByteSize.Format(limit)}; {path} was not changed",
            $"to store larger values, raise the limit with --max-size (at most {ByteSize.Format(Limits.MaxValueBytes)})");
    }
}
