using System.Text;
using System.Text.Json;

namespace Polykey.Cli.Tests;

/// <summary>Scenario S1: an admin keeps versioned secrets with pk alone.</summary>
public sealed class AdminBasicsTests : IDisposable
{
    private readonly TestKeynode _node = new TestKeynode().Init();

    [Fact]
    public void S1_SetGetLogRestoreRemoveMove_KeepsValuesByteExactAndHistory()
    {
        byte[] binary = Enumerable.Range(0, 256).Select(i => (byte)i).Concat(new byte[] { 0, 0, 255 }).ToArray();
        Pk.Ok(_node.Set("prod/db/password", "hunter2"));
        Pk.Ok(_node.Set("prod/tls/key.bin", binary));
        Pk.Ok(_node.Set("prod/motd", "hello\n"));
        Pk.Ok(_node.Set("prod/empty", Array.Empty<byte>()));

        Assert.Equal("hunter2"u8.ToArray(), _node.Get("prod/db/password"));
        Assert.Equal(binary, _node.Get("prod/tls/key.bin"));
        Assert.Equal("hello\n"u8.ToArray(), _node.Get("prod/motd"));
        Assert.Empty(_node.Get("prod/empty"));
        Assert.Equal("prod/db/password\nprod/empty\nprod/motd\nprod/tls/key.bin\n", Pk.Ok(_node.Run("ls")).Text);
        Assert.Equal("prod/tls/key.bin\n", Pk.Ok(_node.Run("ls", "prod/tls")).Text);

        Pk.Ok(_node.Set("prod/db/password", "rotated-2"));
        JsonElement log = Json(_node.Run("log", "prod/db/password", "--json"));
        Assert.Equal(2, log.GetArrayLength());
        Assert.Equal(1, log[0].GetProperty("version").GetInt32());
        Assert.Equal(7, log[0].GetProperty("size").GetInt32());
        Assert.Equal(9, log[1].GetProperty("size").GetInt32());
        Assert.Matches("^[0-9A-F]{40}$", log[1].GetProperty("signer").GetString());
        Assert.Equal("hunter2"u8.ToArray(), _node.Get("prod/db/password", "--version", "1"));
        Assert.Equal("rotated-2"u8.ToArray(), _node.Get("prod/db/password"));

        Pk.Ok(_node.Run("restore", "prod/db/password", "--version", "1"));
        Assert.Equal("hunter2"u8.ToArray(), _node.Get("prod/db/password"));
        Assert.Equal(3, Json(_node.Run("log", "prod/db/password", "--json")).GetArrayLength());
        Assert.Equal("", Pk.Ok(_node.Set("prod/db/password", "fourth")).Text); // a plain set prints nothing
        JsonElement set = Json(Pk.Run(_node.Args("set", "prod/db/password", "--json"), "fifth"u8.ToArray()));
        Assert.Equal("prod/db/password", set.GetProperty("path").GetString());
        Assert.Equal(5, set.GetProperty("version").GetInt32());
        Pk.Ok(_node.Run("restore", "prod/db/password", "--version", "1"));
        Assert.Equal("hunter2"u8.ToArray(), _node.Get("prod/db/password"));

        Pk.Ok(_node.Run("rm", "prod/motd"));
        Assert.DoesNotContain("prod/motd", Pk.Ok(_node.Run("ls")).Text);
        JsonElement removedLog = Json(_node.Run("log", "prod/motd", "--json"));
        Assert.Equal(2, removedLog.GetArrayLength());
        Assert.True(removedLog[1].GetProperty("removed").GetBoolean());
        Pk.Fails(_node.Run("get", "prod/motd"), 3, "prod/motd was removed");
        Assert.Equal("hello\n"u8.ToArray(), _node.Get("prod/motd", "--version", "1"));

        Pk.Ok(_node.Run("mv", "prod/tls/key.bin", "prod/tls/server.key"));
        Assert.Equal(binary, _node.Get("prod/tls/server.key"));
        Pk.Fails(_node.Run("get", "prod/tls/key.bin"), 3, "prod/tls/key.bin");
        JsonElement movedLog = Json(_node.Run("log", "prod/tls/server.key", "--json"));
        Assert.Equal(2, movedLog.GetArrayLength());
        Assert.Equal("prod/tls/key.bin", movedLog[0].GetProperty("path").GetString());
    }

    [Fact]
    public void LsLongAndJson_ShowSizeVersionsAndTime()
    {
        Pk.Ok(_node.Set("a", "12345"));
        Pk.Ok(_node.Set("a", "123"));
        JsonElement list = Json(_node.Run("ls", "--json"));
        Assert.Equal(1, list.GetArrayLength());
        Assert.Equal("a", list[0].GetProperty("path").GetString());
        Assert.Equal(3, list[0].GetProperty("size").GetInt32());
        Assert.Equal(2, list[0].GetProperty("versions").GetInt32());
        DateTimeOffset modified = DateTimeOffset.Parse(list[0].GetProperty("modified").GetString()!);
        Assert.InRange(modified, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Matches(@"^\s+3\s+2 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ a\n$", Pk.Ok(_node.Run("ls", "-l")).Text);
    }

    [Fact]
    public void Names_WithSpacesAndAnyUtf8_RoundTrip()
    {
        string[] names = ["team a/ключ пароль", "日本/秘密 1", "emoji/🔑 key", "dots/.hidden", "x/a b/c"];
        foreach (string name in names) Pk.Ok(_node.Set(name, name + "-value"));
        Assert.Equal(names.OrderBy(n => n, StringComparer.Ordinal), Pk.Ok(_node.Run("ls")).Text.TrimEnd('\n').Split('\n'));
        foreach (string name in names) Assert.Equal(Encoding.UTF8.GetBytes(name + "-value"), _node.Get(name));
    }

    [Fact]
    public void OneMebibyteValue_RoundTripsByteExact()
    {
        byte[] big = new byte[1 << 20];
        new Random(42).NextBytes(big);
        Pk.Ok(_node.Set("big/blob", big));
        Assert.Equal(big, _node.Get("big/blob"));
    }

    [Fact]
    public void PassphraseOnly_WorksFromFileAndEnvironment()
    {
        using var node = new TestKeynode().Init(keyFile: false);
        Pk.Ok(PkProcess.Pk(node.WithPassphrase("set", "x"), "v1"u8.ToArray()));
        var env = new Dictionary<string, string> { ["PK_PASSPHRASE"] = TestKeynode.Passphrase, ["PK_KEYNODE"] = node.Path };
        Assert.Equal("v1", Pk.Ok(PkProcess.Pk(["get", "x"], env: env)).Text);
        var envFile = new Dictionary<string, string> { ["PK_PASSPHRASE_FILE"] = node.PassphraseFile, ["PK_KEYNODE"] = node.Path };
        Assert.Equal("v1", Pk.Ok(PkProcess.Pk(["get", "x"], env: envFile)).Text);
    }

    private static JsonElement Json(PkResult result) => JsonDocument.Parse(Pk.Ok(result).Stdout).RootElement;

    public void Dispose() => _node.Dispose();
}
