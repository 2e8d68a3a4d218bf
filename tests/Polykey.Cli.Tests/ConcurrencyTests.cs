using System.Text.Json;

namespace Polykey.Cli.Tests;

/// <summary>Several pk processes on one keynode: writers serialise, readers never see half a change.</summary>
public sealed class ConcurrencyTests : IDisposable
{
    private readonly TestKeynode _node = new TestKeynode().Init();

    [Fact]
    public void ParallelWriters_AllChangesLand_ReadersNeverFail()
    {
        const int writers = 3, rounds = 25;
        Pk.Ok(_node.Set("shared", "start"));
        var readerErrors = new List<string>();
        using var stop = new CancellationTokenSource();
        Task reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                PkResult get = _node.Run("get", "shared");
                string value = get.Text;
                if (get.ExitCode != 0 || !(value == "start" || value.StartsWith("w", StringComparison.Ordinal) && value.EndsWith("-end", StringComparison.Ordinal)))
                    lock (readerErrors) readerErrors.Add(get.ToString());
            }
        });
        Task[] tasks = Enumerable.Range(0, writers).Select(w => Task.Run(() =>
        {
            for (int i = 0; i < rounds; i++)
            {
                Pk.Ok(_node.Set("shared", $"w{w}-{i}-end"));
                Pk.Ok(_node.Set($"own/{w}", $"{i}"));
            }
        })).ToArray();
        Task.WaitAll(tasks);
        stop.Cancel();
        reader.Wait();

        Assert.Empty(readerErrors);
        JsonElement log = JsonDocument.Parse(Pk.Ok(_node.Run("log", "shared", "--json")).Stdout).RootElement;
        Assert.Equal(1 + writers * rounds, log.GetArrayLength());
        var values = Enumerable.Range(1, log.GetArrayLength()).Select(v => _node.Get("shared", "--version", v.ToString()).AsSpan().ToArray()).Select(b => System.Text.Encoding.ASCII.GetString(b)).ToHashSet();
        for (int w = 0; w < writers; w++)
        {
            for (int i = 0; i < rounds; i++) Assert.Contains($"w{w}-{i}-end", values);
            Assert.Equal($"{rounds - 1}", System.Text.Encoding.ASCII.GetString(_node.Get($"own/{w}")));
            Assert.Equal(rounds, JsonDocument.Parse(Pk.Ok(_node.Run("log", $"own/{w}", "--json")).Stdout).RootElement.GetArrayLength());
        }
        Assert.Equal(0, PkProcess.Run("tar", ["-tf", _node.Path]).ExitCode);
    }

    public void Dispose() => _node.Dispose();
}
