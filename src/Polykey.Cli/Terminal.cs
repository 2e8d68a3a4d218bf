using System.Text;

namespace Polykey.Cli;

/// <summary>Reads a line from the terminal without echo (passphrases, secret values), and what the terminal may show.</summary>
internal static class Terminal
{
    public static bool IsInteractive => !Console.IsInputRedirected;

    /// <summary>
    /// False once the user asks for no colour with $NO_COLOR (https://no-color.org); whatever pk
    /// colours (today only the progress bar) asks here. Set but empty counts as asking too: that
    /// is what Spectre.Console, which draws the bar, does on its own, and it errs the quiet way.
    /// </summary>
    public static bool ColourWanted => Environment.GetEnvironmentVariable("NO_COLOR") is null;

    public static byte[] ReadHidden(string prompt)
    {
        Console.Error.Write(prompt);
        var chars = new List<char>();
        while (true)
        {
            ConsoleKeyInfo key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter) break;
            if (key.Key == ConsoleKey.Backspace)
            {
                if (chars.Count > 0) chars.RemoveAt(chars.Count - 1);
                continue;
            }
            if (key.Key == ConsoleKey.C && key.Modifiers.HasFlag(ConsoleModifiers.Control))
                throw new OperationCanceledException();
            if (key.KeyChar != '\0') chars.Add(key.KeyChar);
        }
        Console.Error.WriteLine();
        char[] array = chars.ToArray();
        byte[] bytes = Encoding.UTF8.GetBytes(array);
        Array.Clear(array);
        chars.Clear();
        return bytes;
    }
}
