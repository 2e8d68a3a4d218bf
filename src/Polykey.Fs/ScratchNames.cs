using System.Text.RegularExpressions;

namespace Polykey.Fs;

/// <summary>
/// Names of the temporary files editors and tools make beside the file they edit. Such files
/// live in the mount's memory only: never committed, never written to disk. Renaming one
/// over a secret makes its bytes the secret's next version.
/// </summary>
public static partial class ScratchNames
{
    public static bool IsScratch(string name) =>
        EditorFile().IsMatch(name) || IsRandomTemp(SedTemp().Match(name)) || IsRandomTemp(RsyncTemp().Match(name));

    // mkstemp-style suffixes mix cases and digits; requiring one upper-case letter or digit
    // keeps ordinary names such as ".env.backup" out.
    private static bool IsRandomTemp(Match match) =>
        match.Success && match.Groups["random"].Value.Any(c => char.IsAsciiDigit(c) || char.IsAsciiLetterUpper(c));

    // vim: .x.swp (.sw[a-p]), 4913 (its write probe), x~ (backup); emacs: #x#, .#x;
    // nano: x.save, x.save.N; and the common *.tmp / *.temp.
    [GeneratedRegex(@"^(\..*\.sw[a-p]|\.sw[a-p]|4913|.+~|#.*#|\.#.+|.+\.save(\.\d+)?|.+\.te?mp)$", RegexOptions.CultureInvariant)]
    private static partial Regex EditorFile();

    // sed -i writes ./sedXXXXXX, then renames it over the file.
    [GeneratedRegex(@"^sed(?<random>[A-Za-z0-9]{6})$", RegexOptions.CultureInvariant)]
    private static partial Regex SedTemp();

    // rsync writes .name.XXXXXX, then renames it over name.
    [GeneratedRegex(@"^\..+\.(?<random>[A-Za-z0-9]{6})$", RegexOptions.CultureInvariant)]
    private static partial Regex RsyncTemp();
}
