using System.CommandLine;
using Polykey.Core;
using Polykey.Core.Crypto;

namespace Polykey.Cli.Commands;

/// <summary>pk unlock: unseals the owner key once and keeps it in the kernel keyring until it expires (docs/unlock.md).</summary>
internal static class UnlockCommand
{
    public static Command Create(GlobalOptions options)
    {
        var lifetime = new Option<string?>("--for") { Description = "how long the key stays unlocked: 30s, 15m, 2h (default 15m, at most 12h)", HelpName = "DURATION" };
        var command = new Command("unlock", "Unseal the owner key once and keep it in the kernel keyring: no passphrase, no key derivation until it expires or 'pk lock'.\n\nExample:\n  pk unlock --for 2h && pk get prod/db/password") { lifetime };
        command.SetAction(parse =>
        {
            string text = parse.GetValue(lifetime) ?? UnlockedKeys.DefaultLifetime;
            TimeSpan duration = Durations.Parse(text, "--for");
            if (duration > UnlockedKeys.MaxLifetime)
                throw PolykeyException.Usage($"--for {text} is longer than {UnlockedKeys.MaxLifetime.TotalHours}h, the longest pk unlock keeps a key", "unlock again when it runs out");
            var session = new Session(parse, options);
            if (session.IdentityFile is { } keyFile)
                throw PolykeyException.Usage($"identity file {keyFile} is given: commands unlock with it, so pk unlock has nothing to keep",
                    "pk unlock is for a keynode whose owner key is sealed by a passphrase; drop --identity-file ($PK_IDENTITY_FILE)");
            using Keynode keynode = session.Open(useUnlockedKey: false);
            if (!keynode.SealsOwnerKey)
                throw PolykeyException.Usage($"keynode {keynode.Path} keeps its owner key outside the file, in an identity file: there is no passphrase to unlock",
                    "pass the owner's --identity-file (or set $PK_IDENTITY_FILE) instead");
            try
            {
                KernelKeyring.Probe();
                UnlockedKeys.Store(keynode.Id, keynode.Unlock(), duration);
            }
            catch (KernelKeyring.Unavailable e)
            {
                throw PolykeyException.Failed($"cannot keep the owner key of {keynode.Path} in the kernel keyring: {KernelKeyring.Explain(e.Errno)}",
                    "commands still work with the passphrase (--passphrase-file, $PK_PASSPHRASE_FILE or the prompt)");
            }
            Output.Status($"unlocked {keynode.Path} (keynode {keynode.Id}) until {Output.Time(DateTimeOffset.UtcNow + duration)} ({text}); 'pk lock' forgets it sooner");
            return ExitCodes.Success;
        });
        return command;
    }
}
