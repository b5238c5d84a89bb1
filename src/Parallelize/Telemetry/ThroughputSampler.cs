namespace Parallelize.Telemetry;

/// <summary>
/// Measures how fast calls end over the last <see cref="Window"/>, from samples of the count of ended calls taken
/// whenever progress is read (by the report timer or <c>GetProgress</c>), never by the calls themselves.
/// </summary>
/// <remarks>
/// Samples are kept at least <c>Window / 32</c> apart, at most <see cref="Capacity"/> of them, so reading progress in a
/// tight loop costs no memory. The rate is measured from the newest sample at least a window old (or the oldest
/// there is) to now. <c>_lock</c> guards the ring; it is never taken by a call.
/// </remarks>
internal sealed class ThroughputSampler
{
    /// <summary>How far back the rate looks.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(5);

    private const int Capacity = 64;

    private readonly Lock _lock = new();
    private readonly long[] _at = new long[Capacity];
    private readonly long[] _ended = new long[Capacity];
    private readonly long _window;
    private readonly long _minGap;
    private readonly double _frequency;
    private int _head;
    private int _count;

    /// <summary>Initializes the sampler with the pool's start: no call ended at <paramref name="start"/>.</summary>
    public ThroughputSampler(long start, long frequency)
    {
        _frequency = frequency;
        _window = (long)(Window.TotalSeconds * frequency);
        _minGap = Math.Max(1, _window / 32);
        _at[0] = start;
        _count = 1;
    }

    /// <summary>Records <paramref name="ended"/> calls at <paramref name="now"/> and returns the rate in calls per second.</summary>
    public double Sample(long now, long ended)
    {
        lock (_lock)
        {
            while (_count > 1 && _at[(_head + 1) % Capacity] <= now - _window)
            {
                _head = (_head + 1) % Capacity;
                _count--;
            }

            int last = (_head + _count - 1) % Capacity;
            if (now - _at[last] >= _minGap)
            {
                if (_count == Capacity)
                {
                    _head = (_head + 1) % Capacity;
                    _count--;
                }

                int next = (_head + _count) % Capacity;
                _at[next] = now;
                _ended[next] = ended;
                _count++;
            }

            long span = now - _at[_head];
            return span <= 0 ? 0 : (ended - _ended[_head]) * _frequency / span;
        }
    }
}
