using System.Diagnostics;

namespace Parallelize.Benchmarks;

/// <summary>One row of the quick table: a kind of work, how each contender runs it, and what each measured.</summary>
internal sealed class QuickRow
{
    /// <summary>Gets the row's label, e.g. "~1 µs".</summary>
    public required string Label { get; init; }

    /// <summary>Gets the calls of one timed run.</summary>
    public required int Calls { get; init; }

    /// <summary>Gets the calls of the untimed warm-up run (JIT tiering, thread creation, first-use allocations).</summary>
    public required int WarmupCalls { get; init; }

    /// <summary>Gets the checksum every run of <see cref="Calls"/> calls must produce.</summary>
    public required Checksum Expected { get; init; }

    /// <summary>Gets each contender's run (given the number of calls), in the order of <see cref="Contenders.Names"/>; <see langword="null"/> for a contender left out of this row.</summary>
    public required IReadOnlyList<Func<int, IReadOnlyCollection<long>>?> Runs { get; init; }

    /// <summary>Gets the thread pool's minimum worker threads for this row, if it must be raised (blocking work on pool threads).</summary>
    public int? MinThreads { get; init; }

    /// <summary>Gets the ideal wall time of one run, if the row has one (blocking work: waves × sleep).</summary>
    public TimeSpan? Ideal { get; init; }

    /// <summary>Gets the median seconds of each contender's timed runs (<see cref="double.NaN"/> if left out).</summary>
    public double[] Seconds { get; } = new double[Contenders.Names.Count];

    /// <summary>Gets the median bytes allocated per call in each contender's timed runs, by every thread (<see cref="double.NaN"/> if left out).</summary>
    public double[] BytesPerCall { get; } = new double[Contenders.Names.Count];

    /// <summary>Gets the calls per second of a contender (<see cref="double.NaN"/> if left out).</summary>
    public double CallsPerSecond(int contender) => Calls / Seconds[contender];

    /// <summary>
    /// Warms every contender up once, then times <paramref name="repeats"/> runs of each, interleaved (each round
    /// starts at the next contender) so that a neighbour's burst of load does not land on one contender only.
    /// Every run's results are checked; a wrong or incomplete result set is reported to <paramref name="problems"/>.
    /// </summary>
    public void Measure(int repeats, List<string> problems)
    {
        int count = Runs.Count;
        var seconds = new List<double>[count];
        var bytes = new List<double>[count];
        for (int c = 0; c < count; c++)
        {
            seconds[c] = [];
            bytes[c] = [];
        }

        ThreadPool.GetMinThreads(out int minWorkers, out int minIo);
        if (MinThreads is int raised)
        {
            ThreadPool.SetMinThreads(Math.Max(minWorkers, raised), minIo);
        }

        try
        {
            for (int c = 0; c < count; c++)
            {
                if (Runs[c] is { } run && WarmupCalls > 0)
                {
                    Check(c, run(WarmupCalls).Count == WarmupCalls, $"{WarmupCalls} results in its warm-up run", problems);
                }
            }

            for (int repeat = 0; repeat < repeats; repeat++)
            {
                for (int k = 0; k < count; k++)
                {
                    int c = (k + repeat) % count;
                    if (Runs[c] is not { } run)
                    {
                        continue;
                    }

                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    GC.Collect();
                    long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
                    long start = Stopwatch.GetTimestamp();
                    IReadOnlyCollection<long> results = run(Calls);
                    double elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
                    long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
                    seconds[c].Add(elapsed);
                    bytes[c].Add((double)allocated / Calls);
                    Checksum actual = Checksum.Of(results);
                    Check(c, actual == Expected, $"every result once (expected {Expected}, got {actual})", problems);
                }
            }
        }
        finally
        {
            ThreadPool.SetMinThreads(minWorkers, minIo);
        }

        for (int c = 0; c < count; c++)
        {
            Seconds[c] = Median(seconds[c]);
            BytesPerCall[c] = Median(bytes[c]);
        }
    }

    /// <summary>The median of some values (the mean of the middle two for an even count); <see cref="double.NaN"/> for none.</summary>
    public static double Median(IEnumerable<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
            : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private void Check(int contender, bool condition, string what, List<string> problems)
    {
        if (!condition)
        {
            problems.Add($"{Contenders.Names[contender]}, {Label}: expected {what}");
        }
    }
}
