using System.Diagnostics;

namespace Parallelize.Benchmarks;

/// <summary>The library's own targets that no contender has an equivalent of: how soon <c>Wait</c> returns, and how fast <c>Stop</c> hands back a full queue.</summary>
internal static class ParallelizeExtras
{
    /// <summary>
    /// Calls per second of the library fed by bulk submission (<c>InvokeMany</c> of the whole input array, in chunks of
    /// 256 under one lock each), the median of <paramref name="repeats"/> timed runs after a warm-up, timed like the
    /// contenders' rows: from creating the pool to every result in <c>Results</c>.
    /// </summary>
    public static double BulkCallsPerSecond(Func<long, long> work, int calls, int executors, int repeats, Checksum expected, List<string> problems)
    {
        long[] inputs = new long[calls];
        for (int i = 0; i < calls; i++)
        {
            inputs[i] = i;
        }

        var seconds = new List<double>();
        for (int run = -1; run < repeats; run++)
        {
            long started = Stopwatch.GetTimestamp();
            using var pool = new Parallelize<long, long>(work, count: executors);
            pool.InvokeMany(inputs);
            pool.Wait();
            double elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (Checksum.Of(pool.Results) != expected)
            {
                problems.Add($"Parallelize with InvokeMany: {pool.Results.Count} results of {calls}, or a wrong checksum");
            }

            if (run >= 0)
            {
                seconds.Add(elapsed);
            }
        }

        return calls / QuickRow.Median(seconds);
    }

    /// <summary>
    /// Milliseconds from the moment the last call's work completes (stamped inside the executor) to the moment
    /// <c>Wait</c> returns, one figure per round. Each round queues <paramref name="calls"/> calls of about 1 µs
    /// behind a closed gate, opens it and calls <c>Wait</c> at once, so <c>Wait</c> is always entered milliseconds
    /// before the last call ends. One pool serves every round; the first round is a warm-up and is not reported.
    /// </summary>
    public static double[] WaitLatencies(int rounds, int calls, int steps, int executors, List<string> problems)
    {
        using var probe = new LastCallProbe(steps);
        using var pool = new Parallelize<long, long>(probe.Run, count: executors);
        var latencies = new double[rounds];
        for (int round = -1; round < rounds; round++)
        {
            probe.Arm(calls);
            for (long i = 0; i < calls; i++)
            {
                pool.Invoke(i);
            }

            probe.Open();
            pool.Wait();
            long returned = Stopwatch.GetTimestamp();
            if (round >= 0)
            {
                latencies[round] = Stopwatch.GetElapsedTime(probe.LastCompleted, returned).TotalMilliseconds;
            }

            long expected = (long)calls * (round + 2);
            if (pool.Results.Count != expected || pool.Failures.Count != 0)
            {
                problems.Add($"Parallelize, Wait latency: expected {expected} results after Wait, got {pool.Results.Count} and {pool.Failures.Count} failures");
            }
        }

        return latencies;
    }

    /// <summary>
    /// Milliseconds <c>Stop(TimeSpan.Zero)</c> takes to return with <paramref name="calls"/> calls queued behind
    /// <paramref name="executors"/> executors that wait on a gate which never opens (so every input comes back
    /// aborted: the queued ones and the ones in flight, whose token <c>Stop</c> cancels). Checks that every input
    /// is returned once, in call order, and none is in <c>Results</c> or <c>Failures</c>.
    /// </summary>
    public static double[] StopTimes(int rounds, int calls, int executors, List<string> problems)
    {
        var times = new double[rounds];
        for (int round = 0; round < rounds; round++)
        {
            using var gate = new ManualResetEventSlim();
            int started = 0;
            using var pool = new Parallelize<long, long>(
                (x, cancellationToken) =>
                {
                    Interlocked.Increment(ref started);
                    gate.Wait(cancellationToken);
                    return x;
                },
                count: executors);
            for (long i = 0; i < calls; i++)
            {
                pool.Invoke(i);
            }

            var deadline = Stopwatch.StartNew();
            while (Volatile.Read(ref started) < Math.Min(executors, calls) && deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                Thread.Sleep(1);
            }

            GC.Collect();
            long start = Stopwatch.GetTimestamp();
            IReadOnlyList<long> aborted = pool.Stop(TimeSpan.Zero);
            times[round] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;

            bool inCallOrder = aborted.Count == calls;
            for (int i = 0; inCallOrder && i < calls; i++)
            {
                inCallOrder = aborted[i] == i;
            }

            if (!inCallOrder || pool.Results.Count != 0 || pool.Failures.Count != 0)
            {
                problems.Add(
                    $"Parallelize, Stop: expected all {calls} inputs back in call order and none in Results or Failures; got {aborted.Count} back "
                    + $"({(inCallOrder ? "in" : "not in")} order), {pool.Results.Count} results, {pool.Failures.Count} failures");
            }
        }

        return times;
    }

    /// <summary>An executor function that waits for a gate, spins, and stamps the time the last call of a round completed.</summary>
    private sealed class LastCallProbe(int steps) : IDisposable
    {
        private readonly ManualResetEventSlim _gate = new();
        private long _completed;
        private long _target;
        private long _lastCompleted;

        public long LastCompleted => Volatile.Read(ref _lastCompleted);

        /// <summary>Closes the gate and expects <paramref name="calls"/> more calls. Only between rounds, when no call runs.</summary>
        public void Arm(int calls)
        {
            _gate.Reset();
            Volatile.Write(ref _target, Volatile.Read(ref _completed) + calls);
        }

        public void Open() => _gate.Set();

        public void Dispose() => _gate.Dispose();

        public long Run(long input)
        {
            _gate.Wait();
            long result = Work.Spin(input, steps);
            if (Interlocked.Increment(ref _completed) == Volatile.Read(ref _target))
            {
                Volatile.Write(ref _lastCompleted, Stopwatch.GetTimestamp());
            }

            return result;
        }
    }
}
