using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace Parallelize.Telemetry;

/// <summary>
/// The instruments of one <c>Parallelize</c> meter, shared by every pool that uses that meter, and the pools they
/// observe.
/// </summary>
/// <remarks>
/// <para>The counts are observable: a collection reads every live pool's <see cref="PoolCounts"/> (lock-free reads
/// of counts the pool keeps anyway), so calls pay nothing for them. A stopped pool's final counts are folded into
/// <c>_retired</c>, so a counter summed over pools of one name never goes back when a pool goes away.</para>
/// <para><b>Lock.</b> <c>_lock</c> guards <c>_live</c> and <c>_retired</c>; under it run only those collections and
/// the pools' count reads, which take no lock and call no user code. Pools are held weakly: a pool dropped without
/// being stopped must not be kept alive by the meter.</para>
/// </remarks>
internal sealed class MeterInstruments
{
    private static readonly Meter s_shared = new(ParallelizeMetrics.MeterName, typeof(MeterInstruments).Assembly.GetName().Version?.ToString());
    private static readonly ConditionalWeakTable<Meter, MeterInstruments> s_byMeter = new();

    private readonly Lock _lock = new();
    private readonly List<WeakReference<PoolTelemetry>> _live = [];
    private readonly Dictionary<string, PoolCounts> _retired = [];

    private MeterInstruments(Meter meter)
    {
        meter.CreateObservableCounter(ParallelizeMetrics.Calls, () => Observe(static c => c.Accepted), "{call}", "Calls accepted by the pool.");
        meter.CreateObservableCounter(ParallelizeMetrics.Succeeded, () => Observe(static c => c.Succeeded), "{call}", "Calls that ended with a result.");
        meter.CreateObservableCounter(ParallelizeMetrics.Failures, () => Observe(static c => c.Failed), "{call}", "Calls that used up their attempts.");
        meter.CreateObservableCounter(ParallelizeMetrics.Restarts, () => Observe(static c => c.Restarted), "{restart}", "Executors restarted after a fault.");
        meter.CreateObservableCounter(ParallelizeMetrics.Retries, () => Observe(static c => c.Retried), "{retry}", "Calls queued again for another attempt.");
        meter.CreateObservableCounter(ParallelizeMetrics.Aborted, () => Observe(static c => c.Aborted), "{call}", "Calls aborted by Stop.");
        meter.CreateObservableUpDownCounter(ParallelizeMetrics.Queued, () => Observe(static c => c.Queued), "{call}", "Calls queued and not yet taken by an executor.");
        meter.CreateObservableUpDownCounter(ParallelizeMetrics.InFlight, () => Observe(static c => c.Running), "{call}", "Calls taken by executors and not yet settled.");
        meter.CreateObservableCounter(ParallelizeMetrics.Outages, () => Observe(static c => c.Outages), "{outage}", "Outages that paused the pool.");
        meter.CreateObservableUpDownCounter(ParallelizeMetrics.Paused, () => Observe(static c => c.IsPaused ? 1 : 0), "{pool}", "Pools paused by an outage now.");
        meter.CreateObservableUpDownCounter(ParallelizeMetrics.RetiredExecutors, () => Observe(static c => c.RetiredExecutors), "{executor}", "Executors retired by the restart policy.");
        // Seconds, so exporters' default buckets (made for milliseconds) would put nearly every call in the first one.
        CallDuration = meter.CreateHistogram<double>(
            ParallelizeMetrics.CallDuration,
            "s",
            "Duration of calls that returned a result.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.000_01, 0.000_1, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });
    }

    /// <summary>Gets the histogram of call durations; executors record into it only while <see cref="Instrument.Enabled"/>.</summary>
    public Histogram<double> CallDuration { get; }

    /// <summary>Gets the instruments of the meter <paramref name="factory"/> makes, or of the process's shared meter.</summary>
    public static MeterInstruments For(IMeterFactory? factory)
    {
        Meter meter = factory is null
            ? s_shared
            : factory.Create(new MeterOptions(ParallelizeMetrics.MeterName) { Version = s_shared.Version });
        return s_byMeter.GetValue(meter, static meter => new MeterInstruments(meter));
    }

    /// <summary>Starts observing a pool.</summary>
    public void Register(PoolTelemetry pool)
    {
        lock (_lock)
        {
            _live.Add(new WeakReference<PoolTelemetry>(pool));
        }
    }

    /// <summary>Stops observing a pool that has stopped, keeping its final counts in the totals of its name.</summary>
    public void Unregister(PoolTelemetry pool, PoolCounts final)
    {
        lock (_lock)
        {
            int at = _live.FindIndex(entry => entry.TryGetTarget(out PoolTelemetry? live) && ReferenceEquals(live, pool));
            if (at < 0)
            {
                return;
            }

            _live.RemoveAt(at);
            string key = pool.Name ?? "";
            _retired[key] = _retired.GetValueOrDefault(key) + (final with { Queued = 0, Running = 0, IsPaused = false, RetiredExecutors = 0 });
        }
    }

    private List<Measurement<long>> Observe(Func<PoolCounts, long> select)
    {
        var byName = new Dictionary<string, long>();
        lock (_lock)
        {
            foreach (KeyValuePair<string, PoolCounts> retired in _retired)
            {
                byName[retired.Key] = select(retired.Value);
            }

            _live.RemoveAll(static entry => !entry.TryGetTarget(out _));
            foreach (WeakReference<PoolTelemetry> entry in _live)
            {
                if (entry.TryGetTarget(out PoolTelemetry? pool))
                {
                    string key = pool.Name ?? "";
                    byName[key] = byName.GetValueOrDefault(key) + select(pool.ReadCounts());
                }
            }
        }

        var measurements = new List<Measurement<long>>(byName.Count);
        foreach (KeyValuePair<string, long> named in byName)
        {
            measurements.Add(named.Key.Length == 0
                ? new Measurement<long>(named.Value)
                : new Measurement<long>(named.Value, new KeyValuePair<string, object?>(ParallelizeMetrics.PoolNameTag, named.Key)));
        }

        return measurements;
    }
}
