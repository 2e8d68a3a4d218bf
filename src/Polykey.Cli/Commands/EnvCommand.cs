using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text;
using Polykey.Core;

namespace Polykey.Cli.Commands;

internal static class EnvCommand
{
    public static Command Create(GlobalOptions options)
    {
        var prefix = new Option<string?>("--prefix", "-p") { Description = "only secrets under this prefix; it is cut from the variable names" }.Completes(ValueHint.Secret);
        var format = new Option<string>("--format") { Description = "output when no command is given: sh or json", DefaultValueFactory = _ => "sh" };
        format.AcceptOnlyFromAmong("sh", "json");
        var commandLine = new Argument<string[]>("command") { Description = "command to run with the secrets in its environment (after --)", Arity = ArgumentArity.ZeroOrMore }.Completes(ValueHint.Command);
        var command = new Command("env", "Run a command with secrets as environment variables, or print them.\n\nExamples:\n  pk env --prefix prod/ -- ./app          (prod/db/password becomes DB_PASSWORD)\n  eval \"$(pk env --prefix prod/)\"")
        {
            prefix, format, commandLine,
        };
        command.SetAction(parse =>
        {
            string prefixValue = parse.GetValue(prefix) ?? "";
            string[] argv = parse.GetValue(commandLine) ?? [];
            using Keynode keynode = new Session(parse, options).Open();
            var variables = new List<(string Name, byte[] Value)>();
            try
            {
                foreach ((string name, SecretInfo secret) in EnvironmentNames.Assign(keynode.List(prefixValue.Length == 0 ? null : prefixValue), prefixValue))
                {
                    using SecretBytes value = keynode.Get(secret.Path);
                    if (value.Span.Contains((byte)0))
                        throw PolykeyException.Failed($"secret {secret.Path} holds a NUL byte and cannot be an environment variable");
                    variables.Add((name, value.Span.ToArray()));
                }
                if (argv.Length > 0) return Exec(argv, variables);
                if (parse.GetValue(format) == "json") PrintJson(variables);
                else PrintShell(variables);
                return ExitCodes.Success;
            }
            finally
            {
                foreach (var (_, value) in variables) Array.Clear(value);
            }
        });
        return command;
    }

    private static void PrintShell(List<(string Name, byte[] Value)> variables)
    {
        using var buffer = new MemoryStream();
        foreach (var (name, value) in variables)
        {
            buffer.Write(Encoding.ASCII.GetBytes($"export {name}='"));
            foreach (byte b in value)
            {
                if (b == (byte)'\'') buffer.Write("'\\''"u8);
                else buffer.WriteByte(b);
            }
            buffer.Write("'\n"u8);
        }
        Output.Bytes(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        Array.Clear(buffer.GetBuffer());
    }

    private static void PrintJson(List<(string Name, byte[] Value)> variables)
    {
        var strict = new UTF8Encoding(false, true);
        Output.Json(w =>
        {
            w.WriteStartObject();
            foreach (var (name, value) in variables)
            {
                string text;
                try { text = strict.GetString(value); }
                catch (ArgumentException) { throw PolykeyException.Failed($"the value for {name} is not UTF-8 text and cannot be written as JSON", "use --format sh"); }
                w.WriteString(name, text);
            }
            w.WriteEndObject();
        });
    }

    // Replaces pk with the command, so signals and the exit status belong to it alone.
    private static unsafe int Exec(string[] argv, List<(string Name, byte[] Value)> variables)
    {
        var environment = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
            environment[(string)entry.Key] = Encoding.UTF8.GetBytes((string?)entry.Value ?? "");
        foreach (var (name, value) in variables) environment[name] = value;

        var allocations = new List<IntPtr>();
        byte* Native(ReadOnlySpan<byte> bytes)
        {
            byte* p = (byte*)NativeMemory.Alloc((nuint)bytes.Length + 1);
            bytes.CopyTo(new Span<byte>(p, bytes.Length));
            p[bytes.Length] = 0;
            allocations.Add((IntPtr)p);
            return p;
        }

        byte** args = (byte**)NativeMemory.AllocZeroed((nuint)(argv.Length + 1), (nuint)sizeof(byte*));
        for (int i = 0; i < argv.Length; i++) args[i] = Native(Encoding.UTF8.GetBytes(argv[i]));
        byte** envp = (byte**)NativeMemory.AllocZeroed((nuint)(environment.Count + 1), (nuint)sizeof(byte*));
        int n = 0;
        foreach (var (name, value) in environment)
        {
            byte[] pair = [.. Encoding.UTF8.GetBytes(name + "="), .. value];
            envp[n++] = Native(pair);
            Array.Clear(pair);
        }
        Polykey.Cli.Native.LibC.execvpe(args[0], args, envp);
        int errno = Marshal.GetLastPInvokeError();
        foreach (IntPtr p in allocations) NativeMemory.Free((void*)p);
        NativeMemory.Free(args);
        NativeMemory.Free(envp);
        if (errno == 2) throw PolykeyException.NotFound($"command not found: {argv[0]}");
        throw PolykeyException.Failed($"cannot run {argv[0]} (errno {errno})");
    }
}
