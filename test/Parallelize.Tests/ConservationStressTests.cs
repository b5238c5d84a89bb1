using System.Collections.Concurrent;
using Parallelize.Tests.Support;
using Xunit.Abstractions;

namespace Parallelize.Tests;

/// <summary>
/// The iron rule under load: every accepted input ends in exactly one of Results, Failures or Stop's list.
/// A short run is part of the default test run; set PARALLELIZE_STRESS=long for the long one.
/// </summary>
[Trait("Category", "Stress")]
[Collection(RunsAlone.Name)]
public sealed class ConservationStressTests(ITestOutputHelper output)
{
    private static readonly bool Long = string.Equals(Environment.GetEnvironmentVariable("PARALLELIZE_STRESS"), "long", StringComparison.OrdinalIgnoreCase);

    [Fact(Timeout = 1_800_000)]
    public async Task Conservation_ManyProducersRandomFaultsAndStopAtARandomMoment_EveryInputEndsExactlyOnce()
    {
        int rounds = Long ? 200 : 12;
        int callsPerRound = Long ? 200_000 : 20_000;
        var total = default(Tally);
        for (int round = 0; round < rounds; round++)
        {
            int seed = (round * 7919) + 17;
            total += await RunRoundAsync(seed, callsPerRound);
        }

        output.WriteLine(
            $"{rounds} rounds of up to {callsPerRound} calls: {total.Accepted} accepted = {total.Results} results + {total.Failures} failures + {total.Aborted} aborted; "
            + $"{total.Faults} faults, {total.Restarts} restarts; lost 0, duplicated 0.");
    }

