using System.CommandLine;
using System.Text;
using Polykey.Core;

namespace Polykey.Cli.Commands;

internal static class IdentityCommand
{
    public static Command Create(GlobalOptions options)
    {
        var command = new Command("identity", "Show, export, rotate or revoke the keynode's owner identity.");
        command.Subcommands.Add(Show(options));
        command.Subcommands.Add(Export(options));
        command.Subcommands.Add(IdentityRotateCommand.Create(options));
        command.Subcommands.Add(IdentityRevocationCommand.Create(options));
        command.Subcommands.Add(IdentityRevokeOwnerCommand.Create(options));
        return command;
    }

    private static Command Show(GlobalOptions options)
    {
        var json = GlobalOptions.Json();
        var armor = new Option<bool>("--armor") { Description = "also print the armored public key" };
        var command = new Command("show", "Show the owner identity: fingerprint, label, public key.\n\nExample:\n  pk identity show --json") { json, armor };
        command.SetAction(parse =>
        {
            using Keynode keynode = new Session(parse, options).Open();
            var owner = keynode.Owner;
            if (parse.GetValue(json))
            {
                Output.Json(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("fingerprint", owner.Fingerprint);
                    w.WriteString("label", owner.Label);
                    w.WriteString("created", Output.Time(owner.Created));
                    w.WriteString("keynode", keynode.Path);
                    w.WriteString("publicKey", owner.ToArmored());
                    w.WriteString("firstOwner", keynode.FirstOwner.Fingerprint);
                    w.WriteBoolean("revoked", keynode.OwnerRevoked);
                    w.WriteEndObject();
                });
                return ExitCodes.Success;
            }
            Output.Line($"fingerprint {owner.Fingerprint}");
            Output.Line($"label       {owner.Label}");
            Output.Line($"created     {Output.Time(owner.Created)}");
            // After a rotation, the key the keynode started with (what remotes and readers pinned) differs.
            if (keynode.FirstOwner.Fingerprint != owner.Fingerprint) Output.Line($"first owner {keynode.FirstOwner.Fingerprint}");
            if (keynode.OwnerRevoked) Output.Line("revoked     yes (compromised: signs nothing new)");
            if (parse.GetValue(armor)) Output.Bytes(Encoding.ASCII.GetBytes(owner.ToArmored()));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Export(GlobalOptions options)
    {
        var secret = new Option<bool>("--secret") { Description = "export the secret key, unprotected (for gpg --import or a machine's --identity-file)" };
        var readOnly = new Option<bool>("--read-only") { Description = "export a read-only credential: decrypts, cannot sign (for machines that only read)" };
        var output = new Option<string?>("--output", "-o") { Description = "write to this file (created with mode 0600) instead of stdout" }.Completes(ValueHint.File);
        var command = new Command("export", "Export the owner key, armored: public by default, --secret for the whole key.\n\nExamples:\n  pk identity export > admin.pub\n  pk identity export --secret -o server.key\n  pk identity export --read-only -o reader.key") { secret, readOnly, output };
        command.SetAction(parse =>
        {
            using Keynode keynode = new Session(parse, options).Open();
            if (parse.GetValue(secret) && parse.GetValue(readOnly))
                throw PolykeyException.Usage("--secret and --read-only exclude each other");
            string armored = parse.GetValue(secret) ? keynode.Unlock().ToArmored()
                : parse.GetValue(readOnly) ? keynode.Unlock().ToReadOnlyArmored()
                : keynode.Owner.ToArmored();
            byte[] bytes = Encoding.ASCII.GetBytes(armored);
            if (parse.GetValue(output) is { } file) WritePrivately(file, bytes);
            else Output.Bytes(bytes);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Writes a new file readable by this user only; an existing file is never replaced (exit 5).</summary>
    internal static void WritePrivately(string file, byte[] bytes)
    {
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite };
            using var stream = new FileStream(file, options);
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        catch (IOException) when (File.Exists(file))
        {
            throw PolykeyException.Conflict($"{file} already exists", "choose another file, or remove it first");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw PolykeyException.Failed($"cannot write {file}: {e.Message}");
        }
    }
}
