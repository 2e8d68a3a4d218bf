using System.CommandLine;
using System.Runtime.InteropServices;
using Polykey.Core;
using Polykey.Core.Access;
using Polykey.Core.Sync;

namespace Polykey.Cli.Commands;

/// <summary>pk push, pk pull, pk clone, pk resolve: moving histories between keynodes, per secret, only forward.</summary>
internal static class SyncCommands
{
    private static Argument<string?> RemoteArgument() =>
        new Argument<string?>("remote") { Description = "a remote's name or a keynode path (default: the only remote, or origin)", Arity = ArgumentArity.ZeroOrOne }.Completes(ValueHint.Remote);

    private static Argument<string[]> PatternsArgument() =>
        new Argument<string[]>("patterns") { Description = "only secrets matching these patterns", Arity = ArgumentArity.ZeroOrMore }.Completes(ValueHint.Secret);

    public static Command Push(GlobalOptions options)
    {
        var remote = RemoteArgument();
        var patterns = PatternsArgument();
        var json = GlobalOptions.Json();
        var command = new Command("push", "Send another keynode the histories its owner may read, as one change there. Diverged histories are left for it to pull and settle.\n\nExample:\n  pk push server-b 'prod/**'")
            { remote, patterns, json };
        command.SetAction(parse =>
        {
            using Keynode keynode = new Session(parse, options).Open();
            keynode.Unlock();
            (Remote? named, string url) = RemoteLocation.Resolve(keynode, parse.GetValue(remote));
            using IHistoryTarget target = RemoteLocation.Open(keynode, named, url);
            string where = named?.Name ?? RemoteLocation.Shown(url);
            SyncReport report = ProgressBar.Run($"push to {where}", progress => keynode.Send(target, parse.GetValue(patterns) ?? [], progress));
            SyncOutput.Print(report, "pushed", where, parse.GetValue(json));
            return SyncOutput.ExitCode(report);
        });
        return command;
    }

    public static Command Pull(GlobalOptions options)
    {
        var remote = RemoteArgument();
        var patterns = PatternsArgument();
        var json = GlobalOptions.Json();
        var every = new Option<string?>("--every") { Description = "keep pulling at this interval (30s, 5m, 1h) until stopped (SIGTERM, Ctrl-C)", HelpName = "INTERVAL" };
        var command = new Command("pull", "Take from another keynode the histories this owner may read and trusts it for, checked, as one change.\n\nExample:\n  pk pull admin")
            { remote, patterns, json, every };
        command.SetAction(parse =>
        {
            var session = new Session(parse, options);
            if (parse.GetValue(every) is not { } interval) return PullOnce(session, parse.GetValue(remote), parse.GetValue(patterns) ?? [], parse.GetValue(json));
            return PullEvery(Durations.Parse(interval, "--every"), () => PullOnce(session, parse.GetValue(remote), parse.GetValue(patterns) ?? [], parse.GetValue(json)));
        });
        return command;
    }

    private static int PullOnce(Session session, string? remote, string[] patterns, bool json)
    {
        using Keynode keynode = session.Open();
        keynode.Unlock();
        (Remote? named, string url) = RemoteLocation.Resolve(keynode, remote);
        using IHistoryTarget source = RemoteLocation.Open(keynode, named, url, forPull: true);
        if (named is null && keynode.Access.OriginOf(source.KeynodeId) is null)
            throw PolykeyException.Denied($"this keynode does not trust keynode {source.KeynodeId} at {RemoteLocation.Shown(url)}",
                $"add it as a remote first (its owner is {source.Owner.Fingerprint}): pk remote add NAME {RemoteLocation.Shown(url)}");
        string where = named?.Name ?? RemoteLocation.Shown(url);
        SyncReport report = ProgressBar.Run($"pull from {where}", progress => keynode.Receive(source, patterns, progress));
        SyncOutput.Print(report, "pulled", where, json);
        WarnIfStale(keynode, named, source.KeynodeId);
        return SyncOutput.ExitCode(report);
    }

    // A relay or a stale copy can hide newer versions; only the origin's signed statement tells.
    private static void WarnIfStale(Keynode keynode, Remote? remote, string origin)
    {
        if (remote?.MaxAge is not { } maxAge) return;
        DateTimeOffset? asOf = keynode.AsOf(origin);
        TimeSpan age = asOf is { } time ? DateTimeOffset.UtcNow - time : TimeSpan.MaxValue;
        if (age <= maxAge) return;
        string refused = remote.RefuseStale ? "; its secrets are refused (--refuse-stale) until a fresh one arrives" : "";
        Output.Warning(asOf is null
            ? $"remote {remote.Name} has never carried a signed \"as of\" statement of keynode {origin[..8]}: it may be withholding updates{refused}"
            : $"the newest signed \"as of\" statement of keynode {origin[..8]} via remote {remote.Name} is from {Output.Time(asOf.Value)}, older than its --max-age: it may be withholding updates{refused}");
    }

