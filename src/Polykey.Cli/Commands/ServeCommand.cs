using System.CommandLine;
using Polykey.Core.Sync;

namespace Polykey.Cli.Commands;

/// <summary>
/// pk serve: the far side of an ssh push, pull or clone, speaking the wire protocol on
/// stdin/stdout (docs/wire-protocol.md). Needs no key: it serves ciphertext and lands pushes
/// under the keynode's lock; the receiving side checks everything. Hidden: ssh runs it, people don't.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("path") { Description = "the keynode file to serve (~/ is the home directory)" };
        var command = new Command("serve", "Serve a keynode to pk on another host over stdin/stdout (ssh runs this).\n\nExample:\n  ssh host pk serve /srv/admin.keynode")
            { path };
        command.Hidden = true;
        command.SetAction(parse =>
        {
            string file = Expand(parse.GetValue(path)!);
            using Stream input = Console.OpenStandardInput();
            using Stream output = Console.OpenStandardOutput();
            WireServer.Serve(() => KeynodeArchive.Open(file, Session.CacheDirectory), input, output);
            return ExitCodes.Success;
        });
        return command;
    }

    // ssh://host/~/x.keynode: the remote shell does not expand a quoted ~, so it is done here.
    private static string Expand(string path) =>
        path == "~" || path.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path.TrimStart('~').TrimStart('/'))
            : Path.GetFullPath(path);
}
