using System.Collections.Concurrent;
using Parallelize.Tests.Support;

namespace Parallelize.Tests.Core;

/// <summary>
/// Synchronous executors run on threads of their own, so a pool of them must keep going while the application's thread
/// pool is starved — its retries included, whose timers the thread pool would otherwise hold back.
/// </summary>
[Collection(RunsAlone.Name)]
public sealed class StarvedThreadPoolTests
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task Retry_ThreadPoolStarved_TheRetryRunsAndOrderedResultsAndBoundedCallersGoOn()
    {
        const int Calls = 600;
        var attempts = new ConcurrentDictionary<int, int>();
        int Work(int input)
        {
            // Every tenth input asks for another attempt once: each of those waits out a retry delay on a timer, which a
            // starved thread pool runs only when it injects a thread (about one a second here: 60 of them, a minute).
            return input % 10 == 3 && attempts.AddOrUpdate(input, 1, static (_, n) => n + 1) == 1 ? throw new RetryException() : input;
        }

        using var pool = new Parallelize<int, int>(
            Enumerable.Range(0, 2).Select(_ => (Executor<int, int>)(Func<int, int>)Work),
            new ParallelizeOptions { OrderedResults = true, BoundedCapacity = 4, RetryDelay = TimeSpan.FromMilliseconds(1) });
        await pool.GetExecutorsAsync();

        bool produced;
        bool waited;
        bool probeRan;
        using (var starvation = new ThreadPoolStarvation())
        {
            // Ordered results wait for each retried call, holding the bounded pool's slots; so the producer gets its
            // calls in only if every retry comes back while the thread pool runs nothing.
            var producer = new Thread(() =>
            {
                try
                {
                    for (int i = 0; i < Calls; i++)
                    {
                        pool.Invoke(i);
                    }
                }
                catch (InvalidOperationException)
                {
                    // Refused by the Stop below, after the test has failed.
                }
            });
            producer.Start();
            produced = producer.Join(Timeouts.Hang);
            waited = produced && pool.Wait(Timeouts.Hang);
            probeRan = starvation.ProbeRan;
            if (!produced)
            {
                pool.Stop(TimeSpan.Zero); // frees the blocked producer
                producer.Join();
            }
        }

        Assert.False(probeRan, "the thread pool was not starved throughout, so the test proves nothing");
        Assert.True(produced, "the producer was held back for good: a retry waited for the starved thread pool");
        Assert.True(waited, "Wait did not return while the thread pool was starved");
        Assert.Equal(Enumerable.Range(0, Calls), pool.Results);
        Assert.Empty(pool.Failures);
        Assert.Equal(Calls / 10, attempts.Count);
        Assert.All(attempts.Values, n => Assert.Equal(2, n));
    }
}
