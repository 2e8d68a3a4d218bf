using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Polykey.Core;
using Polykey.Fs;
using Polykey.Fs.Linux;

namespace Polykey.Cli.Commands;

/// <summary>
/// pk mount: serves a keynode as a plain-text directory. Without --foreground it starts
/// itself again as a daemon and returns once the mount is ready.
/// </summary>
internal static class MountCommand
{
    // Between the parent and its daemon child: the child says this on stdout when the mount serves.
    private const string ReadyLine = "pk-mount-ready";
    private const string DaemonVariable = "PK_MOUNT_DAEMON";
    private const string PassphraseOnStdinVariable = "PK_PASSPHRASE_STDIN";

    public static Command Create(GlobalOptions options)
    {
        var mountPoint = new Argument<string>("mountpoint") { Description = "an empty directory to mount on" }.Completes(ValueHint.Directory);
        var readOnly = new Option<bool>("--read-only") { Description = "refuse every change (EROFS); implied by a read-only credential" };
        var foreground = new Option<bool>("--foreground", "-f") { Description = "stay in the foreground (for systemd); default is to return once mounted" };
        var onChange = new Option<string?>("--on-change") { Description = "shell command run after secrets change behind the mount; $PK_CHANGED_PATHS lists them", HelpName = "CMD" };
        var allowOther = new Option<bool>("--allow-other") { Description = "let other users in (needs user_allow_other in /etc/fuse.conf for non-root)" };
        var pinVersions = new Option<bool>("--pin-versions")
        {
            Description = "on a writable mount, every open keeps reading the version it opened, even while the mount rewrites the file in place; costs a round trip per open",
        };
        var owner = new Option<string?>("--owner") { Description = "user (name or uid) every file and directory belongs to; implies --allow-other when not you", HelpName = "user" }.Completes(ValueHint.User);
        var group = new Option<string?>("--group") { Description = "group (name or gid) of every file and directory; default: the owner's group", HelpName = "group" }.Completes(ValueHint.Group);
        var mode = new Option<string?>("--mode")
        {
            Description = "octal permission bits of every file (default 0600; directories get x wherever r is set), enforced by the kernel; a chmod lasts until unmount",
            HelpName = "octal",
        };
        var command = new Command("mount", "Mount the keynode as a plain-text directory; saved files become signed versions.\n\nExamples:\n  pk mount /run/secrets --read-only --on-change 'systemctl reload app'\n  pk unmount /run/secrets")
        {
            mountPoint, readOnly, foreground, onChange, allowOther, pinVersions, owner, group, mode,
        };
        command.SetAction(parse =>
        {
            string target = Path.GetFullPath(parse.GetValue(mountPoint)!);
            var session = new Session(parse, options);
            CheckMountPoint(target);
            var ownership = MountOwnership.Parse(parse.GetValue(owner), parse.GetValue(group), parse.GetValue(mode));
            bool isDaemon = Environment.GetEnvironmentVariable(DaemonVariable) == "1";
            if (!parse.GetValue(foreground) && !isDaemon) return StartDaemon(session);
            var settings = new MountSettings(
                parse.GetValue(readOnly), parse.GetValue(allowOther) || ownership.NamesAnotherUser, parse.GetValue(pinVersions), parse.GetValue(onChange), ownership);
            return Serve(session, target, settings, isDaemon);
        });
        return command;
    }

    private sealed record MountSettings(bool ReadOnly, bool AllowOther, bool PinVersions, string? OnChange, MountOwnership Ownership);