    private async Task<Tally> RunRoundAsync(int seed, int calls)
    {
        var random = new Random(seed);
        const int Producers = 4;
        int executors = random.Next(8, 40);
        int stopAfter = random.Next(0, 4) == 0 ? -1 : random.Next(0, calls);
        TimeSpan? finishTimeout = random.Next(0, 3) switch
        {
            0 => null,
            1 => TimeSpan.Zero,
            _ => TimeSpan.FromMilliseconds(random.Next(1, 20)),
        };
        long faults = 0;

        // A call faults (or asks for a retry) on about 2% of its attempts, decided by a hash so that an input may fail
        // once and succeed on its retry.
        var attempts = new ConcurrentDictionary<int, int>();
        int Work(int input)
        {
            int attempt = attempts.AddOrUpdate(input, 1, (_, n) => n + 1);
            int roll = HashCode.Combine(seed, input, attempt) & 0x3FF;
            if (roll < 16)
            {
                Interlocked.Increment(ref faults);
                throw new InvalidOperationException($"fault on {input}");
            }

            if (roll < 20)
            {
                throw new RetryException();
            }

            return input;
        }

        var sources = new List<Executor<int, int>>();
        for (int i = 0; i < executors; i++)
        {
            sources.Add((i % 3) switch
            {
                0 => (Func<int, int>)Work,
                1 => (Func<int, CancellationToken, ValueTask<int>>)(async (x, token) =>
                {
                    if ((x & 7) == 0)
                    {
                        await Task.Yield();
                    }

                    return Work(x);
                }),
                _ => Deferred.Create<int, int>(() => new WorkExecutor(Work)),
            });
        }

        var options = new ParallelizeOptions
        {
            MaxRestarts = int.MaxValue,
            RestartBackoff = TimeSpan.Zero,
            BoundedCapacity = random.Next(0, 3) == 0 ? null : random.Next(1, 64),
            OrderedResults = random.Next(0, 2) == 0,
            RetainResults = random.Next(0, 2) == 0,
        };
        var pool = new Parallelize<int, int>(sources, options);

        // Without retained results, results end in the stream: read it all, as a user must.
        Task<List<int>> streamed = options.RetainResults
            ? Task.FromResult(new List<int>())
            : Task.Run(async () =>
            {
                var list = new List<int>();
                await foreach (int result in pool.ReadResultsAsync())
                {
                    list.Add(result);
                }

                return list;
            });
        var accepted = new bool[calls];
        int acceptedCount = 0;
        using var start = new Barrier(Producers + 1);

        Task[] producers = Enumerable.Range(0, Producers).Select(p => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait();
                for (int input = p; input < calls; input += Producers)
                {
                    try
                    {
                        pool.Invoke(input);
                    }
                    catch (InvalidOperationException)
                    {
                        return; // stopped: this and later inputs were refused
                    }

                    accepted[input] = true;
                    Interlocked.Increment(ref acceptedCount);
                }
            },
            TaskCreationOptions.LongRunning)).ToArray();

        start.SignalAndWait();
        IReadOnlyList<int> aborted;
        if (stopAfter < 0)
        {
            await Task.WhenAll(producers);
            await pool.WaitAsync();
            aborted = await pool.StopAsync(finishTimeout);
            Assert.Empty(aborted);
        }
        else
        {
            try
            {
                await Timeouts.Until(() => Volatile.Read(ref acceptedCount) >= stopAfter || producers.All(t => t.IsCompleted), "enough calls are accepted");
            }
            catch (TimeoutException timeout)
            {
                // Say enough to tell a stall of the pool from one of the machine's thread pool.
                throw new TimeoutException(
                    $"seed {seed}: {timeout.Message} Accepted {Volatile.Read(ref acceptedCount)} of {stopAfter} wanted; {pool.GetProgress()}; "
                    + $"{options}; thread pool: {ThreadPool.ThreadCount} threads, {ThreadPool.PendingWorkItemCount} items pending.",
                    timeout);
            }
            aborted = await pool.StopAsync(finishTimeout);
            await Task.WhenAll(producers);
        }

        pool.Complete();
        List<int> results = options.RetainResults ? [.. pool.Results] : await streamed;
        if (options.OrderedResults)
        {
            // Call order: each producer calls in increasing input order.
            for (int p = 0; p < Producers; p++)
            {
                int[] mine = results.Where(input => input % Producers == p).ToArray();
                Assert.True(mine.SequenceEqual(mine.Order()), $"seed {seed}: ordered results are not in call order");
            }
        }

        var seen = new int[calls];
        foreach (int input in results)
        {
            seen[input]++;
        }

        foreach (Failure<int> failure in pool.Failures)
        {
            seen[failure.Input]++;
            Assert.Equal(options.MaxAttempts, failure.Attempts);
        }

        foreach (int input in aborted)
        {
            seen[input]++;
        }

        for (int input = 0; input < calls; input++)
        {
            int expected = accepted[input] ? 1 : 0;
            if (seen[input] != expected)
            {
                Assert.Fail($"seed {seed}: input {input} was accepted={accepted[input]} but ended in {seen[input]} places (executors {executors}, stop after {stopAfter}, finish timeout {finishTimeout?.ToString() ?? "none"}, {options}).");
            }
        }

        Assert.Equal(acceptedCount, results.Count + pool.Failures.Count + aborted.Count);
        // Call order: each producer calls in increasing input order, so its inputs must stay in that order.
        for (int p = 0; p < Producers; p++)
        {
            int[] mine = aborted.Where(input => input % Producers == p).ToArray();
            Assert.True(mine.SequenceEqual(mine.Order()), $"seed {seed}: Stop's list is not in call order");
        }

        await pool.DisposeAsync();
        Assert.True(pool.Restarts <= Interlocked.Read(ref faults), "more restarts than faults");
        return new Tally(acceptedCount, results.Count, pool.Failures.Count, aborted.Count, Interlocked.Read(ref faults), pool.Restarts);
    }

    private readonly record struct Tally(long Accepted, long Results, long Failures, long Aborted, long Faults, long Restarts)
    {
        public static Tally operator +(Tally a, Tally b) => new(
            a.Accepted + b.Accepted,
            a.Results + b.Results,
            a.Failures + b.Failures,
            a.Aborted + b.Aborted,
            a.Faults + b.Faults,
            a.Restarts + b.Restarts);
    }

    private sealed class WorkExecutor(Func<int, int> work) : IExecutor<int, int>
    {
        public int Execute(int input, CancellationToken cancellationToken) => work(input);
    }
}
