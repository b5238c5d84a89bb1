namespace Parallelize.Orleans.Client;

/// <summary>
/// The calls of one grain message, as a slot tracks them: which lease index each one is, and whether the slot has
/// reported it to the lease or given it up (the batch ended by the loss of its silo or by the pool's stop).
/// </summary>
/// <remarks>
/// <para>The lease decides where each call ends; this only keeps the slot's counts exact when a reply races a loss
/// or a stop: every call is taken once, by a report (<see cref="TryTake"/>) or by the end of the batch
/// (<see cref="End"/>), and a report after the end knows how the batch ended.</para>
/// <para><b>Lock.</b> <c>_lock</c> guards <c>_states</c>, <c>_open</c> and <c>_ended</c>; the slot's run, the stop callback
/// and the membership callback (and later a late reply) may touch them at once. Nothing else runs under it.</para>
/// </remarks>
internal sealed class SentBatch
{
    /// <summary>The batch has not ended: its calls are reported as their outcomes come.</summary>
    public const int Running = 0;

    /// <summary>The batch ended with the loss of its executor's silo.</summary>
    public const int Lost = 1;

    /// <summary>The batch ended because the pool's stop gave up on its calls.</summary>
    public const int Stopped = 2;

    private readonly Lock _lock = new();
    private const byte Unreported = 0;
    private const byte Reported = 1;
    private const byte GivenUp = 2;

    private readonly byte[] _states;
    private long _batchId;
    private int _open;
    private int _ended;

    public SentBatch(long batchId, int[] indexes, long[] callIds)
    {
        _batchId = batchId;
        Indexes = indexes;
        CallIds = callIds;
        _states = new byte[indexes.Length];
        _open = indexes.Length;
    }

    /// <summary>Gets the lease index of each call.</summary>
    public int[] Indexes { get; }

    /// <summary>Gets the pool's id of each call.</summary>
    public long[] CallIds { get; }

    /// <summary>Gets or sets the id of the grain message now carrying the calls (a message lost on the way is sent again under a new id).</summary>
    public long BatchId
    {
        get => Interlocked.Read(ref _batchId);
        set => Interlocked.Exchange(ref _batchId, value);
    }

    /// <summary>Gets how the batch ended, or <see cref="Running"/>.</summary>
    public int Ended
    {
        get
        {
            lock (_lock)
            {
                return _ended;
            }
        }
    }

    /// <summary>Takes call <paramref name="k"/> for a report of its outcome (once: a second reply for it is ignored).</summary>
    /// <param name="k">The call's position in the batch.</param>
    /// <param name="givenUpAs">How the batch ended if it gave this call up before its outcome came (a late reply); <see cref="Running"/> otherwise.</param>
    /// <returns><see langword="false"/> if the call was reported already.</returns>
    public bool TryTake(int k, out int givenUpAs)
    {
        lock (_lock)
        {
            givenUpAs = Running;
            switch (_states[k])
            {
                case Reported:
                    return false;
                case GivenUp:
                    givenUpAs = _ended;
                    break;
                default:
                    _open--;
                    break;
            }

            _states[k] = Reported;
            return true;
        }
    }

    /// <summary>Ends the batch (lost or stopped) and gives up every call not reported yet.</summary>
    /// <returns>Their positions in the batch; empty if the batch had ended already.</returns>
    public int[] End(int how)
    {
        lock (_lock)
        {
            if (_ended != Running)
            {
                return [];
            }

            _ended = how;
            var open = new int[_open];
            int n = 0;
            for (int k = 0; k < _states.Length; k++)
            {
                if (_states[k] == Unreported)
                {
                    _states[k] = GivenUp;
                    open[n++] = k;
                }
            }

            _open = 0;
            return open;
        }
    }

    /// <summary>Gets how many calls are neither reported nor given up.</summary>
    public int Open
    {
        get
        {
            lock (_lock)
            {
                return _open;
            }
        }
    }

    /// <summary>Gets the pool's ids of the calls at <paramref name="positions"/>.</summary>
    public long[] IdsAt(int[] positions) => Array.ConvertAll(positions, k => CallIds[k]);
}
