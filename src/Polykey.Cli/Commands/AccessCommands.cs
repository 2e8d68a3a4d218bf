using System.CommandLine;
using Polykey.Core;
using Polykey.Core.Access;
using Polykey.Core.Crypto;

namespace Polykey.Cli.Commands;

/// <summary>pk grant, pk revoke, pk access, pk rotate-needed: capabilities are keys.</summary>
internal static class AccessCommands
{
    public static Command Grant(GlobalOptions options)
    {
        var identity = new Argument<string>("identity") { Description = "fingerprint, label, or exported public key file" }.Completes(ValueHint.File);
        var patterns = new Argument<string[]>("patterns") { Description = "path patterns: prod/**, prod/*/password", Arity = ArgumentArity.OneOrMore }.Completes(ValueHint.Secret);
        var read = new Option<bool>("--read") { Description = "may read matching secrets (they are re-encrypted to include it)" };
        var write = new Option<bool>("--write") { Description = "may write matching secrets (its signed commits are accepted)" };
        var command = new Command("grant", "Let another identity read or write secrets matching patterns.\n\nExample:\n  pk grant server.pub --read 'prod/**'") { identity, patterns, read, write };
        command.SetAction(parse =>
        {
            if (!parse.GetValue(read) && !parse.GetValue(write)) throw PolykeyException.Usage("say --read, --write, or both");
            using Keynode keynode = new Session(parse, options).Open();
            Identity who = keynode.ResolveIdentity(parse.GetValue(identity)!);
            keynode.Unlock(); // any passphrase prompt comes before the progress bar
            IReadOnlyList<string> reencrypted = ProgressBar.Run("grant",
                progress => keynode.Grant(who, parse.GetValue(read), parse.GetValue(write), parse.GetValue(patterns)!, progress));
            Output.Status($"granted {who.Label} ({who.Fingerprint}); {reencrypted.Count} secret(s) re-encrypted");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Revoke(GlobalOptions options)
    {
        var identity = new Argument<string>("identity") { Description = "fingerprint, label, or key file" }.Completes(ValueHint.File);
        var patterns = new Argument<string[]>("patterns") { Description = "withdraw only these patterns (default: every right)", Arity = ArgumentArity.ZeroOrMore }.Completes(ValueHint.Secret);
        var json = GlobalOptions.Json();
        var command = new Command("revoke", "Withdraw an identity's rights; what it could read is re-encrypted without its key and listed for rotation.\n\nExample:\n  pk revoke laptop") { identity, patterns, json };
        command.SetAction(parse =>
        {
            using Keynode keynode = new Session(parse, options).Open();
            Identity who = keynode.ResolveIdentity(parse.GetValue(identity)!);
            keynode.Unlock(); // any passphrase prompt comes before the progress bar
            IReadOnlyList<string> exposed = ProgressBar.Run("revoke", progress => keynode.Revoke(who, parse.GetValue(patterns) ?? [], progress));
            if (parse.GetValue(json))
            {
                Output.Json(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("revoked", who.Fingerprint);
                    Output.Strings(w, "rotate", exposed);
                    w.WriteEndObject();
                });
            }
            else
            {
                Output.Status($"revoked {who.Label} ({who.Fingerprint}); it could read {exposed.Count} secret(s): rotate them (see 'pk rotate-needed')");
                foreach (string path in exposed) Output.Line(path);
            }
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Show(GlobalOptions options)
    {
        var json = GlobalOptions.Json();
        var command = new Command("access", "Show who may read and write what.\n\nExample:\n  pk access --json") { json };
        command.SetAction(parse =>
        {
            using Keynode keynode = new Session(parse, options).Open();
            keynode.Unlock();
            AccessList access = keynode.Access;
            if (parse.GetValue(json))
            {
                Output.Json(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("owner", keynode.Owner.Fingerprint);
                    w.WriteStartArray("grants");
                    foreach (Grant grant in access.Grants)
                    {
                        w.WriteStartObject();
                        w.WriteString("fingerprint", grant.Identity.Fingerprint);
                        w.WriteString("label", grant.Identity.Label);
                        Output.Strings(w, "read", grant.Read);
                        Output.Strings(w, "write", grant.Write);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteStartArray("revoked");
                    foreach (Revocation r in access.Revocations)
                    {
                        w.WriteStartObject();
                        w.WriteString("fingerprint", r.Identity.Fingerprint);
                        w.WriteString("label", r.Identity.Label);
                        w.WriteString("time", Output.Time(r.Time));
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                });
                return ExitCodes.Success;
            }
            Output.Line($"owner {keynode.Owner.Label} {keynode.Owner.Fingerprint}: read, write **");
            foreach (Grant grant in access.Grants)
            {
                if (grant.Read.Count > 0) Output.Line($"{grant.Identity.Label} {grant.Identity.Fingerprint}: read {string.Join(' ', grant.Read)}");
                if (grant.Write.Count > 0) Output.Line($"{grant.Identity.Label} {grant.Identity.Fingerprint}: write {string.Join(' ', grant.Write)}");
            }
            foreach (Revocation r in access.Revocations) Output.Line($"{r.Identity.Label} {r.Identity.Fingerprint}: revoked {Output.Time(r.Time)}");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command RotateNeeded(GlobalOptions options)
    {
        var json = GlobalOptions.Json();
        var command = new Command("rotate-needed", "List secrets a revoked identity could decrypt (with the versions it could read): change them.\n\nExample:\n  pk rotate-needed --json") { json };
        command.SetAction(parse =>
        {
            using Keynode keynode = new Session(parse, options).Open();
            var needed = keynode.RotateNeeded();
            if (parse.GetValue(json))
            {
                Output.Json(w =>
                {
                    w.WriteStartArray();
                    foreach (var (who, path, versions) in needed)
                    {
                        w.WriteStartObject();
                        w.WriteString("path", path);
                        w.WriteString("revoked", who.Fingerprint);
                        w.WriteString("label", who.Label);
                        w.WriteStartArray("versions");
                        foreach (int v in versions) w.WriteNumberValue(v);
                        w.WriteEndArray();
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                });
                return ExitCodes.Success;
            }
            foreach (var (who, path, versions) in needed)
                Output.Line($"{path}  (readable by revoked {who.Label}: versions {string.Join(',', versions)})");
            return ExitCodes.Success;
        });
        return command;
    }
}
