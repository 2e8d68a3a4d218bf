namespace Polykey.Cli.Tests;

/// <summary>
/// Secret names are valid UTF-8 without control characters, whether they come from the command
/// line or through a mount; text pk prints escapes control characters instead of sending them raw.
/// </summary>
public sealed class NameTests : IDisposable
{
    private readonly TestKeynode _node = new TestKeynode().Init();

    public NameTests() => Pk.Ok(_node.Set("prod/db/password", "first-value"));

    [Theory]
    [InlineData("evil\u001b[31m/red", "the control character U+001B", "evil\\x1b[31m/red")]
    [InlineData("two\nlines", "the control character U+000A", "two\\x0alines")]
    [InlineData("tab\tname", "the control character U+0009", "tab\\x09name")]
    [InlineData("del\u007f", "the control character U+007F", "del\\x7f")]
    [InlineData("c1\u0085next", "the control character U+0085", "c1\\x85next")]
    [InlineData("replaced\uFFFD", "U+FFFD, the character that stands in for invalid UTF-8", "replaced\uFFFD")]
    public void Set_NameWithControlCharacterOrReplacementCharacter_ExitsTwo(string name, string reason, string shown)
    {
        string before = _node.FileHash();
        PkResult result = Pk.Fails(_node.Set(name, "v"), 2, reason);
        Assert.Contains($"invalid secret path \"{shown}\"", result.Stderr);
        Pk.Fails(_node.Run("mv", "prod/db/password", name), 2, reason);
        Assert.Equal(before, _node.FileHash());
    }

    [Fact]
    public void Set_NameThatIsNotUtf8_ExitsTwo()
    {
        string before = _node.FileHash();
        // Two different invalid names would both decode to "bad\uFFFD"; neither may become a secret.
        foreach (string octal in new[] { "\\377", "\\376" })
        {
            PkResult result = PkProcess.Run("sh", ["-c", $"exec \"$0\" \"$@\" \"$(printf 'bad{octal}')\" < /dev/null", PkProcess.Binary, .. _node.Args("set")]);
            Pk.Fails(result, 2, "it contains U+FFFD");
        }
        Assert.Equal(before, _node.FileHash());
        Assert.Equal("prod/db/password\n", Pk.Ok(_node.Run("ls")).Text);
    }

    [Fact]
    public void Mount_NameThatIsNotUtf8OrHasControlCharacters_IsRefusedWithEinval()
    {
        using (var mount = new TestMount(_node))
        {
            foreach (string octal in new[] { "bad\\377", "esc\\033", "nl\\nx", "replaced\\357\\277\\275" })
            {
                PkResult create = PkProcess.Run("sh", ["-c", $"printf v > \"$0/$(printf '{octal}')\"", mount.Path]);
                Assert.True(create.ExitCode != 0, $"creating {octal}: {create}");
                Assert.Contains("Invalid argument", create.Stderr);
                PkResult mkdir = PkProcess.Run("sh", ["-c", $"mkdir \"$0/$(printf '{octal}')\"", mount.Path]);
                Assert.True(mkdir.ExitCode != 0, $"mkdir {octal}: {mkdir}");
                Assert.Contains("Invalid argument", mkdir.Stderr);
            }
            File.WriteAllText(mount["fine"], "ok");
        }
        Assert.Equal("fine\nprod/db/password\n", Pk.Ok(_node.Run("ls")).Text);
    }

    [Fact]
    public void TextOutput_EscapesControlCharactersOfLabels()
    {
        using var other = new TestKeynode("labelled");
        Pk.Ok(PkProcess.Pk(other.WithPassphrase("init", "--name", "ev\u001b[31mil\nowner")));
        PkResult show = Pk.Ok(PkProcess.Pk(other.WithPassphrase("identity", "show")));
        Assert.Contains("label       ev\\x1b[31mil\\x0aowner\n", show.Text);
        Assert.DoesNotContain((byte)0x1b, show.Stdout);
        PkResult access = Pk.Ok(PkProcess.Pk(other.WithPassphrase("access")));
        Assert.Contains("owner ev\\x1b[31mil\\x0aowner ", access.Text);
        Assert.DoesNotContain((byte)0x1b, access.Stdout);
    }

    public void Dispose() => _node.Dispose();
}
