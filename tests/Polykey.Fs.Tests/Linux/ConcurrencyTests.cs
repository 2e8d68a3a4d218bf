namespace Polykey.Fs.Tests.Linux;

public class ConcurrencyTests
{
    [Fact]
    public async Task ParallelWritersAndReaders_WithForcedGCs_SeeTheirOwnBytes()
    {
        using var mount = new TestMount();
        mount.Tree.Put("shared", "shared-value\n");
        const int clients = 6;
        const int rounds = 60;
        using var stop = new CancellationTokenSource();
        // Collections while requests are in flight: moves objects, must not disturb the
        // callbacks (handles, pinned buffers).
        var collector = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                Thread.Sleep(5);
            }
        });
        var outputs = Enumerable.Range(0, clients).AsParallel().WithDegreeOfParallelism(clients).Select(c =>
            mount.Run($"for i in $(seq 1 {rounds}); do echo \"{c}-$i\" > f{c}; cat f{c}; cat shared; echo \"+$i\" >> log{c}; done; cat log{c} | wc -l")).ToList();
        stop.Cancel();
        await collector;
        for (var c = 0; c < clients; c++)
        {
            var result = outputs[c];
            Assert.True(result.ExitCode == 0, result.ToString());
            var expected = string.Concat(Enumerable.Range(1, rounds).Select(i => $"{c}-{i}\nshared-value\n")) + $"{rounds}\n";
            Assert.Equal(expected, result.Stdout);
            Assert.Equal($"{c}-{rounds}\n", mount.Tree.Committed($"f{c}"));
        }
    }
}
