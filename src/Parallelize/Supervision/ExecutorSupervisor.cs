namespace Parallelize.Supervision;

/// <summary>
/// The blame an executor has collected and what its runner must do about it: restart it, or retire it.
/// </summary>
/// <remarks>
/// <para><b>Generations.</b> Each restart begins a new generation. A fault is blamed on the generation that made it,
/// and each generation is counted against the budget once, however many of its faults are blamed (an executor that
/// lost its connection fails every call until it is re-created). A blame for the current generation asks for a
/// restart; a blame for an older one only counts, since that generation is gone already.</para>
/// <para><b>Threads.</b> <see cref="Charge"/> is called by any runner (the one on which the blamed input then
/// succeeded) and only appends under <c>_lock</c>; everything else runs on this executor's own runner, between leases,
/// so <c>_tracker</c> and <c>_counted</c> need no lock.</para>
/// </remarks>
internal sealed class ExecutorSupervisor
{
    private readonly Lock _lock = new();
    private readonly RestartTracker _tracker;
    private readonly List<(int Generation, Exception Cause)> _charges = [];
    private volatile bool _charged;
    private int _generation;
    private int _counted = -1;

    public ExecutorSupervisor(ParallelizeOptions options) => _tracker = new RestartTracker(options);

    /// <summary>What the runner must do after taking the charges.</summary>
    public enum Verdict
    {
        /// <summary>Carry on.</summary>
        None,

        /// <summary>Restart the executor (a deferred one is created again).</summary>
        Restart,

        /// <summary>Retire the executor: its budget is spent.</summary>
        Retire,
    }

    /// <summary>Gets the executor's generation: how many times it has been restarted.</summary>
    public int Generation => Volatile.Read(ref _generation);

    /// <summary>Gets a value indicating whether faults were blamed on the executor since the runner last looked (one volatile read: checked between leases).</summary>
    public bool HasCharges => _charged;

    /// <summary>Blames generation <paramref name="generation"/> of the executor for a fault. Any thread; no user code.</summary>
    public void Charge(int generation, Exception cause)
    {
        lock (_lock)
        {
            _charges.Add((generation, cause));
        }

        _charged = true;
    }

    /// <summary>On the runner: counts the blamed faults against the budget.</summary>
    /// <param name="cause">The fault that decided the verdict.</param>
    /// <returns>What to do.</returns>
    public Verdict TakeCharges(out Exception? cause)
    {
        (int Generation, Exception Cause)[] charges;
        lock (_lock)
        {
            _charged = false;
            charges = [.. _charges];
            _charges.Clear();
        }

        cause = null;
        Verdict verdict = Verdict.None;
        foreach ((int generation, Exception fault) in charges)
        {
            if (generation <= _counted)
            {
                continue;
            }

            _counted = generation;
            cause = fault;
            if (!_tracker.TryCharge())
            {
                return Verdict.Retire;
            }

            if (generation == _generation)
            {
                verdict = Verdict.Restart;
            }
        }

        return verdict;
    }

    /// <summary>On the runner: blames the current generation at once (its factory failed) and counts it.</summary>
    /// <returns><see langword="false"/> if the budget is spent: retire.</returns>
    public bool ChargeNow()
    {
        if (_generation <= _counted)
        {
            return true;
        }

        _counted = _generation;
        return _tracker.TryCharge();
    }

    /// <summary>On the runner: the delay before the restart about to happen; begins the next generation.</summary>
    public TimeSpan BeginRestart()
    {
        Volatile.Write(ref _generation, _generation + 1);
        return _tracker.NextRestartDelay();
    }

    /// <summary>On the runner: a call succeeded.</summary>
    public void OnSuccess() => _tracker.OnSuccess();
}
