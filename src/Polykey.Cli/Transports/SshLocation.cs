using Polykey.Core;

namespace Polykey.Cli.Transports;

/// <summary>
/// Where an ssh location points: ssh://[user@]host[:port]/path or scp-like [user@]host:path
/// (a relative path there is relative to the remote home, as for scp and git).
/// </summary>
internal sealed record SshLocation(string? User, string Host, int? Port, string Path)
{
    public static SshLocation Parse(string url)
    {
        string authority, path;
        if (url.StartsWith("ssh://", StringComparison.Ordinal))
        {
            string rest = url["ssh://".Length..];
            int slash = rest.IndexOf('/');
            if (slash < 0) throw Bad(url);
            (authority, path) = (rest[..slash], rest[slash..]);
        }
        else
        {
            int colon = url.IndexOf(':');
            (authority, path) = (url[..colon], url[(colon + 1)..]);
        }
        string? user = null;
        int at = authority.LastIndexOf('@');
        if (at >= 0) (user, authority) = (authority[..at], authority[(at + 1)..]);
        (string host, int? port) = url.StartsWith("ssh://", StringComparison.Ordinal) ? HostAndPort(authority, url) : (authority, null);
        // A host or user starting with '-' would be read by ssh as an option.
        if (host.Length == 0 || host[0] == '-' || (user is not null && (user.Length == 0 || user[0] == '-'))
            || authority.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)) || path.Length == 0 || path == "/" || path.Any(char.IsControl))
            throw Bad(url);
        return new SshLocation(user, host, port, path);
    }

    private static (string Host, int? Port) HostAndPort(string authority, string url)
    {
        int colon = authority.StartsWith('[') ? authority.IndexOf("]:", StringComparison.Ordinal) + 1 : authority.LastIndexOf(':');
        string host = (colon > 0 ? authority[..colon] : authority).Trim('[', ']');
        if (colon <= 0) return (host, null);
        return int.TryParse(authority[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int port) && port is > 0 and < 65536
            ? (host, port)
            : throw Bad(url);
    }

    private static PolykeyException Bad(string url) =>
        PolykeyException.Usage($"{url} is not an ssh location", "say ssh://[user@]host[:port]/path/to/x.keynode or [user@]host:path/to/x.keynode");

    /// <summary>What ssh is told to connect to.</summary>
    public string Destination => User is null ? Host : $"{User}@{Host}";

    /// <summary>The command ssh runs on the far side; the remote shell reads it, so the path is quoted.</summary>
    public string RemoteCommand(string pk) => $"{pk} serve -- {ShellQuote(Path)}";

    private static string ShellQuote(string text) => "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
