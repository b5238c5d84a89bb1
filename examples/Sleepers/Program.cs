// The sleeper demo of the original Parallelize: many executors sleeping in parallel, stopped gracefully on
// Ctrl-C (exit code 130) or SIGTERM (exit code 143), with every call accounted for as aborted or a result.
//
//   dotnet run --project examples/Sleepers -c Release -- [--executors N] [--calls N] [--sleep-ms N] [--finish-timeout-ms N]
using System.Diagnostics;
using Parallelize.Signals;
using Parallelize;

var options = ExampleOptions.Parse(args, new()
{
    ["--executors"] = 250,
    ["--calls"] = 1000,
    ["--sleep-ms"] = 100,
    ["--finish-timeout-ms"] = 2000,
});
if (options is null || options["--executors"] < 1)
{
    Console.Error.WriteLine("usage: Sleepers [--executors N>0] [--calls N] [--sleep-ms N] [--finish-timeout-ms N]");
    return 2;
}

int executors = options["--executors"];
int calls = options["--calls"];
int sleepMs = options["--sleep-ms"];
var finishTimeout = TimeSpan.FromMilliseconds(options["--finish-timeout-ms"]);

var clock = Stopwatch.StartNew();

// In a terminal, a live progress bar fed by the pool's progress reports; redirected output is unchanged.
ConsoleProgress? bar = ConsoleProgress.StartIfTerminal("sleeping", calls);
using var pool = new Parallelize<int, int>(
    Sleeper,
    count: executors,
    new ParallelizeOptions { Name = "sleepers", Progress = bar, ProgressInterval = ConsoleProgress.Interval });

// Ctrl-C (exit code 130) or SIGTERM (143) stop the pool, giving calls in flight finishTimeout to end; a second
// Ctrl-C exits at once.
using SignalStop<int> stop = pool.StopOnSignals(finishTimeout);
using CancellationTokenRegistration announce = stop.Signalled.Register(() => ConsoleProgress.WriteLine(
    bar,
    $"Got {stop.Signal}: stopping; calls in flight get {finishTimeout.TotalMilliseconds:0} ms to finish (Ctrl-C again to exit now)..."));

int queued = 0;
try
{
    for (; queued < calls && !stop.Signalled.IsCancellationRequested; queued++)
    {
        pool.Invoke(sleepMs);
    }
}
catch (InvalidOperationException) when (stop.Signal is not null)
{
    // The signal stopped the pool between the check and the call: that call was not accepted.
}

ConsoleProgress.WriteLine(bar, $"Queued {queued} calls. Ctrl-C to abort!");
pool.Wait(); // returns when every call has ended, or when a signal has stopped the pool
if (stop.Signal is null)
{
    ConsoleProgress.WriteLine(bar, "Finished sleeping...");
}

IReadOnlyList<int> aborted = stop.Stop();
bar?.Dispose(); // the pool's last report has ended the bar
int results = pool.Results.Count;
int failures = pool.Failures.Count;
string failed = failures > 0 ? $" + failures {failures}" : "";
Console.WriteLine($"aborted {aborted.Count} + results {results}{failed} = {aborted.Count + results + failures} calls");
long idealMs = (calls + executors - 1L) / executors * sleepMs;
Console.WriteLine($"wall time {clock.ElapsedMilliseconds} ms, ideal {idealMs} ms (ceil({calls}/{executors}) x {sleepMs} ms)");
if (aborted.Count + results + failures != queued)
{
    // The iron rule is broken: say so loudly and fail the run.
    Console.Error.WriteLine($"error: {queued} calls were queued but {aborted.Count + results + failures} are accounted for");
    return 1;
}

return stop.ExitCode;

static int Sleeper(int milliseconds)
{
    Thread.Sleep(milliseconds);
    return milliseconds;
}

