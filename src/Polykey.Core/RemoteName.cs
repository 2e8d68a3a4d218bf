namespace Polykey.Core;

/// <summary>Remote names: short words, so that they cannot be taken for a path or a URL.</summary>
public static class RemoteName
{
    public static bool IsValid(string name) =>
        name.Length is > 0 and <= 64 && char.IsAsciiLetter(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    public static void Validate(string name)
    {
        if (!IsValid(name))
            throw PolykeyException.Usage($"\"{name}\" is not a remote name", "a remote name is a word of letters, digits, '-', '_' and '.', starting with a letter (e.g. origin, admin-laptop)");
    }
}
