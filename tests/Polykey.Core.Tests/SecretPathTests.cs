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
    public void Validate_RejectsWithReason(string path, string reason)
    {
        var error = Assert.Throws<PolykeyException>(() => SecretPath.Validate(path));
        Assert.Equal(FailureKind.Usage, error.Kind);
        Assert.Contains(reason, error.Message);
        Assert.DoesNotContain("\0", error.Message);
    }

    [Fact]
    public void Validate_RejectsLoneSurrogate()
    {
        string path = "a" + (char)0xD800 + "b";
        Assert.Contains("UTF-8", Assert.Throws<PolykeyException>(() => SecretPath.Validate(path)).Message);
    }

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
