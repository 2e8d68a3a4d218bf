using System.CommandLine;
using Polykey.Core;

namespace Polykey.Cli.Commands;

/// <summary>pk lock: forgets an owner key kept by pk unlock before its time is up.</summary>
internal static class LockCommand
{
    public static Command Create(GlobalOptions options)
    {
        var all = new Option<bool>("--all") { Description = "forget the unlocked owner key of every keynode of this user" };
        var command = new Command("lock", "Forget an owner key that 'pk unlock' keeps in the kernel keyring; commands ask for the passphrase again.\n\nExamples:\n  pk lock\n  pk lock --all") { all };
        command.SetAction(parse =>
        {
            if (parse.GetValue(all)) return LockAll();
            var session = new Session(parse, options);
            // Only the keynode's id is needed: no credential.
            using Keynode keynode = Keynode.Open(session.KeynodePath, null, Session.CacheDirectory, Session.StateDirectory);
            foreach (string warning in keynode.Warnings) Output.Warning(warning);
            bool forgotten;
            try
            {
                forgotten = UnlockedKeys.Forget(keynode.Id);
            }
            catch (KernelKeyring.Unavailable e)
            {
                Output.Status($"nothing to forget: this process cannot reach the kernel keyring, so no command here can use an unlocked key: {KernelKeyring.Explain(e.Errno)}");
                return ExitCodes.Success;
            }
            Output.Status(forgotten
                ? $"locked {keynode.Path} (keynode {keynode.Id}): its owner key is gone from the kernel keyring"
                : $"{keynode.Path} (keynode {keynode.Id}) was not unlocked; nothing to forget");
            return ExitCodes.Success;
        });
        return command;
    }

    private static int LockAll()
    {
        List<string> forgotten;
        try
        {
            forgotten = UnlockedKeys.ForgetAll();
        }
        catch (KernelKeyring.Unavailable e)
        {
                Output.Status($"nothing to forget: this process cannot reach the kernel keyring, so no command here can use an unlocked key: {KernelKeyring.Explain(e.Errno)}");
            return ExitCodes.Success;
        }
        Output.Status(forgotten.Count == 0
            ? "nothing was unlocked; nothing to forget"
            : $"locked {forgotten.Count} keynode{(forgotten.Count == 1 ? "" : "s")}: {string.Join(", ", forgotten.Select(d => d["polykey:".Length..]))}");
        return ExitCodes.Success;
    }
}