    private static int Serve(Session session, string target, MountSettings settings, bool isDaemon)
    {
        // The daemon leaves the caller's session, so the terminal's hang-up does not reach it.
        if (isDaemon) Polykey.Cli.Native.LibC.setsid();
        // Under systemd (Type=notify) the foreground process tells when the mount answers and when it stops.
        using SystemdNotify systemd = SystemdNotify.FromEnvironment();
        systemd.Status($"opening {session.KeynodePath}");
        using Keynode keynode = session.Open();
        bool canWrite = keynode.Unlock().CanSign;
        using var log = new MountLog(); // disposed after the tree, whose last saves at unmount may report
        using var tree = new SecretTree(keynode, settings.ReadOnly || !canWrite, settings.Ownership.FileMode ?? SecretTree.DefaultFileMode);
        using var hook = settings.OnChange is null ? null : new OnChangeHook(settings.OnChange, target, keynode.Path);
        if (hook is not null) tree.SecretsChanged += hook.Enqueue;
        string serving = $"serving {keynode.Path} on {target}{(tree.IsReadOnly ? " (read-only)" : "")}";
        // Printed, so a --foreground mount's journal says why a close failed (the daemon's stderr goes nowhere).
        tree.SaveFailed += log.Write;
        tree.SecretsChanged += paths => systemd.Status($"{serving}; {paths.Count} secret(s) changed behind the mount at {Output.Time(DateTimeOffset.UtcNow)}");

        // Signals are taken before mounting, so one that arrives early still unmounts cleanly.
        var stopRequested = new TaskCompletionSource();
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stopRequested.TrySetResult();
        }
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Stop);

        FuseMount mount;
        systemd.Status($"mounting {keynode.Path} on {target}");
        try
        {
            mount = FuseMount.Start(tree, target, new FuseMountOptions
            {
                ReadOnly = tree.IsReadOnly,
                AllowOther = settings.AllowOther,
                PinVersionAtOpen = settings.PinVersions,
                OwnerId = settings.Ownership.Uid,
                GroupId = settings.Ownership.Gid,
                FsName = Path.GetFullPath(keynode.Path),
                UnexpectedError = e => log.Write($"unexpected {e.GetType().Name}: {e.Message}"),
            });
            mount.WaitUntilReady();
        }
        catch (FuseMountException e)
        {
            throw PolykeyException.Failed($"cannot mount on {target}: {e.Message}");
        }
        using (mount)
        using (new KeynodeWatcher(tree, keynode.Path))
        {
            string mounted = $"pk: mounted {keynode.Path} on {target}{(tree.IsReadOnly ? " (read-only)" : "")}";
            if (!isDaemon) Console.Error.WriteLine(mounted);
            else
            {
                Console.Out.WriteLine($"{ReadyLine} {mounted}");
                Console.Out.Flush();
                Polykey.Cli.Native.LibC.DetachStandardStreams();
            }
            systemd.Ready(serving);
            bool unmountedElsewhere = Task.WaitAny(mount.Completion, stopRequested.Task) == 0;
            systemd.Stopping(unmountedElsewhere ? $"{target} was unmounted; stopping" : $"unmounting {target}");
            mount.Unmount();
            mount.Completion.GetAwaiter().GetResult();
        }
        return ExitCodes.Success;
    }

    private static int StartDaemon(Session session)
    {
        Credential credential = session.Credential(forInit: false);
        byte[]? passphrase = credential is Credential.Passphrase p && !Unlocked(session, p) ? p.Read() : null;
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in Environment.GetCommandLineArgs().Skip(1)) start.ArgumentList.Add(arg);
        start.Environment[DaemonVariable] = "1";
        SystemdNotify.Withhold(start.Environment); // only a --foreground mount is the process a service manager watches
        if (passphrase is not null) start.Environment[PassphraseOnStdinVariable] = "1";
        using Process child = Process.Start(start) ?? throw PolykeyException.Failed("cannot start the mount process");
        if (passphrase is not null)
        {
            child.StandardInput.BaseStream.Write(passphrase);
            Array.Clear(passphrase);
        }
        child.StandardInput.Close();
        // Before it is ready the child writes only errors to stderr; once ready, its stderr is
        // also held by fusermount3's auto-unmount helper, so it never reaches end-of-file.
        Task<string> errors = child.StandardError.ReadToEndAsync();
        string? line;
        while ((line = child.StandardOutput.ReadLine()) is not null)
        {
            if (line.StartsWith(ReadyLine, StringComparison.Ordinal))
            {
                Console.Error.WriteLine(line[ReadyLine.Length..].TrimStart());
                return ExitCodes.Success;
            }
        }
        child.WaitForExit();
        Console.Error.Write(errors.Result);
        return child.ExitCode == 0 ? ExitCodes.Failure : child.ExitCode;
    }

    // With an owner key unlocked in the kernel keyring (pk unlock) the daemon finds it there itself: no passphrase to ask or pass on.
    private static bool Unlocked(Session session, Credential.Passphrase passphrase)
    {
        using Keynode keynode = Keynode.Open(session.KeynodePath, null, Session.CacheDirectory, Session.StateDirectory);
        return passphrase.UnlockedKey(keynode.Id, keynode.Owner.Fingerprint) is { CanSign: true } key && key.Public.Fingerprint == keynode.Owner.Fingerprint;
    }

    private static void CheckMountPoint(string target)
    {
        if (!Directory.Exists(target))
            throw File.Exists(target)
                ? PolykeyException.Usage($"mount point {target} is not a directory")
                : PolykeyException.NotFound($"mount point {target} does not exist", $"create it first: mkdir -p {target}");
    }

    public static bool PassphraseComesOnStdin => Environment.GetEnvironmentVariable(PassphraseOnStdinVariable) == "1";
}
