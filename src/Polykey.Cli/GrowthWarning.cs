using System.Globalization;
using Polykey.Core;

namespace Polykey.Cli;

/// <summary>
/// One warning line on a terminal when a keynode is mostly old values (Footprint.Outgrown: at
/// least 64 MiB and more than 8 times what its newest versions need), suggesting `pk gc
/// --keep-versions`. Measuring reads every history's newest commit, so it is done at most once a
/// day per keynode, or again when the file grew by a quarter since; the verdict is remembered in
/// `&lt;cache&gt;/polykey/&lt;id&gt;.growth` (sizes only: nothing secret). Never when stderr is not a terminal.
/// </summary>
internal static class GrowthWarning
{
    private static readonly TimeSpan MeasureEvery = TimeSpan.FromDays(1);

    public static void Check(Keynode keynode, string cacheDirectory)
    {
        if (Console.IsErrorRedirected) return;
        try
        {
            long size = new FileInfo(keynode.Path).Length;
            if (size < Footprint.OutgrownFromBytes) return;
            string remembered = System.IO.Path.Combine(cacheDirectory, "polykey", keynode.Id + ".growth");
            Footprint footprint = Remembered(remembered, size) ?? Measure(keynode, remembered);
            if (!footprint.Outgrown) return;
            Output.Warning($"{keynode.Path} is {ByteSize.Format(footprint.FileBytes)}, {footprint.FileBytes / Math.Max(1, footprint.NewestBytes)}x what its newest versions need: old values pile up; 'pk gc --keep-versions N' (or --keep-since 30d) drops them");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PolykeyException)
        {
            // a warning is advice: never a reason to fail the command
        }
    }

    // "<measured at, unix seconds> <file bytes> <tip bytes> <histories>": fresh enough, or null.
    private static Footprint? Remembered(string path, long size)
    {
        if (!File.Exists(path) || new FileInfo(path).Length > 256) return null;
        string[] fields = File.ReadAllText(path).Trim().Split(' ');
        if (fields.Length != 4 || !fields.All(f => long.TryParse(f, NumberStyles.None, CultureInfo.InvariantCulture, out _))) return null;
        long[] n = fields.Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        bool recent = DateTimeOffset.UtcNow - DateTimeOffset.FromUnixTimeSeconds(Math.Min(n[0], 253402300799)) < MeasureEvery;
        bool similar = size <= n[1] + n[1] / 4 && size >= n[1] - n[1] / 4;
        return recent && similar && n[3] <= int.MaxValue ? new Footprint(size, n[2], (int)n[3]) : null;
    }

    private static Footprint Measure(Keynode keynode, string path)
    {
        Footprint measured = keynode.Measure();
        // Remembered when the cache can take it; the measure stands either way (a cache that cannot be
        // written must not lose the warning).
        PrivateFile.TryReplace(path, System.Text.Encoding.ASCII.GetBytes(
            FormattableString.Invariant($"{DateTimeOffset.UtcNow.ToUnixTimeSeconds()} {measured.FileBytes} {measured.TipBytes} {measured.Histories}\n")));
        return measured;
    }
}
