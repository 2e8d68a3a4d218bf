using System.CommandLine;
using Polykey.Core;
using Polykey.Core.Access;
using Polykey.Core.Sync;

namespace Polykey.Cli.Commands;

/// <summary>pk remote add|ls|rm: named keynodes to push to and pull from, their owners pinned.</summary>
internal static class RemoteCommands
{
    public static Command Create(GlobalOptions options)
    {
        var command = new Command("remote", "Manage the keynodes this one pushes to and pulls from.\n\nExample:\n  pk remote add admin /srv/admin.keynode --paths 'prod/**'");
        command.Subcommands.Add(Add(options));
        command.Subcommands.Add(List(options));
        command.Subcommands.Add(Remove(options));
        return command;
    }

    private static Command Add(GlobalOptions options)
    {
        var name = new Argument<string>("name") { Description = "a short name: origin, admin, server-b" };
        var url = new Argument<string>("url") { Description = "where the keynode is: a keynode file's path, ssh://[user@]host[:port]/path or host:path, or a git relay URL (https://…/x.git, file:///…/x.git, git://…)" }.Completes(ValueHint.File);
        var paths = PathsOption();
        var fingerprint = FingerprintOption();
        var maxAge = MaxAgeOption();
        var refuseStale = RefuseStaleOption();
        var command = new Command("add", "Name a keynode, pin its owner's fingerprint, and trust it for its histories (only under --paths when given).\n\nExample:\n  pk remote add admin /srv/admin.keynode --paths 'prod/**' --fingerprint 'AB12…'")
            { name, url, paths, fingerprint, maxAge, refuseStale };
        command.SetAction(parse =>
        {
            (TimeSpan? age, bool refuse) = Freshness(parse, maxAge, refuseStale);
            using Keynode keynode = new Session(parse, options).Open();
            string location = RemoteLocation.Normalise(parse.GetValue(url)!);
            using IHistoryTarget remote = RemoteLocation.Open(keynode, null, location);
            RequireFingerprint(remote, parse.GetValue(fingerprint));
            var named = new Remote(parse.GetValue(name)!, location, remote.KeynodeId) { MaxAge = age, RefuseStale = refuse };
            if (remote.KeynodeId == keynode.Id && Transports.GitRelayTransport.Handles(location) && (parse.GetValue(paths) ?? []).Length == 0)
            {
                // This keynode's own relay (empty until the first push, or pushed to before).
                keynode.AddMirror(named, remote.Owner);
                Output.Status($"remote {named.Name}: a relay of this keynode ({keynode.Id}) at {RemoteLocation.Shown(location)}; push to it, others pull from it");
                return ExitCodes.Success;
            }
            keynode.AddRemote(named, remote.Owner, parse.GetValue(paths) ?? []);
            Output.Status($"remote {parse.GetValue(name)}: keynode {remote.KeynodeId} at {RemoteLocation.Shown(location)}");
            Output.Status($"owner {remote.Owner.Label} {remote.Owner.Fingerprint} (pinned: a different owner there will be refused)");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Option<string[]> PathsOption() => new Option<string[]>("--paths")
    {
        Description = "trust the remote only for secrets matching these patterns (new secrets there belong to it)",
        AllowMultipleArgumentsPerToken = true,
    }.Completes(ValueHint.Secret);

    public static Option<string?> MaxAgeOption() => new("--max-age")
    {
        Description = "warn on pull when the keynode's newest signed \"as of\" statement is older than this (30m, 12h, 7d): a relay may be withholding updates",
        HelpName = "DURATION",
    };

    public static Option<bool> RefuseStaleOption() => new("--refuse-stale")
    {
        Description = "with --max-age: past that age, refuse to serve this keynode's secrets (get, mount) until a fresh statement is pulled",
    };

    /// <summary>--max-age and --refuse-stale, read and checked before anything is opened.</summary>
    public static (TimeSpan? MaxAge, bool RefuseStale) Freshness(ParseResult parse, Option<string?> maxAge, Option<bool> refuseStale)
    {
        TimeSpan? age = parse.GetValue(maxAge) is { } text ? Durations.Parse(text, "--max-age") : null;
        bool refuse = parse.GetValue(refuseStale);
        if (refuse && age is null)
            throw PolykeyException.Usage("--refuse-stale needs --max-age: the age past which this keynode's secrets are refused", "for example: --max-age 12h --refuse-stale");
        return (age, refuse);
    }

    public static Option<string?> FingerprintOption() => new("--fingerprint")
    {
        Description = "the fingerprint the remote's owner must have (checked before anything is trusted)",
    };

    /// <summary>Refuses a remote whose owner is not the one the user expects.</summary>
    public static void RequireFingerprint(IHistorySource remote, string? expected)
    {
        if (expected is null) return;
        string wanted = expected.Replace(" ", "").ToUpperInvariant();
        if (wanted != remote.Owner.Fingerprint)
            throw PolykeyException.Denied($"the keynode at {remote.Location} is owned by {remote.Owner.Fingerprint}, not {wanted}",
                "nothing was trusted; check where the location points");
    }

    private static Command List(GlobalOptions options)
    {
        var json = GlobalOptions.Json();
        var command = new Command("ls", "List remotes with their pinned owners and trusted paths.") { json };
        command.SetAction(parse =>
        {
            using Keynode keynode = new Session(parse, options).Open();
            keynode.Unlock();
            AccessList access = keynode.Access;
            if (parse.GetValue(json))
            {
                Output.Json(w =>
                {
                    w.WriteStartArray();
                    foreach (Remote remote in access.Remotes)
                    {
                        TrustedOrigin? origin = access.OriginOf(remote.KeynodeId);
                        w.WriteStartObject();
                        w.WriteString("name", remote.Name);
                        w.WriteString("url", RemoteLocation.Shown(remote.Url));
                        w.WriteString("keynode", remote.KeynodeId);
                        if (keynode.AsOf(remote.KeynodeId) is { } asOf) w.WriteString("asOf", Output.Time(asOf));
                        if (remote.MaxAge is { } age) w.WriteNumber("maxAgeSeconds", (long)age.TotalSeconds);
                        if (remote.RefuseStale) w.WriteBoolean("refuseStale", true);
                        if (origin is not null)
                        {
                            w.WriteString("owner", origin.Owner.Fingerprint);
                            w.WriteString("label", origin.Owner.Label);
                            Output.Strings(w, "paths", origin.Paths);
                        }
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                });
                return ExitCodes.Success;
            }
            foreach (Remote remote in access.Remotes)
            {
                TrustedOrigin? origin = access.OriginOf(remote.KeynodeId);
                string paths = origin is { Paths.Count: > 0 } ? string.Join(" ", origin.Paths) : "all paths";
                if (origin is null && remote.KeynodeId == keynode.Id)
                {
                    Output.Line($"{remote.Name}  {RemoteLocation.Shown(remote.Url)}  a mirror of this keynode");
                    continue;
                }
                string asOf = keynode.AsOf(remote.KeynodeId) is { } time ? $"as of {Output.Time(time)}" : "no statement yet";
                string refuse = remote.RefuseStale ? "  (refused when older)" : "";
                Output.Line($"{remote.Name}  {RemoteLocation.Shown(remote.Url)}  owner {origin?.Owner.Fingerprint} ({origin?.Owner.Label})  {paths}  {asOf}{refuse}");
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Remove(GlobalOptions options)
    {
        var name = new Argument<string>("name") { Description = "the remote to forget" }.Completes(ValueHint.Remote);
        var command = new Command("rm", "Forget a remote's name and location (histories already taken from it stay, and stay trusted).") { name };
        command.SetAction(parse =>
        {
            using Keynode keynode = new Session(parse, options).Open();
            keynode.RemoveRemote(parse.GetValue(name)!);
            Output.Status($"removed remote {parse.GetValue(name)}");
            return ExitCodes.Success;
        });
        return command;
    }
}
