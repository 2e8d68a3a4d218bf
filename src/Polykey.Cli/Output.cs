using System.Text;
using System.Text.Json;
using Polykey.Core;

namespace Polykey.Cli;

/// <summary>
/// Writes to stdout/stderr: raw bytes for values, `pk: error:` lines for failures, JSON for data.
/// Text lines may carry names from a keynode, so their control characters are escaped
/// (<see cref="SecretPath.Escape"/>): a name can neither steer the terminal nor fake a line.
/// </summary>
internal static class Output
{
    public static void Error(string message, string? hint = null)
    {
        Console.Error.WriteLine($"pk: error: {SecretPath.Escape(message)}");
        if (hint is not null) Console.Error.WriteLine($"pk: hint: {SecretPath.Escape(hint)}");
    }

    public static void Warning(string message) => Console.Error.WriteLine($"pk: warning: {SecretPath.Escape(message)}");

    /// <summary>A report line on stderr for people (what a command did), control characters escaped.</summary>
    public static void Status(string message) => Console.Error.WriteLine(SecretPath.Escape(message));

    /// <summary>A `pk: ` line on stderr about what pk is doing (waiting for a lock, say).</summary>
    public static void Notice(string message) => Console.Error.WriteLine($"pk: {SecretPath.Escape(message)}");

    public static void Bytes(ReadOnlySpan<byte> bytes)
    {
        using Stream stdout = Console.OpenStandardOutput();
        stdout.Write(bytes);
        stdout.Flush();
    }

    /// <summary>One line of text for people, control characters escaped.</summary>
    public static void Line(string text) => Bytes(Encoding.UTF8.GetBytes(SecretPath.Escape(text) + "\n"));

    /// <summary>Many lines, written in large pieces (a listing of 100,000 names is not 100,000 writes).</summary>
    public static void Lines(IEnumerable<string> lines)
    {
        using Stream stdout = Console.OpenStandardOutput();
        using var buffered = new BufferedStream(stdout, 1 << 16);
        byte[] newline = [(byte)'\n'];
        foreach (string line in lines)
        {
            buffered.Write(Encoding.UTF8.GetBytes(SecretPath.Escape(line)));
            buffered.Write(newline);
        }
    }

    public static void Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            write(writer);
        buffer.WriteByte((byte)'\n');
        Bytes(buffer.ToArray());
    }

    public static void Strings(Utf8JsonWriter writer, string name, IEnumerable<string> values)
    {
        writer.WriteStartArray(name);
        foreach (string value in values) writer.WriteStringValue(value);
        writer.WriteEndArray();
    }

    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
