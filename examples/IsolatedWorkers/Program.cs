// Executors in worker processes: some inputs make their executor crash the whole process (Environment.FailFast, a
// stack overflow), which in-process executors would not survive. Each crash takes down one worker, whose call fails
// and is retried; the worker is started again; poison inputs end in Failures after their attempts, with the exit
// code, the signal and the tail of the worker's standard error; everything else ends in Results.
//
//   dotnet run --project examples/IsolatedWorkers -c Release -- [--workers N] [--calls N] [--poison-every N]
using System.Diagnostics;
using Parallelize;
using Parallelize.Isolation;

// In a worker process (this program started again by the pool) this serves calls and exits; here it returns.
IsolatedWorker.RunIfWorker(args);

var options = ExampleOptions.Parse(args, new()
{
    ["--workers"] = 4,
    ["--calls"] = 200,
    ["--poison-every"] = 40,
});
if (options is null || options["--workers"] < 1 || options["--poison-every"] < 2)
{
    Console.Error.WriteLine("usage: IsolatedWorkers [--workers N>0] [--calls N] [--poison-every N>1]");
    return 2;
}

int calls = options["--calls"];
var settings = new CrashSettings(options["--poison-every"]);

// The factory runs in each worker; its argument crosses into the worker as JSON, like the inputs.
IsolatedExecutors<int, long> workers = Isolated.Create<CrashSettings, int, long>(
    options["--workers"],
    static settings => new SometimesCrashing(settings),
    settings);

var clock = Stopwatch.StartNew();
using var pool = new Parallelize<int, long>(workers, new ParallelizeOptions { MaxAttempts = 2 });
for (int i = 0; i < calls; i++)
{
    pool.Invoke(i);
}

pool.Wait();
IReadOnlyList<int> aborted = pool.Stop();
clock.Stop();

foreach (Failure<int> failure in pool.Failures.OrderBy(f => f.Input))
{
    var crash = (WorkerCrashedException)failure.Exceptions[^1];
    // The worker's last words: the runtime's report of a stack overflow, or the FailFast message.
    string said = string.Join(" ", crash.StandardErrorTail.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Take(2));
    Console.WriteLine($"input {failure.Input}: {failure.Attempts} attempts, worker killed by {crash.SignalName} (exit {crash.ExitCode}): {said}");
}

int accounted = pool.Results.Count + pool.Failures.Count + aborted.Count;
Console.WriteLine(
    $"results {pool.Results.Count} + failures {pool.Failures.Count} + aborted {aborted.Count} = {accounted} of {calls} calls; " +
    $"crashes {workers.Crashes}, restarts {pool.Restarts}, processes started {workers.ProcessesStarted}, in {clock.Elapsed.TotalSeconds:0.0} s");
return accounted == calls ? 0 : 1;

/// <summary>Which inputs crash their worker: every Nth (fail fast) and every Nth + N/2 (stack overflow).</summary>
internal sealed record CrashSettings(int PoisonEvery);

/// <summary>An executor that sums the squares up to its input, unless the input is poison.</summary>
internal sealed class SometimesCrashing(CrashSettings settings) : IExecutor<int, long>
{
    public long Execute(int input, CancellationToken cancellationToken)
    {
        if (input % settings.PoisonEvery == settings.PoisonEvery - 1)
        {
            Environment.FailFast($"input {input} is poison");
        }

        if (input % settings.PoisonEvery == settings.PoisonEvery / 2)
        {
            return Overflow(input);
        }

        long sum = 0;
        for (long i = 1; i <= input; i++)
        {
            sum += i * i;
        }

        return sum;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static long Overflow(long depth) => Overflow(depth + 1) + 1;
}
