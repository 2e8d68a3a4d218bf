namespace Polykey.Core.Tests;

public sealed class SecretPathTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("prod/db/password")]
    [InlineData("with space/ünïcødé/🔑")]
    [InlineData(".hidden/..x/x..")]
    public void Validate_AcceptsOrdinaryPaths(string path) => Assert.Equal(path, SecretPath.Validate(path));

    [Theory]
    [InlineData("", "empty")]
    [InlineData("a\0b", "NUL")]
    [InlineData("/a", "starts with '/'")]
    [InlineData("a/", "ends with '/'")]
    [InlineData("a//b", "empty segment")]
    [InlineData("a/../b", "'..' segment")]
    [InlineData("..", "'..' segment")]
    [InlineData("./a", "'.' segment")]
    [InlineData("a\u0001b", "control character U+0001")]
    [InlineData("a\u001b[31m", "control character U+001B")]
    [InlineData("two\nlines", "control character U+000A")]
    [InlineData("cr\r", "control character U+000D")]
    [InlineData("tab\tx", "control character U+0009")]
    [InlineData("del\u007f", "control character U+007F")]
    [InlineData("c1\u0080", "control character U+0080")]
    [InlineData("c1\u009f", "control character U+009F")]
    [InlineData("bad\uFFFD", "U+FFFD")]
    public void Validate_RejectsWithReason(string path, string reason)
    {
        var error = Assert.Throws<PolykeyException>(() => SecretPath.Validate(path));
        Assert.Equal(FailureKind.Usage, error.Kind);
        Assert.Contains(reason, error.Message);
        Assert.False(error.Message.Any(char.IsControl), error.Message); // the path is shown escaped
        Assert.False(SecretPath.IsValid(path));
    }

    // Lone surrogates cannot travel in attribute strings (they are stored as UTF-8), so each
    // case gives the text around one code unit.
    [Theory]
    [InlineData("a", 0xD800, "b")]
    [InlineData("a", 0xDC00, "b")]
    [InlineData("end", 0xD83D, "")]
    [InlineData("", 0xDD11, "start")]
    public void Validate_RejectsLoneSurrogate(string before, int unit, string after)
    {
        var error = Assert.Throws<PolykeyException>(() => SecretPath.Validate(before + (char)unit + after));
        Assert.Contains("not valid UTF-8", error.Message);
        Assert.Contains("lone surrogate", error.Message);
    }

    [Theory]
    [InlineData("a\u00a0b")]      // no-break space: printable
    [InlineData("key/\U0001F511")] // a surrogate pair
    [InlineData("x\u00ffy")]
    public void Validate_AcceptsCharactersNextToTheRefusedOnes(string path) => Assert.True(SecretPath.IsValid(path));

    [Theory]
    [InlineData("plain/name", "plain/name")]
    [InlineData("a\u001b[31mb", "a\\x1b[31mb")]
    [InlineData("two\nlines\r", "two\\x0alines\\x0d")]
    [InlineData("del\u007f c1\u0085", "del\\x7f c1\\x85")]
    [InlineData("ünï\uFFFD", "ünï\uFFFD")]
    public void Escape_MakesControlCharactersVisible(string text, string expected) =>
        Assert.Equal(expected, SecretPath.Escape(text));

    [Fact]
    public void Escape_ShowsLoneSurrogatesAsCodeUnits_KeepsPairs() =>
        Assert.Equal("lone\\ud800 pair\U0001F511", SecretPath.Escape("lone" + (char)0xD800 + " pair\U0001F511"));

    [Fact]
    public void Validate_CountsBytesNotCharacters()
    {
        Assert.True(SecretPath.IsValid(new string('é', 127) + "x"));
        Assert.False(SecretPath.IsValid(new string('é', 128)));
    }

    [Theory]
    [InlineData("prod/db", "prod", true)]
    [InlineData("prod/db", "prod/", true)]
    [InlineData("production/db", "prod", false)]
    [InlineData("prod", "prod", true)]
    [InlineData("x", "", true)]
    public void IsUnder_MatchesWholeSegments(string path, string prefix, bool expected) =>
        Assert.Equal(expected, SecretPath.IsUnder(path, prefix));
}

/// <summary>Names an older pk or a grantee stored with a control character stay reachable: read, renamed, removed; never made anew.</summary>
public sealed class ExistingOddNameTests : IDisposable
{
    private readonly TestFiles _files = new();

    [Fact]
    public void AStoredControlCharacterName_CanBeReadMovedAndRemoved_ButNotMadeAnew()
    {
        const string odd = "old/na\u001bme";
        string path;
        using (Keynode node = _files.Create())
        {
            node.Set("good", "1"u8);
            path = node.Path;
        }
        (_, List<Polykey.Core.Storage.PendingMember> members) = VersionBuilder.Build(VersionBuilder.NewSecretId(), RawKeynode.Id(path), null, 1, odd, "kept"u8,
            VersionKind.Value, DateTimeOffset.UtcNow, TestFiles.Owner, [TestFiles.Owner.Public]);
        RawKeynode.Append(path, members);

        using Keynode opened = Keynode.Open(path, TestFiles.OwnerCredential);
        Assert.Contains(odd, opened.List().Select(s => s.Path));
        Assert.Equal("kept"u8.ToArray(), opened.Get(odd).Span.ToArray());
        Assert.Single(opened.Log(odd));
        Assert.Equal(FailureKind.Usage, Assert.Throws<PolykeyException>(() => opened.Set("new/na\u001bme", "x"u8)).Kind);
        Assert.Equal(FailureKind.Usage, Assert.Throws<PolykeyException>(() => opened.Move(odd, "old/other\u0007")).Kind);
        opened.Set(odd, "rewritten"u8);
        Assert.Equal("rewritten"u8.ToArray(), opened.Get(odd).Span.ToArray());
        opened.Move(odd, "old/name");
        Assert.Equal("rewritten"u8.ToArray(), opened.Get("old/name").Span.ToArray());
        opened.Remove("old/name");
        Assert.Equal(["good"], opened.List().Select(s => s.Path));
    }

    public void Dispose() => _files.Dispose();
}
