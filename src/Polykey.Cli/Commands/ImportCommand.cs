using System.CommandLine;
using Polykey.Core;

namespace Polykey.Cli.Commands;

/// <summary>pk import DIR: a tree of files becomes secrets (path = the file's path under DIR), all in one change.</summary>
internal static class ImportCommand
{
    public static Command Create(GlobalOptions options)
    {
        var directory = new Argument<string>("directory") { Description = "the tree of files to store: each regular file becomes a secret" }.Completes(ValueHint.Directory);
        var prefix = new Option<string?>("--prefix") { Description = "put the secrets under this path (e.g. prod/app)" }.Completes(ValueHint.Secret);
        var maxSize = new Option<long?>("--max-size")
        {
            Description = $"refuse a file larger than SIZE [default: {ByteSize.Format(Limits.DefaultMaxValueBytes)}]",
            HelpName = "SIZE",
            CustomParser = SetCommand.ParseMaxSize,
        };
        var command = new Command("import", "Store every file under a directory as a secret, in one change (existing secrets get a new version).\n\nExample:\n  pk import ./secrets --prefix prod/app")
            { directory, prefix, maxSize };
        command.SetAction(parse =>
        {
            string root = Path.GetFullPath(parse.GetValue(directory)!);
            if (!Directory.Exists(root)) throw PolykeyException.NotFound($"no directory {parse.GetValue(directory)}");
            string? under = parse.GetValue(prefix)?.Trim('/');
            long limit = parse.GetValue(maxSize) ?? Limits.DefaultMaxValueBytes;
            var edits = new List<SecretEdit>();
            try
            {
                foreach (string file in Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }).Order(StringComparer.Ordinal))
                {
                    string relative = Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
                    if (new FileInfo(file).LinkTarget is not null)
                    {
                        Output.Warning($"skipped {relative}: a symbolic link");
                        continue;
                    }
                    string secret = under is { Length: > 0 } ? $"{under}/{relative}" : relative;
                    SecretPath.Validate(secret);
                    byte[] value = BoundedInput.ReadFile(file, limit, "file", FailureKind.Failure)
                        ?? throw PolykeyException.Failed($"{relative} is larger than {ByteSize.Format(limit)}; nothing was imported", "raise the limit with --max-size");
                    edits.Add(new SecretEdit.Set(secret, value));
                }
                if (edits.Count == 0) throw PolykeyException.NotFound($"{parse.GetValue(directory)} holds no file to import");
                using Keynode keynode = new Session(parse, options).Open();
                ProgressBar.Run("import", progress =>
                {
                    keynode.Commit(edits, progress);
                    return edits.Count;
                });
                NameIndexing.Write(keynode);
                Output.Status($"imported {edits.Count} secret(s) in one change");
                return ExitCodes.Success;
            }
            finally
            {
                foreach (SecretEdit edit in edits) if (edit is SecretEdit.Set set) Array.Clear(set.Value);
            }
        });
        return command;
    }
}
