namespace Parallelize.Orleans.Grains;

/// <summary>How one call of a batch ended on the silo.</summary>
[GenerateSerializer]
internal enum CallStatus
{
    /// <summary>The executor returned a result.</summary>
    Succeeded,

    /// <summary>The executor threw; <see cref="CallOutcome{TOut}.Failure"/> says what.</summary>
    Failed,

    /// <summary>The executor threw <see cref="OperationCanceledException"/> after the batch was cancelled.</summary>
    Cancelled,

    /// <summary>The batch was cancelled (or the grain stopped) before this call began: the executor never saw it.</summary>
    NotRun,
}
