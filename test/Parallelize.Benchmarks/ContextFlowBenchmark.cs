using System.Diagnostics;

namespace Parallelize.Benchmarks;

/// <summary>
/// What flowing the caller's <see cref="ExecutionContext"/> into each call costs with no trace listener (issue 14's
/// target: at most 5% of throughput), side by side in one run: the pool with <see cref="ParallelizeOptions.FlowExecutionContext"/>
/// off, on with a caller whose context is untouched, and on with a caller that has set an <see cref="AsyncLocal{T}"/>
/// (so every call runs inside the caller's context).
/// </summary>
/// <remarks>
/// <c>dotnet run --project test/Parallelize.Benchmarks -c Release -- --context [--calls N] [--repeats N]</c>. The
/// variants take turns within each repeat, so a change in the machine's load hits them alike; each figure is the median
/// over the repeats.
/// </remarks>
internal static class ContextFlowBenchmark
{
    private static readonly AsyncLocal<string?> s_callerValue = new();

    public static int Run(string[] args)
    {
        int calls = IntOption(args, "--calls", 2_000_000);
        int repeats = IntOption(args, "--repeats", 7);
        Console.WriteLine($"Context flow without a listener, {Environment.ProcessorCount} cores, 2 executors, {calls:N0} calls a run, median of {repeats} runs after a warm-up");
        Console.WriteLine();
        Console.WriteLine("| work a call | flow off (calls/s) | flow on, untouched context | cost | flow on, AsyncLocal set by the caller | cost |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach ((string name, Func<long, long> work) in new (string, Func<long, long>)[] { ("none", static x => x), ("~100 ns", Work.Cpu(StepsFor(100))) })
        {
            // Warm-up: every variant once.
            _ = Measure(work, calls / 10, flow: false, setLocal: false);
            _ = Measure(work, calls / 10, flow: true, setLocal: false);
            _ = Measure(work, calls / 10, flow: true, setLocal: true);
            var off = new List<double>();
            var untouched = new List<double>();
            var local = new List<double>();
            for (int r = 0; r < repeats; r++)
            {
                off.Add(Measure(work, calls, flow: false, setLocal: false));
                untouched.Add(Measure(work, calls, flow: true, setLocal: false));
                local.Add(Measure(work, calls, flow: true, setLocal: true));
            }

            double o = Median(off), u = Median(untouched), l = Median(local);
            Console.WriteLine($"| {name} | {o / 1e6:0.00} M | {u / 1e6:0.00} M | {Cost(o, u)} | {l / 1e6:0.00} M | {Cost(o, l)} |");
        }

        Console.WriteLine();
        Console.WriteLine("cost = the throughput lost against flow off (target for the untouched context: at most 5%)");
        return 0;
    }

    private static string Cost(double baseline, double value) => $"{(1 - (value / baseline)) * 100:+0.0;-0.0;0.0}%";

    /// <summary>Calls per second of one run: every call queued from this thread, then waited for.</summary>
    private static double Measure(Func<long, long> work, int calls, bool flow, bool setLocal)
    {
        // Run on a thread of its own so that the caller's context is exactly what the variant says.
        double result = 0;
        var thread = new Thread(() =>
        {
            if (setLocal)
            {
                s_callerValue.Value = "caller";
            }

            using var pool = new Parallelize<long, long>(work, count: 2, new ParallelizeOptions { FlowExecutionContext = flow });
            long start = Stopwatch.GetTimestamp();
            for (long i = 0; i < calls; i++)
            {
                pool.Invoke(i);
            }

            pool.Wait();
            result = calls / Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (pool.GetProgress().Succeeded != calls)
            {
                throw new InvalidOperationException($"expected {calls} results, got {pool.GetProgress().Succeeded}");
            }
        });
        thread.Start();
        thread.Join();
        return result;
    }

    private static int StepsFor(double nanoseconds) => Math.Max(1, (int)(nanoseconds / Work.NanosecondsPerSpinStep()));

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    private static int IntOption(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture, out int value) && value > 0 ? value : fallback;
    }
}
