using Polykey.Core.Sync;
using Spectre.Console;

namespace Polykey.Cli;

/// <summary>
/// A progress bar on stderr while a long operation runs, drawn by Spectre.Console, only when
/// stderr is a terminal (and NO_COLOR turns its colours off); otherwise nothing at all.
/// </summary>
internal static class ProgressBar
{
    public static bool Wanted => !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("TERM") is not (null or "dumb");

    public static T Run<T>(string title, Func<IProgress<TransferProgress>?, T> work)
    {
        if (!Wanted) return work(null);
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Console.Error),
            ColorSystem = Terminal.ColourWanted ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        });
        return console.Progress()
            .AutoClear(false) // the finished bar stays, as a line saying what was done
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                ProgressTask task = context.AddTask(title, autoStart: true, maxValue: 1);
                var progress = new SynchronousProgress(update =>
                {
                    task.Description = $"{title}: {update.Phase}";
                    task.MaxValue = Math.Max(1, update.Total);
                    task.Value = update.Done;
                });
                T result = work(progress);
                task.Value = task.MaxValue;
                return result;
            });
    }

    // Progress<T> posts to a synchronization context; the bar only needs the latest numbers.
    private sealed class SynchronousProgress(Action<TransferProgress> report) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value) => report(value);
    }
}
