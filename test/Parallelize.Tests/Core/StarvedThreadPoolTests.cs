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

    [Fact(Timeout = Timeouts.Test)]
    public async Task Restart_ThreadPoolStarved_ASynchronousExecutorWaitsOutItsBackoffsAndEveryInputEndsInFailures()
    {
        // Rows that fail everywhere, with a restart after each fault: every restart after the first waits out a
        // backoff, which a Task.Delay would only finish when the starved thread pool injects a thread.
        const int Inputs = 20;
        int calls = 0;
        using var pool = new Parallelize<int, int>(
            [(Func<int, int>)(input =>
            {
                Interlocked.Increment(ref calls);
                throw new InvalidOperationException($"bad row {input}");
            })],
            new ParallelizeOptions
            {
                RestartOnEveryFault = true,
                RestartBackoff = TimeSpan.FromMilliseconds(1),
                MaxRestartBackoff = TimeSpan.FromMilliseconds(1),
                MaxRestarts = int.MaxValue,
                RetryDelay = TimeSpan.FromMilliseconds(1),
                Outages = null, // every row fails: without this, the pool takes it for an outage (a test of its own below)
            });
        await pool.GetExecutorsAsync();

        (bool waited, bool probeRan) = InvokeAndWaitStarved(pool, Inputs);

        Assert.False(probeRan, "the thread pool was not starved throughout, so the test proves nothing");
        Assert.True(waited, $"Wait did not return while the thread pool was starved: a restart waited for it. {pool.GetProgress()} calls {calls} restarts {pool.Restarts}");
        Assert.Empty(pool.Results);
        Assert.Equal(Enumerable.Range(0, Inputs), pool.Failures.Select(failure => failure.Input).Order());
        Assert.All(pool.Failures, failure => Assert.Equal(pool.Options.MaxAttempts, failure.Attempts));
        Assert.Equal(Inputs * pool.Options.MaxAttempts, Volatile.Read(ref calls));
        Assert.True(pool.Restarts >= calls - 1, $"{pool.Restarts} restarts for {calls} faults");
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Wake_ThreadPoolStarvedWithTheAsynchronousExecutorWoken_TheSynchronousOneIsWokenForTheNextCall()
    {
        // A woken asynchronous executor counts as looking for calls until its continuation runs, which it never does
        // here; with one place in the queue, producers then wake nobody else, so the synchronous executor, parked,
        // must be woken by someone that does not need the thread pool.
        int asynchronousCalls = 0;
        Thread? synchronousThread = null;
        using var gate = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        using var pool = new Parallelize<int, int>(
            [
                (Func<int, CancellationToken, ValueTask<int>>)((input, _) =>
                {
                    Interlocked.Increment(ref asynchronousCalls);
                    return ValueTask.FromResult(input);
                }),
                (Func<int, int>)(input =>
                {
                    if (input == 0)
                    {
                        synchronousThread = Thread.CurrentThread;
                        started.Set();
                        gate.Wait();
                    }

                    return input;
                }),
            ],
            new ParallelizeOptions { BoundedCapacity = 1 });

        // Until the asynchronous executor has run a call, its loop may still be waiting to start on the thread pool;
        // once it has, it parks with no further help from the thread pool.
        for (int warmUp = 100; Volatile.Read(ref asynchronousCalls) == 0; warmUp++)
        {
            Assert.True(warmUp < 1_000_000, "the asynchronous executor never ran a call");
            pool.Invoke(warmUp);
            await pool.WaitAsync();
        }

        bool sawCallZero;
        bool firstTwo;
        bool third;
        bool probeRan;
        using (var starvation = new ThreadPoolStarvation())
        {
            // Whichever executor is woken for call 0: if the asynchronous one, it is stuck and the synchronous one must be
            // woken for the call; if the synchronous one, call 1 (queued while it is busy) wakes the asynchronous one.
            pool.Invoke(0);
            sawCallZero = started.Wait(Timeouts.Hang);
            if (sawCallZero)
            {
                pool.Invoke(1); // with call 0 still queued, this would wait for its place for good
            }

            gate.Set();

            // The synchronous executor runs calls 0 and 1 and parks with the queue empty, the asynchronous one still
            // counted as looking: call 2 wakes nobody by itself.
            firstTwo = sawCallZero && pool.Wait(Timeouts.Hang) && BlocksSoon(synchronousThread!);
            if (firstTwo)
            {
                pool.Invoke(2);
            }

            third = firstTwo && pool.Wait(Timeouts.Hang);
            probeRan = starvation.ProbeRan;
            gate.Set();
        }

        Assert.False(probeRan, "the thread pool was not starved throughout, so the test proves nothing");
        Assert.True(sawCallZero, "call 0 never started: the synchronous executor was not woken for it");
        Assert.True(firstTwo, "calls 0 and 1 did not end, or the synchronous executor did not park after them");
        Assert.True(third, "call 2 never ran: the synchronous executor was not woken for it");
        Assert.Equal([0, 1, 2], pool.Results.Where(input => input < 100).Order());
    }

    /// <summary>Invokes inputs 0 to <paramref name="calls"/> − 1 and waits for them, on this thread, with the thread pool starved.</summary>
    /// <returns>Whether the wait ended within the guard, and whether the starvation's probe ran (it did not hold).</returns>
    private static (bool Waited, bool ProbeRan) InvokeAndWaitStarved(Parallelize<int, int> pool, int calls)
    {
        using var starvation = new ThreadPoolStarvation();
        for (int i = 0; i < calls; i++)
        {
            pool.Invoke(i);
        }

        bool waited = pool.Wait(Timeouts.Hang);
        return (waited, starvation.ProbeRan);
    }

    /// <summary>Waits (polling, on the calling thread) until a thread is blocked: a runner parked on its signal.</summary>
    private static bool BlocksSoon(Thread thread)
    {
        DateTime deadline = DateTime.UtcNow + Timeouts.Hang;
        while ((thread.ThreadState & ThreadState.WaitSleepJoin) == 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            Thread.Yield();
        }

        return true;
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Outage_ThreadPoolStarved_TheProbesGoThroughAndThePoolResumes()
    {
        // The service is down for the first 240 attempts: the pool pauses, and each of some 220 probes waits on a timer,
        // which a starved thread pool runs only when it injects a thread (a few a second here).
        const int Calls = 300;
        const int DownFor = 240;
        int attempts = 0;
        int Work(int input) => Interlocked.Increment(ref attempts) <= DownFor ? throw new TimeoutException("the service is down") : input;
        // One executor, so that the outage rule (failures on two executors, or on the only one) cannot depend on which
        // executor ran the first calls; retries wait a second, so that the first 20 calls, 20 inputs, fill the window.
        using var pool = new Parallelize<int, int>(
            [(Func<int, int>)Work],
            new ParallelizeOptions
            {
                RetryDelay = TimeSpan.FromSeconds(1),
                // Long enough not to give up within the test's guard: the pool resumes only through a probe that works.
                Outages = new OutageOptions { ProbeDelay = TimeSpan.FromMilliseconds(1), MaxProbeDelay = TimeSpan.FromMilliseconds(1), MaxDuration = TimeSpan.FromMinutes(5) },
            });
        await pool.GetExecutorsAsync();

        (bool waited, bool probeRan) = InvokeAndWaitStarved(pool, Calls);

        Assert.False(probeRan, "the thread pool was not starved throughout, so the test proves nothing");
        Assert.True(waited, $"Wait did not return while the thread pool was starved: {pool.GetProgress()}");
        Assert.True(pool.GetProgress().Outages >= 1, "the pool never paused, so the test proves nothing");
        Assert.Equal(Enumerable.Range(0, Calls), pool.Results.Order());
        Assert.Empty(pool.Failures);
    }
}
