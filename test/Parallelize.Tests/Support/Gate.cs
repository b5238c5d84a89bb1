namespace Parallelize.Tests.Support;

/// <summary>A one-shot gate that executors block on (or await) until the test opens it.</summary>
internal sealed class Gate
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsOpen => _open.Task.IsCompleted;

    public void Open() => _open.TrySetResult();

    /// <summary>Blocks the calling thread until the gate opens (bounded, so a broken test fails instead of hanging).</summary>
    public void Pass()
    {
        if (!_open.Task.Wait(Timeouts.Hang))
        {
            throw new TimeoutException("The gate was never opened.");
        }
    }

    public Task PassAsync(CancellationToken cancellationToken = default) => _open.Task.WaitAsync(cancellationToken);
}

/// <summary>Counts arrivals and lets a test wait until a number of them has arrived.</summary>
internal sealed class Arrivals
{
    private readonly Lock _lock = new();
    private readonly List<(int Target, TaskCompletionSource Done)> _waiters = [];
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Arrive()
    {
        List<TaskCompletionSource> ready = [];
        lock (_lock)
        {
            _count++;
            _waiters.RemoveAll(w =>
            {
                if (w.Target <= _count)
                {
                    ready.Add(w.Done);
                    return true;
                }

                return false;
            });
        }

        ready.ForEach(tcs => tcs.TrySetResult());
    }

    public Task WaitForAsync(int target)
    {
        lock (_lock)
        {
            if (_count >= target)
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((target, done));
            return done.Task.WaitAsync(Timeouts.Hang);
        }
    }
}

internal static class Timeouts
{
    /// <summary>The per-test guard against hangs (milliseconds), for [Fact(Timeout = ...)].</summary>
    public const int Test = 60_000;

    /// <summary>How long a helper waits before declaring the code under test hung.</summary>
    public static readonly TimeSpan Hang = TimeSpan.FromSeconds(30);

    /// <summary>Polls a condition that the code under test makes true; fails instead of hanging.</summary>
    public static async Task Until(Func<bool> condition, string what)
    {
        DateTime deadline = DateTime.UtcNow + Hang;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {what}.");
            }

            await Task.Delay(1);
        }
    }
}

/// <summary>An executor function that reports each start, then holds its call until the test opens the gate.</summary>
internal sealed class GatedFunction
{
    public Gate Gate { get; } = new();

    public Arrivals Started { get; } = new();

    public int Run(int input)
    {
        Started.Arrive();
        Gate.Pass();
        return input;
    }
}
