namespace Parallelize.Telemetry;

/// <summary>The counts a pool keeps anyway, read without a lock: what progress reports and metrics are made of.</summary>
internal readonly record struct PoolCounts(
    long Accepted, int Queued, int Running, long Succeeded, long Failed, long Retried, long Restarted, long Aborted,
    int Executors = 0, int RetiredExecutors = 0, bool IsFaulted = false, bool IsPaused = false, long Outages = 0, long LateOutcomes = 0, long ExpectedCalls = -1)
{
    public static PoolCounts operator +(PoolCounts a, PoolCounts b) => new(
        a.Accepted + b.Accepted,
        a.Queued + b.Queued,
        a.Running + b.Running,
        a.Succeeded + b.Succeeded,
        a.Failed + b.Failed,
        a.Retried + b.Retried,
        a.Restarted + b.Restarted,
        a.Aborted + b.Aborted,
        a.Executors + b.Executors,
        a.RetiredExecutors + b.RetiredExecutors,
        a.IsFaulted || b.IsFaulted,
        a.IsPaused || b.IsPaused,
        a.Outages + b.Outages,
        a.LateOutcomes + b.LateOutcomes,
        a.ExpectedCalls < 0 || b.ExpectedCalls < 0 ? -1 : a.ExpectedCalls + b.ExpectedCalls);
}
