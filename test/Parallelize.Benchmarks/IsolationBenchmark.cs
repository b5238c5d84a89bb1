using System.Diagnostics;
using System.Globalization;
using Parallelize.Isolation;

namespace Parallelize.Benchmarks;

/// <summary>
/// What process isolation costs (issue 11's targets): the time per call of one isolated executor on a small input
/// against an in-process one, two isolated workers against one on 1 ms calls, and how long 50 workers take to be
/// ready.
/// </summary>
/// <remarks>
/// <c>dotnet run --project test/Parallelize.Benchmarks -c Release -- --isolation [--calls N] [--repeats N]</c>.
/// The time per call is the median interval between consecutive results read from the pool's stream while one
/// executor works through queued calls back to back: one round trip to the worker each, plus the pool's own work.
/// </remarks>
internal static class IsolationBenchmark
{
    public static int Run(string[] args)
    {
        int calls = Option(args, "--calls", 20_000);
        int repeats = Option(args, "--repeats", 5);
        Console.WriteLine($"Process isolation, {Environment.ProcessorCount} cores, .NET {Environment.Version}; median of {repeats} runs after a warm-up");

        double inProcess = Median(repeats, () => PerCall(new Parallelize<long, long>([(Func<long, long>)Echo.Twice]), calls));
        double isolated = Median(repeats, () => PerCall(new Parallelize<long, long>(Isolated.Create<Echo, long, long>(1)), calls));
        Console.WriteLine($"per call, small input (long -> long), calls back to back: isolated {isolated:0.0} µs, in-process {inProcess:0.00} µs; overhead {isolated - inProcess:0.0} µs (target ≤ 30 µs)");
        double loneInProcess = Median(repeats, () => LoneCall(new Parallelize<long, long>([(Func<long, long>)Echo.Twice]), 2_000));
        double loneIsolated = Median(repeats, () => LoneCall(new Parallelize<long, long>(Isolated.Create<Echo, long, long>(1)), 2_000));
        Console.WriteLine($"one call alone (Invoke, then Wait), median: isolated {loneIsolated:0.0} µs, in-process {loneInProcess:0.0} µs; overhead {loneIsolated - loneInProcess:0.0} µs");

        int spinCalls = Math.Max(200, calls / 20);
        double one = Median(repeats, () => Elapsed<SpinMillisecond>(1, spinCalls));
        double two = Median(repeats, () => Elapsed<SpinMillisecond>(2, spinCalls));
        Console.WriteLine($"1 ms of CPU a call, {spinCalls} calls: 1 worker {one:0} ms, 2 workers {two:0} ms; speedup {one / two:0.00}× (target ≥ 1.8×)");

        double oneSleeping = Median(repeats, () => Elapsed<SleepMillisecond>(1, spinCalls));
        double twoSleeping = Median(repeats, () => Elapsed<SleepMillisecond>(2, spinCalls));
        Console.WriteLine($"1 ms asleep a call (blocking, no CPU), {spinCalls} calls: 1 worker {oneSleeping:0} ms, 2 workers {twoSleeping:0} ms; speedup {oneSleeping / twoSleeping:0.00}×");

        double oneLocal = Median(repeats, () => ElapsedLocal(1, spinCalls));
        double twoLocal = Median(repeats, () => ElapsedLocal(2, spinCalls));
        Console.WriteLine($"  in-process async executors for comparison: 1 executor {oneLocal:0} ms, 2 executors {twoLocal:0} ms; speedup {oneLocal / twoLocal:0.00}×");

        double ready = Median(repeats, () => ReadyMilliseconds(50));
        Console.WriteLine($"50 workers started and ready: {ready:0} ms (target < 3,000 ms)");
        return 0;
    }

    /// <summary>Time per call in µs with one executor and every call queued up front (elapsed / calls).</summary>
    private static double PerCall(Parallelize<long, long> pool, int calls)
    {
        using (pool)
        {
            _ = pool.Executors;
            var clock = Stopwatch.StartNew();
            for (long i = 0; i < calls; i++)
            {
                pool.Invoke(i);
            }

            pool.Wait();
            return clock.Elapsed.TotalMicroseconds / calls;
        }
    }

    /// <summary>Median round trip in µs of a call made alone: Invoke, then Wait for it, one at a time.</summary>
    private static double LoneCall(Parallelize<long, long> pool, int calls)
    {
        using (pool)
        {
            _ = pool.Executors;
            double[] times = new double[calls];
            for (int i = 0; i < calls; i++)
            {
                long start = Stopwatch.GetTimestamp();
                pool.Invoke(i);
                pool.Wait();
                times[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }

            Array.Sort(times);
            return times[calls / 2];
        }
    }

    private static double Elapsed<TExecutor>(int workers, int calls)
        where TExecutor : class, IExecutor<long, long>, new()
    {
        using var pool = new Parallelize<long, long>(Isolated.Create<TExecutor, long, long>(workers));
        _ = pool.Executors;
        var clock = Stopwatch.StartNew();
        for (long i = 0; i < calls; i++)
        {
            pool.Invoke(i);
        }

        pool.Wait();
        return clock.Elapsed.TotalMilliseconds;
    }

    private static double ElapsedLocal(int executors, int calls)
    {
        using var pool = new Parallelize<long, long>(Enumerable.Range(0, executors).Select(_ => Executor.Create<long, long>(new SpinMillisecondAsync())));
        var clock = Stopwatch.StartNew();
        for (long i = 0; i < calls; i++)
        {
            pool.Invoke(i);
        }

        pool.Wait();
        return clock.Elapsed.TotalMilliseconds;
    }

    private static double ReadyMilliseconds(int workers)
    {
        var clock = Stopwatch.StartNew();
        using var pool = new Parallelize<long, long>(Isolated.Create<Echo, long, long>(workers));
        int created = pool.Executors.Count;
        double elapsed = clock.Elapsed.TotalMilliseconds;
        return created == workers ? elapsed : double.NaN;
    }

    private static double Median(int repeats, Func<double> run)
    {
        run();
        double[] values = [.. Enumerable.Range(0, repeats).Select(_ => run()).Order()];
        return values[values.Length / 2];
    }

    private static int Option(string[] args, string name, int fallback)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
    }
}

/// <summary>The smallest useful executor: doubles its input.</summary>
public sealed class Echo : IExecutor<long, long>
{
    public static long Twice(long input) => input * 2;

    public long Execute(long input, CancellationToken cancellationToken) => Twice(input);
}

/// <summary>Spins the CPU for one millisecond.</summary>
public sealed class SpinMillisecond : IExecutor<long, long>
{
    public long Execute(long input, CancellationToken cancellationToken)
    {
        long end = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 1000;
        long spins = 0;
        while (Stopwatch.GetTimestamp() < end)
        {
            spins++;
        }

        return input + (spins & 1);
    }
}

/// <summary>Spins the CPU for one millisecond, as an asynchronous executor (the kind the isolated executors are).</summary>
public sealed class SpinMillisecondAsync : IAsyncExecutor<long, long>
{
    private readonly SpinMillisecond _spin = new();

    public ValueTask<long> ExecuteAsync(long input, CancellationToken cancellationToken) => ValueTask.FromResult(_spin.Execute(input, cancellationToken));
}

/// <summary>Blocks for one millisecond without using the CPU, as a call waiting on I/O would.</summary>
public sealed class SleepMillisecond : IExecutor<long, long>
{
    public long Execute(long input, CancellationToken cancellationToken)
    {
        Thread.Sleep(1);
        return input;
    }
}