    // A machine's loop: a failed round is reported and the next one tried; SIGTERM or Ctrl-C ends it cleanly.
    private static int PullEvery(TimeSpan interval, Func<int> pull)
    {
        using var stop = new CancellationTokenSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.Cancel(); });
        while (!stop.IsCancellationRequested)
        {
            try
            {
                pull();
            }
            catch (PolykeyException e)
            {
                Output.Error(e.Message, e.Hint);
            }
            catch (IOException e)
            {
                Output.Error(e.Message); // a connection that broke (ssh): the next round tries again
            }
            stop.Token.WaitHandle.WaitOne(interval);
        }
        return ExitCodes.Success;
    }

    public static Command Clone(GlobalOptions options)
    {
        var url = new Argument<string>("url") { Description = "the keynode to clone: a keynode file's path, ssh://[user@]host[:port]/path or host:path, or a git relay URL" }.Completes(ValueHint.File);
        var file = new Argument<string?>("file") { Description = "the new keynode (default: --keynode, $PK_KEYNODE, or the default keynode)", Arity = ArgumentArity.ZeroOrOne }.Completes(ValueHint.File);
        var paths = RemoteCommands.PathsOption();
        var fingerprint = RemoteCommands.FingerprintOption();
        var maxAge = RemoteCommands.MaxAgeOption();
        var refuseStale = RemoteCommands.RefuseStaleOption();
        var name = new Option<string?>("--name") { Description = "label of the new owner identity, when a passphrase creates one (default: user@host)", HelpName = "LABEL" };
        var json = GlobalOptions.Json();
        var command = new Command("clone", "Make a new keynode for this identity holding what it may read from another, with that keynode as remote 'origin'.\n\nExample:\n  pk clone /srv/admin.keynode /etc/pk/app.keynode --identity-file app.key --paths 'prod/app/**'")
            { url, file, paths, fingerprint, maxAge, refuseStale, name, json };
        command.SetAction(parse =>
        {
            (TimeSpan? age, bool refuse) = RemoteCommands.Freshness(parse, maxAge, refuseStale);
            var session = new Session(parse, options);
            string location = RemoteLocation.Normalise(parse.GetValue(url)!);
            using IHistoryTarget source = RemoteLocation.Open(null, null, location, forPull: true);
            RemoteCommands.RequireFingerprint(source, parse.GetValue(fingerprint));
            string path = parse.GetValue(file) ?? session.KeynodePath;
            string label = parse.GetValue(name) ?? $"{Environment.UserName}@{Environment.MachineName}";
            using Keynode keynode = Keynode.Create(path, label, session.Credential(forInit: true), Session.CacheDirectory, Session.StateDirectory);
            Output.Status($"created keynode {keynode.Path}, owner {keynode.Owner.Label} {keynode.Owner.Fingerprint}");
            keynode.AddRemote(new Remote("origin", location, source.KeynodeId) { MaxAge = age, RefuseStale = refuse }, source.Owner, parse.GetValue(paths) ?? []);
            Output.Status($"remote origin: keynode {source.KeynodeId}, owner {source.Owner.Label} {source.Owner.Fingerprint} (pinned)");
            SyncReport report = ProgressBar.Run("clone", progress => keynode.Receive(source, [], progress));
            // A clone is a bulk load like an import: the next open without caches starts from its index.
            if (keynode.OwnerKeyAtHand) NameIndexing.Write(keynode);
            SyncOutput.Print(report, "pulled", "origin", parse.GetValue(json));
            return SyncOutput.ExitCode(report);
        });
        return command;
    }

    public static Command Resolve(GlobalOptions options)
    {
        var path = new Argument<string?>("path") { Description = "the secret in conflict (none: list conflicts)", Arity = ArgumentArity.ZeroOrOne }.Completes(ValueHint.Secret);
        var ours = new Option<bool>("--ours") { Description = "keep this keynode's value" };
        var theirs = new Option<bool>("--theirs") { Description = "take the other keynode's value" };
        var command = new Command("resolve", "Settle a conflict a pull reported: a new version that keeps one side's value and descends from both.\n\nExample:\n  pk resolve prod/db/password --theirs")
            { path, ours, theirs };
        command.SetAction(parse =>
        {
            using Keynode keynode = new Session(parse, options).Open();
            if (parse.GetValue(path) is not { } secret)
            {
                foreach (SyncConflict conflict in keynode.Conflicts()) Output.Line($"{conflict.Path}  ours {conflict.Ours[..12]}  theirs {conflict.Theirs[..12]}");
                return ExitCodes.Success;
            }
            if (parse.GetValue(ours) == parse.GetValue(theirs)) throw PolykeyException.Usage("say --ours or --theirs");
            keynode.Resolve(secret, parse.GetValue(theirs));
            Output.Status($"settled {secret}: kept {(parse.GetValue(theirs) ? "theirs" : "ours")}; push to share it");
            return ExitCodes.Success;
        });
        return command;
    }
}
