using System.Text;
using Polykey.Core;

namespace Polykey.Cli;

/// <summary>Maps secret paths to environment variable names: prod/db/password with prefix prod/ becomes DB_PASSWORD.</summary>
internal static class EnvironmentNames
{
    public static string For(string path, string prefix)
    {
        string rest = path[prefix.Length..].TrimStart('/');
        var name = new StringBuilder(rest.Length);
        foreach (char c in rest)
            name.Append(char.IsAsciiLetterOrDigit(c) ? char.ToUpperInvariant(c) : '_');
        if (name.Length == 0 || char.IsAsciiDigit(name[0])) name.Insert(0, '_');
        return name.ToString();
    }

    /// <summary>Names for each secret; fails when two secrets would share one variable.</summary>
    public static List<(string Name, SecretInfo Secret)> Assign(IEnumerable<SecretInfo> secrets, string prefix)
    {
        var byName = new Dictionary<string, SecretInfo>(StringComparer.Ordinal);
        foreach (SecretInfo secret in secrets)
        {
            string name = For(secret.Path, prefix);
            if (byName.TryGetValue(name, out SecretInfo? other))
                throw PolykeyException.Conflict($"secrets {other.Path} and {secret.Path} both map to the variable {name}",
                    "rename one of them with 'pk mv', or narrow --prefix");
            byName[name] = secret;
        }
        return byName.Select(kv => (kv.Key, kv.Value)).ToList();
    }
}
