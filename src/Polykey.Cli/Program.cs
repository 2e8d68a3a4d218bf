using System.CommandLine;
using System.Globalization;
using Polykey.Cli;
using Polykey.Cli.Commands;
using Polykey.Core;
using Polykey.Core.Storage;

ProcessHardening.Apply();
FileLock.WaitNotice = Output.Notice;

var options = new GlobalOptions();
var root = new RootCommand("pk: secrets in one encrypted file, each with its own signed history.\n\nExample:\n  pk init && echo -n s3cret | pk set prod/db/password && pk get prod/db/password");
options.AddTo(root);
foreach (Command command in new[]
{
    InitCommand.Create(options), SetCommand.Create(options), GetCommand.Create(options), LsCommand.Create(options),
    LogCommand.Create(options), RestoreCommand.Create(options), RmCommand.Create(options), MvCommand.Create(options),
    EditCommand.Create(options), EnvCommand.Create(options), IdentityCommand.Create(options),
    MountCommand.Create(options), UnmountCommand.Create(options), VerifyCommand.Create(options),
    AccessCommands.Grant(options), AccessCommands.Revoke(options), AccessCommands.Show(options), AccessCommands.RotateNeeded(options),
    UpgradeCommand.Create(options), UnlockCommand.Create(options), LockCommand.Create(options), GcCommand.Create(options),
    ImportCommand.Create(options), RemoteCommands.Create(options), SyncCommands.Push(options), SyncCommands.Pull(options), SyncCommands.Clone(options), SyncCommands.Resolve(options),
    CompletionCommand.Create(), ManCommand.Create(), ServeCommand.Create(),
})
{
    root.Subcommands.Add(command);
}

ParseResult parse = root.Parse(args);
if (parse.Errors.Count > 0 && parse.Action is not System.CommandLine.Help.HelpAction)
{
    (string message, string hint) = UsageErrors.Describe(parse);
    Output.Error(message, hint);
    return ExitCodes.Usage;
}
try
{
    FileLock.Timeout = LockTimeout();
    return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (PolykeyException e)
{
    Output.Error(e.Message, e.Hint);
    return ExitCodes.For(e.Kind);
}
catch (OperationCanceledException)
{
    Output.Error("cancelled");
    return ExitCodes.Failure;
}
catch (IOException e)
{
    Output.Error(e.Message);
    return ExitCodes.Failure;
}
catch (Exception e)
{
    // Internal faults print only their type: messages of unknown origin might carry data.
    Output.Error($"internal error ({e.GetType().Name})", "please report this with the command you ran");
    return ExitCodes.Failure;
}

// How long to wait for another process's keynode lock: $PK_LOCK_TIMEOUT seconds, else 30.
static TimeSpan LockTimeout()
{
    if (Environment.GetEnvironmentVariable("PK_LOCK_TIMEOUT") is not { Length: > 0 } text) return Limits.DefaultLockWait;
    if (decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal seconds) && seconds <= int.MaxValue)
        return TimeSpan.FromSeconds((double)seconds);
    throw PolykeyException.Usage($"PK_LOCK_TIMEOUT={text} is not a number of seconds", "set it to how long pk may wait for another process's lock, e.g. PK_LOCK_TIMEOUT=120");
}
