using Parallelize.Tests.Support;

namespace Parallelize.Tests;

public sealed class ParallelizeOrderedTests
{
    private static readonly ParallelizeOptions Ordered = new() { OrderedResults = true };

    [Fact(Timeout = Timeouts.Test)]
    public async Task OrderedResults_CallsFinishInReverse_ResultsComeInCallOrder()
    {
        Gate[] gates = [new(), new(), new(), new()];
        var started = new Arrivals();
        using var pool = new Parallelize<int, int>(
            x =>
            {
                started.Arrive();
                gates[x].Pass();
                return x * 10;
            },
            count: 4,
            Ordered);
        for (int i = 0; i < 4; i++)
        {
            pool.Invoke(i);
        }

        await started.WaitForAsync(4);
        for (int i = 3; i >= 0; i--)
        {
            gates[i].Open();
        }

        await pool.WaitAsync();
        Assert.Equal([0, 10, 20, 30], pool.Results);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task OrderedResults_InputFailsForGood_ItsPlaceIsSkippedAndLaterResultsFlow()
    {
        using var pool = new Parallelize<int, int>(
            x => x == 1 ? throw new InvalidOperationException("bad") : x,
            count: 2,
            Ordered with { RestartBackoff = TimeSpan.Zero });
        for (int i = 0; i < 5; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync();

        Assert.Equal([0, 2, 3, 4], pool.Results);
        Assert.Equal(1, Assert.Single(pool.Failures).Input);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task OrderedResults_StopAbortsAHeldCall_ResultsAfterItAreDelivered()
    {
        var head = new Gate();
        var headStarted = new Arrivals();
        var second = new Arrivals();
        using var pool = new Parallelize<int, int>(
            x =>
            {
                if (x == 0)
                {
                    headStarted.Arrive();
                    head.Pass();
                }
                else
                {
                    second.Arrive();
                }

                return x;
            },
            count: 2,
            Ordered with { RetainResults = false });
        Task<List<int>> reading = Task.Run(async () =>
        {
            var list = new List<int>();
            await foreach (int x in pool.ReadResultsAsync())
            {
                list.Add(x);
            }

            return list;
        });
        pool.Invoke(0);
        pool.Invoke(1);
        await headStarted.WaitForAsync(1);
        await second.WaitForAsync(1);

        IReadOnlyList<int> aborted = await pool.StopAsync(TimeSpan.Zero);
        head.Open();

        Assert.Equal([0], aborted);
        Assert.Equal([1], await reading);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task OrderedResults_Bounded_ReorderBufferHoldsAtMostCapacityPlusExecutors()
    {
        // Capacity 2 and 2 executors: 4 slots. With the head call held, the other executor can finish at most 3 calls.
        var head = new Gate();
        int finishedWhileHeadHeld = 0;
        int maxSeen = 0;
        using var pool = new Parallelize<int, int>(
            x =>
            {
                if (x == 0)
                {
                    head.Pass();
                }
                else if (!head.IsOpen)
                {
                    int n = Interlocked.Increment(ref finishedWhileHeadHeld);
                    InterlockedMax(ref maxSeen, n);
                }

                return x;
            },
            count: 2,
            Ordered with { BoundedCapacity = 2 });
        Task producer = Task.Run(() =>
        {
            for (int i = 0; i < 20; i++)
            {
                pool.Invoke(i);
            }
        });

        await Timeouts.Until(() => Volatile.Read(ref finishedWhileHeadHeld) == 3, "the other executor fills the slots");
        head.Open();
        await producer;
        await pool.WaitAsync();

        Assert.Equal(Enumerable.Range(0, 20), pool.Results);
        Assert.True(maxSeen <= 3, $"{maxSeen} calls finished while the head call was held");

        static void InterlockedMax(ref int target, int value)
        {
            int seen;
            while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
            {
            }
        }
    }
}
