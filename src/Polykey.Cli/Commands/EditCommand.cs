using System.CommandLine;
using System.Diagnostics;
using Polykey.Core;

namespace Polykey.Cli.Commands;

internal static class EditCommand
{
    public static Command Create(GlobalOptions options)
    {
        var path = SecretArguments.Path();
        var command = new Command("edit", "Edit a secret in $VISUAL or $EDITOR on a memory-only file; a changed file becomes a new version.\n\nExample:\n  EDITOR=nano pk edit prod/app/config") { path };
        command.SetAction(parse =>
        {
            string secretPath = SecretPath.ValidateLookup(parse.GetValue(path)!);
            using Keynode keynode = new Session(parse, options).Open();
            byte[] before = Current(keynode, secretPath);
            byte[] after = [];
            try
            {
                using var directory = MemoryDirectory.Create();
                string file = Path.Combine(directory.Path, Path.GetFileName(secretPath));
                File.WriteAllBytes(file, before);
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                int status = RunEditor(file);
                if (status != 0)
                    throw PolykeyException.Failed($"the editor exited with status {status}; {secretPath} was not changed");
                bool removed = !File.Exists(file); // an editor that removed the file changed nothing
                if (!removed) after = ReadEdited(file, secretPath);
                if (removed || after.AsSpan().SequenceEqual(before))
                {
                    Output.Status($"{secretPath}: unchanged");
                    return ExitCodes.Success;
                }
                int version = keynode.Set(secretPath, after);
                Output.Status($"{secretPath}: saved as version {version}");
                return ExitCodes.Success;
            }
            finally
            {
                Array.Clear(after);
                Array.Clear(before);
            }
        });
        return command;
    }

    private static byte[] ReadEdited(string file, string path) =>
        BoundedInput.ReadFile(file, Limits.DefaultMaxValueBytes, "edited file", FailureKind.Failure)
        ?? throw PolykeyException.Failed($"the edited file is larger than {ByteSize.Format(Limits.DefaultMaxValueBytes)}; {path} was not changed",
            "store a larger value with 'pk set --file F --max-size SIZE'");

    private static byte[] Current(Keynode keynode, string path)
    {
        try
        {
            using SecretBytes value = keynode.Get(path);
            return value.Span.ToArray();
        }
        catch (PolykeyException e) when (e.Kind == FailureKind.NotFound)
        {
            return [];
        }
    }

    private static int RunEditor(string file)
    {
        string editor = Environment.GetEnvironmentVariable("VISUAL") is { Length: > 0 } visual ? visual
            : Environment.GetEnvironmentVariable("EDITOR") is { Length: > 0 } configured ? configured : "vi";
        string program = Path.GetFileName(editor.Split(' ', 2)[0]);
        // vim keeps registers in ~/.viminfo on disk: switch that off, and the swap file with it.
        string extra = program is "vi" or "vim" or "nvim" or "view" or "vim.basic" or "vim.tiny" ? " -n -i NONE" : "";
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        foreach (string arg in new[] { "-c", editor + extra + " \"$@\"", "pk-edit", file }) start.ArgumentList.Add(arg);
        using Process process = Process.Start(start) ?? throw PolykeyException.Failed($"cannot start the editor {editor}");
        process.WaitForExit();
        return process.ExitCode;
    }
}
