namespace Parallelize.Supervision;

/// <summary>
/// The restart policy of one executor: how many restarts it has had since its last successful call within the
/// window, and how long to wait before the next one.
/// </summary>
/// <remarks>Used only by the worker that owns the executor, on that worker's flow: no lock, by construction.</remarks>
internal sealed class RestartTracker
{
    private readonly ParallelizeOptions _options;
    private readonly Queue<long> _restarts = new();
    private int _consecutive;

    public RestartTracker(ParallelizeOptions options) => _options = options;

    /// <summary>Clears the restart history after a successful call.</summary>
    public void OnSuccess()
    {
        if (_consecutive != 0)
        {
            _restarts.Clear();
            _consecutive = 0;
        }
    }

    /// <summary>Decides whether a faulted executor may be restarted, and after what delay.</summary>
    /// <param name="delay">The delay before the restart.</param>
    /// <returns><see langword="false"/> if the executor must be retired.</returns>
    public bool TryRestart(out TimeSpan delay)
    {
        TimeProvider clock = _options.TimeProvider;
        long now = clock.GetTimestamp();
        while (_restarts.Count > 0 && clock.GetElapsedTime(_restarts.Peek(), now) >= _options.RestartWindow)
        {
            _restarts.Dequeue();
        }

        if (_restarts.Count >= _options.MaxRestarts)
        {
            delay = TimeSpan.Zero;
            return false;
        }

        _restarts.Enqueue(now);
        _consecutive++;
        delay = BackoffFor(_consecutive);
        return true;
    }

    private TimeSpan BackoffFor(int consecutive)
    {
        if (consecutive <= 1)
        {
            return TimeSpan.Zero;
        }

        TimeSpan max = _options.MaxRestartBackoff;
        TimeSpan delay = _options.RestartBackoff;
        for (int i = 2; i < consecutive && delay < max; i++)
        {
            delay = delay <= max - delay ? delay + delay : max;
        }

        return delay < max ? delay : max;
    }
}
