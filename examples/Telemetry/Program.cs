// The pool's telemetry through OpenTelemetry: the "Parallelize" meter (calls, completions, failures, restarts, queue
// and in-flight gauges, call durations) and the "Parallelize" activity source (a span per attempt of each call), both
// to the console exporter. Runs a short job of sleeping calls, some of which fail once, inside a "job" span of its
// own, so the calls' spans are its children; prints the metrics at the end.
//
//   dotnet run --project examples/Telemetry -c Release -- [--calls N] [--call-ms N] [--executors N]
//
// To watch the counters live, give it a longer job (--calls 100000) and, in another terminal:
//   dotnet-counters monitor -n Telemetry --counters Parallelize
using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Parallelize;

var options = ExampleOptions.Parse(args, new()
{
    ["--calls"] = 100,
    ["--call-ms"] = 10,
    ["--executors"] = 4,
});
if (options is null || options["--executors"] < 1 || options["--calls"] < 0)
{
    Console.Error.WriteLine("usage: Telemetry [--calls N] [--call-ms N] [--executors N>0]");
    return 2;
}

int calls = options["--calls"];
int callMs = options["--call-ms"];
Console.WriteLine($"watch it live: dotnet-counters monitor -n Telemetry --counters {ParallelizeMetrics.MeterName}   (or -p {Environment.ProcessId})");

// The pool's meter and its activity source are both named "Parallelize"; each attempt of each call is a span
// ("parallelize.call", tagged with the executor, call id, attempt and outcome), a child of the caller's span.
ResourceBuilder resource = ResourceBuilder.CreateDefault().AddService("Telemetry");
var spans = new SpanCounter(ParallelizeTracing.ActivitySourceName);
TracerProvider tracing = Sdk.CreateTracerProviderBuilder()
    .SetResourceBuilder(resource)
    .AddSource(ParallelizeTracing.ActivitySourceName)
    .AddSource(Job.SourceName)
    .AddProcessor(spans)
    .AddConsoleExporter()
    .Build();
MeterProvider metrics = Sdk.CreateMeterProviderBuilder()
    .SetResourceBuilder(resource)
    .AddMeter(ParallelizeMetrics.MeterName)
    // Call durations are in seconds; the SDK's default buckets are made for milliseconds.
    .AddView(ParallelizeMetrics.CallDuration, new ExplicitBucketHistogramConfiguration { Boundaries = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] })
    .AddConsoleExporter((_, reader) => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 10_000)
    .Build();

using (Activity? job = Job.Source.StartActivity("job"))
{
    spans.Parent = job?.SpanId;
    // Every tenth input fails on its first attempt: a restart and a retry show in the counters.
    var failedOnce = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();
    int Work(int input)
    {
        Thread.Sleep(callMs);
        return input % 10 == 0 && failedOnce.TryAdd(input, true) ? throw new InvalidOperationException($"{input} fails once.") : input;
    }

    using var pool = new Parallelize<int, int>(Work, count: options["--executors"], new ParallelizeOptions { Name = "telemetry" });
    for (int i = 1; i <= calls; i++)
    {
        pool.Invoke(i);
    }

    pool.Wait();
    IReadOnlyList<int> aborted = pool.Stop();
    job?.SetTag("job.calls", calls);
    Console.WriteLine($"job: {calls} calls = {pool.Results.Count} results + {pool.Failures.Count} failures + {aborted.Count} aborted; {pool.Restarts} restarts");
}

// Disposing the providers exports what is left (the counters keep a stopped pool's final counts).
metrics.Dispose();
tracing.Dispose();
Console.WriteLine($"spans from the {ParallelizeTracing.ActivitySourceName} activity source: {spans.Count} ({spans.Children} children of the job's span)");
return 0;

/// <summary>The example's own activity source, for the span around the job.</summary>
internal static class Job
{
    public const string SourceName = "Telemetry";

    public static readonly ActivitySource Source = new(SourceName);
}

/// <summary>Counts the spans of one activity source as they end, and those that are children of <see cref="Parent"/>.</summary>
internal sealed class SpanCounter(string sourceName) : BaseProcessor<Activity>
{
    private int _count;
    private int _children;

    public ActivitySpanId? Parent { get; set; }

    public int Count => Volatile.Read(ref _count);

    public int Children => Volatile.Read(ref _children);

    public override void OnEnd(Activity data)
    {
        if (data.Source.Name == sourceName)
        {
            Interlocked.Increment(ref _count);
            if (data.ParentSpanId == Parent)
            {
                Interlocked.Increment(ref _children);
            }
        }
    }
}
