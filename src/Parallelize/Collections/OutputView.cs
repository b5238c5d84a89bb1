using System.Collections;

namespace Parallelize.Collections;

/// <summary>The results of a list of completions, without copying: what <c>Results</c> returns.</summary>
/// <remarks>Reads go straight to the underlying <see cref="AppendOnlyList{T}"/>, so the view is as live and as lock-free as it is.</remarks>
internal sealed class OutputView<TIn, TOut>(AppendOnlyList<CallResult<TIn, TOut>> completions) : IReadOnlyList<TOut>
{
    /// <inheritdoc/>
    public int Count => completions.Count;

    /// <inheritdoc/>
    public TOut this[int index] => completions[index].Output;

    /// <inheritdoc/>
    public IEnumerator<TOut> GetEnumerator()
    {
        foreach (CallResult<TIn, TOut> completion in completions)
        {
            yield return completion.Output;
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
