using Parallelize.Tests.Support;

namespace Parallelize.Tests.Issues;

/// <summary>The restart policy's promise that a successful call clears an executor's restart history.</summary>
public sealed class RestartHistoryTests
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task Restart_InputFaultsWithDefaultOptions_NeverRestartOrRetireTheExecutor()
    {
        // With one executor every fault is the input's: it costs the input its attempt and the executor nothing.
        using var pool = new Parallelize<int, int>(
            x => x < 0 ? throw new InvalidOperationException($"bad {x}") : x,
            count: 1,
            new ParallelizeOptions { MaxRestarts = 0, MaxAttempts = 1 });
        foreach (int input in new[] { -1, 1, -2, 2, -3, 3 })
        {
            pool.Invoke(input);
            await pool.WaitAsync();
        }

        Assert.Equal([1, 2, 3], pool.Results);
        Assert.Equal(3, pool.Failures.Count);
        Assert.Equal(0, pool.Restarts);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Restart_SuccessfulCallBetweenFaults_ClearsHistorySoExecutorIsNeverRetired()
    {
        // ParallelizeOptions documents: "A successful call clears the executor's restart history, so an executor that
        // keeps producing results is never retired for occasional bad inputs." With MaxRestarts = 1, faults separated
        // by successful calls must therefore never retire the only executor. (The batched worker never calls
        // RestartTracker.OnSuccess, so the second fault retires it and the pool faults; the Soak smoke test fails
        // the same way.)
        using var pool = new Parallelize<int, int>(
            x => x < 0 ? throw new InvalidOperationException($"bad {x}") : x,
            count: 1,
            new ParallelizeOptions { MaxRestarts = 1, MaxAttempts = 1, RestartBackoff = TimeSpan.Zero, RestartOnEveryFault = true });
        foreach (int input in new[] { -1, 1, -2, 2, -3, 3 })
        {
            pool.Invoke(input);
            await pool.WaitAsync();
        }

        Assert.Equal([1, 2, 3], pool.Results);
        Assert.Equal(3, pool.Failures.Count);
        Assert.Equal(3, pool.Restarts);
    }
}
