// Memory stays flat however long the stream: --calls small inputs (10 million by default; the README runs 100
// million) go through a bounded pool that does not retain results; a producer thread queues them while the main
// flow reads the result stream, keeping only a count and a checksum. Every ~2 seconds it prints the working set
// and GC heap; at the end the peak working set, which must stay under 100 MB, and the checksum, which must be the
// closed-form sum of 2x+1 for x in 0..N-1 (N*N). Ctrl-C or SIGTERM stop it gracefully: it prints
// produced = consumed + failed + aborted and exits with 130 or 143.
//
//   dotnet run --project examples/StreamMemory -c Release -- --calls 100000000
//   dotnet run --project examples/StreamMemory -c Release -- [--calls N] [--capacity N>0] [--executors N>0] [--quiet]
using System.Diagnostics;
using System.Globalization;
using Parallelize.Signals;
using Parallelize;

const double LimitMb = 100;
const double Mb = 1024 * 1024;

List<string> rest = [.. args];
bool quiet = rest.Remove("--quiet");
var options = ExampleOptions.Parse([.. rest], new()
{
    ["--calls"] = 10_000_000,
    ["--capacity"] = 1024,
    ["--executors"] = 2,
});
if (options is null || options["--capacity"] < 1 || options["--executors"] < 1)
{
    Console.Error.WriteLine("usage: StreamMemory [--calls N] [--capacity N>0] [--executors N>0] [--quiet]");
    return 2;
}

long calls = options["--calls"];
int capacity = options["--capacity"];
int executors = options["--executors"];
Console.WriteLine(string.Create(
    CultureInfo.InvariantCulture,
    $"{calls} calls, capacity {capacity}, {executors} executors, server GC {System.Runtime.GCSettings.IsServerGC}"));

var clock = Stopwatch.StartNew();
using var pool = new Parallelize<long, long>(
    x => (x * 2) + 1,
    count: executors,
    new ParallelizeOptions { BoundedCapacity = capacity, RetainResults = false });

using SignalStop<long> stop = pool.StopOnSignals(TimeSpan.FromSeconds(2));
Console.WriteLine("Streaming; Ctrl-C or SIGTERM stops it gracefully.");
long produced = 0;
Task producer = Task.Factory.StartNew(
    () =>
    {
        try
        {
            for (long x = 0; x < calls && !stop.Signalled.IsCancellationRequested; x++)
            {
                pool.Invoke(x);
                produced++;
            }
        }
        catch (InvalidOperationException) when (stop.Signal is not null)
        {
            // The signal stopped the pool between the check and the call: that call was not accepted.
        }
        finally
        {
            // Also on a failure, so the result stream ends and the reader is not left waiting.
            pool.Complete();
        }
    },
    CancellationToken.None,
    TaskCreationOptions.LongRunning,
    TaskScheduler.Default);

long count = 0;
long checksum = 0;
long nextReport = Stopwatch.Frequency * 2;
await foreach (long r in pool.ReadResultsAsync())
{
    count++;
    checksum = unchecked(checksum + r);
    if (!quiet && clock.ElapsedTicks >= nextReport)
    {
        nextReport = clock.ElapsedTicks + (Stopwatch.Frequency * 2);
        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{seconds,7:0.0} s  {count,12} consumed  {count / seconds,12:0} calls/s  working set {Environment.WorkingSet / Mb,6:0.0} MB  GC heap {GC.GetTotalMemory(false) / Mb,6:0.0} MB"));
    }
}

await producer;
IReadOnlyList<long> aborted = stop.Stop();
clock.Stop();
if (stop.Signal is { } signal)
{
    long failed = pool.Failures.Count;
    bool accounted = produced == count + failed + aborted.Count;
    Console.WriteLine(string.Create(
        CultureInfo.InvariantCulture,
        $"stopped by {signal}: produced {produced} = consumed {count} + failed {failed} + aborted {aborted.Count}: {(accounted ? "OK" : "MISMATCH")}"));
    return accounted ? stop.ExitCode : 1;
}

double peakMb;
using (var process = Process.GetCurrentProcess())
{
    process.Refresh();
    peakMb = process.PeakWorkingSet64 / Mb;
}

long expected = unchecked(calls * calls); // sum of 2x+1 for x in 0..N-1 = N*(N-1) + N = N*N, mod 2^64
bool matched = count == calls && checksum == expected;
double total = clock.Elapsed.TotalSeconds;
Console.WriteLine(string.Create(
    CultureInfo.InvariantCulture,
    $"consumed {count} of {calls}, checksum {checksum} (expected {expected}): {(matched ? "OK" : "MISMATCH")}"));
Console.WriteLine(string.Create(
    CultureInfo.InvariantCulture,
    $"total {total:0.0} s, {count / total:0} calls/s, peak working set {peakMb:0.0} MB, gen0/1/2 collections {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}"));
bool ok = matched && peakMb < LimitMb;
Console.WriteLine(string.Create(
    CultureInfo.InvariantCulture,
    $"peak working set: {peakMb:0.0} MB for {calls} calls (limit {LimitMb:0} MB): {(ok ? "OK" : "FAIL")}"));
return ok ? 0 : 1;
