using System.Globalization;
using Parallelize;
using Spectre.Console;

/// <summary>
/// A live progress bar fed by a pool's progress reports (<see cref="ParallelizeOptions.Progress"/>), shown only when
/// standard output is an interactive terminal: redirected output (a pipe, a file, the smoke tests) stays exactly as
/// it was. Lines written through <see cref="WriteLine"/> while the bar shows are printed above it.
/// </summary>
internal sealed class ConsoleProgress : IProgress<ParallelizeProgress>, IDisposable
{
    private readonly TaskCompletionSource<ProgressTask> _task = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StatsColumn _stats = new();
    private readonly Task _display;
    private readonly string _title;
    private readonly long _total;

    private ConsoleProgress(string title, long total)
    {
        _title = title;
        _total = total;
        _display = AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new SpinnerColumn(), new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), _stats)
            .StartAsync(async context =>
            {
                ProgressTask task = context.AddTask(Markup.Escape(title), maxValue: Math.Max(1, total));
                _task.TrySetResult(task);
                await _done.Task.ConfigureAwait(false);
                context.Refresh();
            });
    }

    /// <summary>How often the examples' pools report progress to the bar.</summary>
    public static TimeSpan Interval { get; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Starts a bar if standard output is an interactive terminal.</summary>
    /// <param name="title">What the pool does.</param>
    /// <param name="total">How many calls are expected (the bar's end); 0 if unknown (the calls accepted so far are used).</param>
    /// <returns>The bar, or <see langword="null"/> when output is redirected.</returns>
    public static ConsoleProgress? StartIfTerminal(string title, long total = 0) =>
        Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive ? null : new ConsoleProgress(title, total);

    /// <summary>Writes a line above the bar, or to standard output when there is no bar.</summary>
    public static void WriteLine(ConsoleProgress? bar, string line)
    {
        if (bar is null)
        {
            Console.WriteLine(line);
        }
        else
        {
            AnsiConsole.WriteLine(line);
        }
    }

    /// <inheritdoc/>
    public void Report(ParallelizeProgress value)
    {
        if (!_task.Task.IsCompleted)
        {
            return;
        }

        ProgressTask task = _task.Task.Result;
        long ended = value.Succeeded + value.Failed + value.Aborted;
        task.MaxValue = Math.Max(1, Math.Max(_total, value.Accepted));
        task.Value = ended;
        string left = value.EstimatedTimeLeft is { } time ? time.ToString(@"m\:ss", CultureInfo.InvariantCulture) : "?";
        string failed = value.Failed > 0 ? $" {value.Failed} failed" : "";
        string aborted = value.Aborted > 0 ? $" {value.Aborted} aborted" : "";
        string restarts = value.Restarted > 0 ? $" {value.Restarted} restarts" : "";
        _stats.Text = string.Create(
            CultureInfo.InvariantCulture,
            $"{ended}/{task.MaxValue:0} {value.Running} running{failed}{aborted}{restarts} {value.Throughput:0}/s {left} left");
        if (value.IsStopped)
        {
            task.StopTask();
            _done.TrySetResult();
        }
    }

    /// <summary>The counts, rate and time left beside the bar.</summary>
    private sealed class StatsColumn : ProgressColumn
    {
        private volatile string _text = "";

        public string Text
        {
            get => _text;
            set => _text = value;
        }

        public override Spectre.Console.Rendering.IRenderable Render(Spectre.Console.Rendering.RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(_text, new Style(Color.Grey));
    }

    /// <summary>Ends the bar (after the pool's last report, or at once) and waits until it is drawn for the last time.</summary>
    public void Dispose()
    {
        _done.TrySetResult();
        _display.GetAwaiter().GetResult();
    }
}
