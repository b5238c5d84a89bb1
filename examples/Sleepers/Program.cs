// The sleeper demo of the original Parallelize: many executors sleeping in parallel, stopped gracefully on
// Ctrl-C (exit code 130) or SIGTERM (exit code 143), with every call accounted for as aborted or a result.
//
//   dotnet run --project examples/Sleepers -c Release -- [--executors N] [--calls N] [--sleep-ms N] [--finish-timeout-ms N]
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
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

using var stopping = new CancellationTokenSource();
int exitCode = 0;

void OnSignal(int code)
{
    if (Interlocked.Exchange(ref exitCode, code) != 0)
    {
        // The user asked twice: do not wait for the calls in flight.
        Environment.Exit(code);
    }

    // CancelAsync runs the main flow's continuation (and so Stop) on the thread pool, not inline in this
    // handler, which must return for a second signal to be delivered.
    _ = stopping.CancelAsync();
}

Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    OnSignal(130);
};
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    OnSignal(143);
});

var clock = Stopwatch.StartNew();
using var pool = new Parallelize<int, int>(Sleeper, count: executors);
int queued = 0;
try
{
    for (; queued < calls && !stopping.IsCancellationRequested; queued++)
    {
        pool.Invoke(sleepMs);
    }

    Console.WriteLine($"Queued {queued} calls. Ctrl-C to abort!");
    await pool.WaitAsync(stopping.Token);
    Console.WriteLine("Finished sleeping...");
}
catch (OperationCanceledException) when (stopping.IsCancellationRequested)
{
    Console.WriteLine($"Stopping: calls in flight get {finishTimeout.TotalMilliseconds:0} ms to finish...");
}
finally
{
    IReadOnlyList<int> aborted = pool.Stop(finishTimeout);
    int results = pool.Results.Count;
    int failures = pool.Failures.Count;
    string failed = failures > 0 ? $" + failures {failures}" : "";
    Console.WriteLine($"aborted {aborted.Count} + results {results}{failed} = {aborted.Count + results + failures} calls");
    if (aborted.Count + results + failures != queued)
    {
        // The iron rule is broken: say so loudly and fail the run.
        Console.Error.WriteLine($"error: {queued} calls were queued but {aborted.Count + results + failures} are accounted for");
        Interlocked.CompareExchange(ref exitCode, 1, 0);
    }

    long idealMs = (calls + executors - 1L) / executors * sleepMs;
    Console.WriteLine($"wall time {clock.ElapsedMilliseconds} ms, ideal {idealMs} ms (ceil({calls}/{executors}) x {sleepMs} ms)");
}

return Volatile.Read(ref exitCode);

static int Sleeper(int milliseconds)
{
    Thread.Sleep(milliseconds);
    return milliseconds;
}

