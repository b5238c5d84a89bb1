namespace Parallelize.Supervision;

/// <summary>
/// The restart policy of one executor: how many faults blamed on it fell within the window since its last successful
/// call, and how long to wait before its next restart.
/// </summary>
/// <remarks>Used only by the runner that owns the executor, on that runner's flow: no lock, by construction.</remarks>
internal sealed class RestartTracker
{
    private readonly ParallelizeOptions _options;
    private readonly Queue<long> _charges = new();
    private int _consecutive;

    public RestartTracker(ParallelizeOptions options) => _options = options;

    /// <summary>Clears the history after a successful call: an executor that keeps producing results is never retired for occasional faults.</summary>
    public void OnSuccess()
    {
        if (_consecutive != 0 || _charges.Count != 0)
        {
            _charges.Clear();
            _consecutive = 0;
        }
    }

    /// <summary>Counts a fault blamed on the executor against <see cref="ParallelizeOptions.MaxRestarts"/>.</summary>
    /// <returns><see langword="false"/> if the budget is spent: the executor must be retired.</returns>
    public bool TryCharge()
    {
        TimeProvider clock = _options.TimeProvider;
        long now = clock.GetTimestamp();
        while (_charges.Count > 0 && clock.GetElapsedTime(_charges.Peek(), now) >= _options.RestartWindow)
        {
            _charges.Dequeue();
        }

        if (_charges.Count >= _options.MaxRestarts)
        {
            return false;
        }

        _charges.Enqueue(now);
        return true;
    }

    /// <summary>Gets the delay before the next restart: none for the first since a success, then <see cref="ParallelizeOptions.RestartBackoff"/> doubling up to <see cref="ParallelizeOptions.MaxRestartBackoff"/>.</summary>
    /// <returns>The delay.</returns>
    public TimeSpan NextRestartDelay()
    {
        _consecutive++;
        if (_consecutive <= 1)
        {
            return TimeSpan.Zero;
        }

        TimeSpan max = _options.MaxRestartBackoff;
        TimeSpan delay = _options.RestartBackoff;
        for (int i = 2; i < _consecutive && delay < max; i++)
        {
            delay = delay <= max - delay ? delay + delay : max;
        }

        return delay < max ? delay : max;
    }
}
