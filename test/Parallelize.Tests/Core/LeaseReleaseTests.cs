using Parallelize.Tests.Support;

namespace Parallelize.Tests.Core;

/// <summary>
/// Batching must never hold finished work back: on a warm pool (leases grown to hundreds of calls), a call that blocks
/// lets the results before it reach Results, and the calls after it go to idle executors.
/// </summary>
public sealed class LeaseReleaseTests
{
    [Theory(Timeout = Timeouts.Test)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public async Task GatedCall_OnAWarmPool_DoesNotHoldBackFinishedResultsOrTheCallsBehindIt(int executors)
    {
        const int Gated = -1;
        var gate = new Gate();
        var gatedStarted = new Gate();
        using var pool = new Parallelize<int, int>(
            x =>
            {
                if (x == Gated)
                {
                    gatedStarted.Open();
                    gate.Pass();
                }

                return x;
            },
            executors,
            new ParallelizeOptions { FlowExecutionContext = false });
        await WarmUpAsync(pool);
        int warm = pool.Results.Count;

        // One burst, so that the executors take it in a few large leases with the gated call inside one of them.
        int[] burst = [.. Enumerable.Range(1, 10), Gated, .. Enumerable.Range(11, 500)];
        Assert.Equal(burst.Length, pool.InvokeMany(burst));
        await gatedStarted.PassAsync().WaitAsync(Timeouts.Hang);

        if (executors == 1)
        {
            // No idle executor to run the calls behind the gated one, but the results before it are delivered.
            await Timeouts.Until(() => pool.Results.Skip(warm).Count(r => r is >= 1 and <= 10) == 10, "the results before the gated call are in Results");
        }
        else
        {
            await Timeouts.Until(() => pool.Results.Count == warm + burst.Length - 1, "every call but the gated one has ended in Results");
        }

        Assert.DoesNotContain(Gated, pool.Results);
        Assert.True(pool.StuckLeasesReleased > 0, "The gated call's lease was never released.");
        gate.Open();
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Assert.Equal(warm + burst.Length, pool.Results.Count);
        Assert.Equal(burst.Order(), pool.Results.Skip(warm).Order());
        Assert.Empty(pool.Stop());
    }

    [Theory(Timeout = Timeouts.Test)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public async Task CallsThatMustMeet_OnAWarmPool_AllMeet(int executors)
    {
        // N executors, 4N calls that each wait at a Barrier(N): they can only finish if N of them run at once, on N
        // different executors, whatever lease they were taken in.
        using var barrier = new Barrier(executors);
        using var pool = new Parallelize<int, bool>(
            x => x < 0 ? barrier.SignalAndWait(Timeouts.Hang) : true,
            executors,
            new ParallelizeOptions { FlowExecutionContext = false });
        await WarmUpAsync(pool);
        int warm = pool.Results.Count;

        Assert.Equal(4 * executors, pool.InvokeMany([.. Enumerable.Range(1, 4 * executors).Select(i => -i)]));
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Assert.Equal(4 * executors, pool.Results.Count - warm);
        Assert.All(pool.Results.Skip(warm), met => Assert.True(met, "A call waited at the barrier and nobody came."));
        Assert.Empty(pool.Failures);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task GatedCall_AsynchronousExecutors_DoesNotHoldBackTheCallsBehindIt()
    {
        const int Gated = -1;
        var gate = new Gate();
        using var pool = new Parallelize<int, int>(
            async (x, cancellationToken) =>
            {
                if (x == Gated)
                {
                    await gate.PassAsync(cancellationToken);
                }

                return x;
            },
            2);
        await WarmUpAsync(pool);
        int warm = pool.Results.Count;

        int[] burst = [.. Enumerable.Range(1, 10), Gated, .. Enumerable.Range(11, 300)];
        pool.InvokeMany(burst);
        await Timeouts.Until(() => pool.Results.Count == warm + burst.Length - 1, "every call but the gated one has ended in Results");

        gate.Open();
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);
        Assert.Equal(burst.Order(), pool.Results.Skip(warm).Order());
    }

    /// <summary>Many fast calls, so that the leases grow to their largest before the test proper.</summary>
    private static async Task WarmUpAsync<TOut>(Parallelize<int, TOut> pool)
    {
        for (int round = 0; round < 10; round++)
        {
            pool.InvokeMany([.. Enumerable.Range(1_000_000, 10_000)]);
            await pool.WaitAsync().WaitAsync(Timeouts.Hang);
        }
    }
}
