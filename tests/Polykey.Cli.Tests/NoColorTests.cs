using System.Text.RegularExpressions;

namespace Polykey.Cli.Tests;

/// <summary>NO_COLOR (https://no-color.org): on a colour terminal, pk's output carries no colour once it is set.</summary>
public sealed class NoColorTests : IDisposable
{
    // Select Graphic Rendition: ESC [ params m, the sequences that set colours (and bold, and reset).
    private static readonly Regex Sgr = new("\u001b\\[[0-9;]*m");
    private static readonly Regex Colour = new("\u001b\\[(3[0-9]|9[0-7]|38;)");

    private readonly TestKeynode _node = new TestKeynode().Init();

    public NoColorTests() => Pk.Ok(_node.Set("prod/db/password", "v"));

    [Fact]
    public void ProgressBar_IsColoured_UnlessNoColorIsSet()
    {
        // The same command, once as it is and once with NO_COLOR: the first proves the terminal
        // takes colour, so the second proves NO_COLOR took it away.
        string coloured = OnColourTerminal(noColor: false, [.. _node.Args("gc")]);
        Assert.Matches(Colour, coloured);
        string plain = OnColourTerminal(noColor: true, [.. _node.Args("gc")]);
        Assert.Contains("compact", plain);
        Assert.DoesNotMatch(Sgr, plain);
    }

    [Fact]
    public void HelpAndErrors_HaveNoColour_WithNoColor()
    {
        Assert.DoesNotMatch(Sgr, OnColourTerminal(noColor: true, "--help"));
        string error = OnColourTerminal(noColor: true, "frobnicate");
        Assert.Contains("unknown command", error);
        Assert.DoesNotMatch(Sgr, error);
    }

    // A 256-colour, truecolor terminal, on which Spectre.Console would colour if let.
    private static string OnColourTerminal(bool noColor, params string[] args) =>
        PseudoTerminal.Run(["env", "-u", "NO_COLOR", "TERM=xterm-256color", "COLORTERM=truecolor", .. noColor ? new[] { "NO_COLOR=1" } : [], PkProcess.Binary, .. args]);

    public void Dispose() => _node.Dispose();
}
