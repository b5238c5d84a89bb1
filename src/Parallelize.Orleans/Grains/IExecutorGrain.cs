using Orleans.Concurrency;

namespace Parallelize.Orleans.Grains;

/// <summary>
/// One executor of a pool, hosted on a silo: it creates the user's executor there and runs batches of calls on it,
/// one batch at a time.
/// </summary>
/// <typeparam name="TIn">The type of the inputs.</typeparam>
/// <typeparam name="TOut">The type of the results.</typeparam>
/// <remarks>
/// <para>The key is <c>{pool}/{slot}/{generation}/{executor name}</c> (see <see cref="ExecutorKey"/>): one grain per
/// executor of a pool, and a new generation, hence a new grain placed afresh, each time the pool re-creates that
/// executor (after a fault, a lost silo or a move to another silo). So a re-created executor never inherits the
/// directory entry of one that lived on a dead silo.</para>
/// <para>A batch is cancelled by <see cref="CancelAsync"/>, a message of its own, rather than by a token passed with
/// the call: Orleans completes a call whose token is cancelled at once on the caller's side and drops the callee's
/// reply, whereas here the caller keeps waiting for the reply in the background, so that a late reply (the user's
/// code finished after all) is seen and counted.</para>
/// </remarks>
internal interface IExecutorGrain<TIn, TOut> : IGrainWithStringKey
{
    /// <summary>Creates the user's executor on this silo, if not created yet, and says where it runs.</summary>
    /// <param name="cancellationToken">Cancelled when the pool stops while the executor is being created.</param>
    /// <returns>Where the executor runs.</returns>
    Task<ExecutorHost> StartAsync(CancellationToken cancellationToken);

    /// <summary>Runs a batch of calls, one after another, and returns every call's outcome.</summary>
    /// <param name="batch">The calls.</param>
    /// <returns>One outcome per call, and where they ran.</returns>
    /// <remarks>A call may run far longer than Orleans' default response timeout (30 s), so this method's is a day:
    /// a silo that dies is noticed through cluster membership instead (see the client's cluster view).</remarks>
    [ResponseTimeout("1.00:00:00")]
    Task<BatchReply<TOut>> ExecuteAsync(CallBatch<TIn> batch);

    /// <summary>
    /// Says whether batch <paramref name="batchId"/> is running, has ended (with its reply, kept until the next batch),
    /// or never arrived, in which case it is fenced off: if it arrives later it does not run.
    /// </summary>
    /// <param name="batchId">The batch to ask about.</param>
    /// <returns>Where the batch is.</returns>
    /// <remarks>
    /// A call whose reply is overdue is probed: the reply of a call to a live silo is lost when the gateway it went
    /// through dies, and Orleans would only time it out after the response timeout. The probe's own timeout is short.
    /// </remarks>
    [AlwaysInterleave]
    [ResponseTimeout("00:00:05")]
    Task<ProbeReply<TOut>> ProbeAsync(long batchId);

    /// <summary>Cancels the batch <paramref name="batchId"/> if it is running, or before it starts if it has not arrived yet.</summary>
    /// <param name="batchId">The batch to cancel.</param>
    /// <returns>A task that completes when the cancellation has been signalled.</returns>
    [AlwaysInterleave]
    Task CancelAsync(long batchId);

    /// <summary>Cancels what runs, disposes the user's executor and deactivates the grain.</summary>
    /// <returns>A task that completes when the executor is disposed.</returns>
    [AlwaysInterleave]
    Task StopAsync();
}
