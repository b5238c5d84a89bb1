namespace Parallelize.Core;

/// <summary>
/// One executor that runs outside this pool's threads — in a worker process, on a cluster node — as its runner sees
/// it: it runs leases of calls and reports when it is lost. The runner owns everything else (taking leases, restarts,
/// retirement, blame), and the lease owns the accounting, so a slot only moves calls and their outcomes.
/// </summary>
/// <remarks>
/// <para><b>Contract.</b> <see cref="RunAsync"/> receives a handle on a lease in "any order" mode. For each call the
/// slot reads it (<see cref="LeaseHandle{TIn, TOut}.TryRead(int, out TIn, out long)"/>), may call <see cref="LeaseHandle{TIn, TOut}.MarkSent"/>
/// when it leaves this process (skipping it if either returns <see langword="false"/>), then exactly one of
/// <see cref="LeaseHandle{TIn, TOut}.TryComplete"/> or <see cref="LeaseHandle{TIn, TOut}.TryFail"/> — in any order, from
/// any thread, by index; a call the pool took back meanwhile reports <see langword="false"/> or <see langword="null"/>
/// and the slot just drops it. When its process or
/// node dies, the slot fails the call that was running with <see cref="FailureKind.Crashed"/> if it knows it caused the
/// crash, and completes <see cref="Lost"/>; the runner takes back every call still unsettled.</para>
/// <para>Implementations must not block in <see cref="RunAsync"/> before their first await, and must never throw from
/// <see cref="IAsyncDisposable.DisposeAsync"/>.</para>
/// </remarks>
/// <typeparam name="TIn">The type of the inputs.</typeparam>
/// <typeparam name="TOut">The type of the results.</typeparam>
internal interface IExecutorSlot<TIn, TOut> : IAsyncDisposable
{
    /// <summary>Gets where the executor runs, for logs and progress: for example "pid 4242" or "silo 127.0.0.1:11111".</summary>
    string Location { get; }

    /// <summary>Gets the most calls one lease may hold (1 for an executor that runs one call at a time).</summary>
    int MaxLease { get; }

    /// <summary>Gets a task that completes, with the reason, when the slot can run no more calls (its process died, its node left).</summary>
    Task<Exception> Lost { get; }

    /// <summary>Runs the calls of <paramref name="lease"/>; completes when each of them is settled, or the slot is lost.</summary>
    /// <param name="lease">The calls, in "any order" mode.</param>
    /// <param name="cancellationToken">Cancelled when <c>Stop</c> gives up waiting for calls in flight: cancel them where they run.</param>
    /// <returns>A task that completes when the slot is done with the lease.</returns>
    ValueTask RunAsync(LeaseHandle<TIn, TOut> lease, CancellationToken cancellationToken);
}
