namespace Parallelize.Files;

public sealed partial class FileSource
{
    /// <summary>
    /// Runs every range through <see cref="FileSourceOptions.DegreeOfParallelism"/> executors of a
    /// <see cref="Parallelize{TIn, TOut}"/> pool: each executor reads a range, calls <paramref name="processRow"/> for
    /// each of its lines into an output object, and the finished range is handed to <paramref name="consume"/> on the
    /// calling thread (in file order with <see cref="FileSourceOptions.Ordered"/>). Returns when every range has been
    /// consumed, has failed, or was aborted.
    /// </summary>
    /// <typeparam name="TOutput">The per-range output, e.g. a list of parsed rows or a buffer of formatted bytes.</typeparam>
    /// <param name="createOutput">Creates an output object for a range; called on the executors' threads, at most <see cref="FileSourceOptions.MaxRangesInFlight"/> times when <paramref name="resetOutput"/> is given.</param>
    /// <param name="processRow">Processes one row into its range's output, on an executor's thread. An exception fails that row only.</param>
    /// <param name="consume">Takes a finished range, on the calling thread, one at a time. An exception stops the run and is rethrown.</param>
    /// <param name="resetOutput">Empties an output once it has been consumed so that it is reused for another range; <see langword="null"/> to create a new output per range.</param>
    /// <param name="cancellationToken">Stops the run: no more ranges start, those running are cancelled, and every range not yet consumed is returned in <see cref="FileRunResult.Aborted"/>; <paramref name="consume"/> is not called again.</param>
    /// <returns>What was consumed, what failed (rows with their file, line and offset), and what was aborted.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="createOutput"/>, <paramref name="processRow"/> or <paramref name="consume"/> is <see langword="null"/>.</exception>
    /// <remarks>
    /// Memory: at most <see cref="FileSourceOptions.MaxRangesInFlight"/> ranges are submitted and not yet consumed,
    /// so at most that many outputs exist; each executor holds one read buffer of the range size plus the line
    /// reading past its end (at most <see cref="FileSourceOptions.MaxLineLength"/> + 2 bytes more).
    /// </remarks>
    public FileRunResult Run<TOutput>(
        Func<TOutput> createOutput,
        RowAction<TOutput> processRow,
        Action<RangeResult<TOutput>> consume,
        Action<TOutput>? resetOutput = null,
        CancellationToken cancellationToken = default)
        where TOutput : class
    {
        ArgumentNullException.ThrowIfNull(createOutput);
        ArgumentNullException.ThrowIfNull(processRow);
        ArgumentNullException.ThrowIfNull(consume);
        var run = new RunState<TOutput>(this, new OutputPool<TOutput>(createOutput, resetOutput), processRow, consume);
        return run.Execute(cancellationToken);
    }

    /// <summary>
    /// One run's bookkeeping. Every field is touched only by the calling thread (the one in <see cref="Execute"/>):
    /// executors see nothing of it but the ranges they are given and the outcomes they return through the pool's
    /// result stream, so no lock is needed.
    /// </summary>
    /// <remarks>
    /// Conservation: a range is submitted once; its outcome arrives once from the stream (or never, if the pool was
    /// stopped). It is then consumed or recorded as a failure at arrival. Aborted is computed at the end as every
    /// range neither consumed nor failed, so no range can be in two places or none.
    /// </remarks>
    private sealed class RunState<TOutput>(FileSource source, OutputPool<TOutput> outputs, RowAction<TOutput> processRow, Action<RangeResult<TOutput>> consume)
        where TOutput : class
    {
        private readonly FileRange[] _ranges = source._ranges;
        private readonly bool[] _settled = new bool[source._ranges.Length];
        private readonly LineCounts _lines = new(source);
        private readonly Dictionary<int, RangeOutcome<TOutput>> _reorder = [];
        private readonly List<(FileRange Range, PendingRowFailure Failure)> _rowFailures = [];
        private readonly List<RangeFailure> _rangeFailures = [];
        private int _nextToConsume;
        private int _consumed;
        private long _rows;

        public FileRunResult Execute(CancellationToken cancellationToken)
        {
            FileSourceOptions options = source.Options;
            var executors = new IExecutor<FileRange, RangeOutcome<TOutput>>[options.DegreeOfParallelism];
            for (int i = 0; i < executors.Length; i++)
            {
                executors[i] = new RangeReader<TOutput>(source, processRow, outputs);
            }

            // Executors never throw but for cancellation (a range's errors come back in its outcome), so one attempt
            // each; results are not retained: the stream below is their only way out.
            using var pool = new Parallelize<FileRange, RangeOutcome<TOutput>>(
                executors,
                new ParallelizeOptions { MaxAttempts = 1, RetainResults = false, Name = "Parallelize.Files" });
            int window = options.RangesInFlight;
            int submitted = 0;
            int outstanding = 0;
            bool stopped = false;
            bool finished = false;
            bool completed = false;
            try
            {
                TopUp();
                foreach (CallResult<FileRange, RangeOutcome<TOutput>> call in pool.ReadAllAsync(cancellationToken).ToBlockingEnumerable(cancellationToken))
                {
                    outstanding--;
                    if (cancellationToken.IsCancellationRequested)
                    {
                        // An outcome that arrives after the stop is not consumed: its range is aborted.
                        stopped = true;
                        break;
                    }

                    Accept(call.Output, options.Ordered, cancellationToken);
                    if (cancellationToken.IsCancellationRequested)
                    {
                        stopped = true;
                        break;
                    }

                    TopUp();
                }

                finished = !stopped;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                stopped = true;
            }
            finally
            {
                if (!finished)
                {
                    // Stopped, or the consumer threw: ranges not run are aborted, those running cancelled at once.
                    pool.Stop(TimeSpan.Zero);
                }
            }

            return Result(stopped);

            void TopUp()
            {
                while (submitted < _ranges.Length && outstanding < window)
                {
                    pool.Invoke(_ranges[submitted++]);
                    outstanding++;
                }

                if (submitted == _ranges.Length && !completed)
                {
                    pool.Complete();   // the stream ends once the calls made have ended
                    completed = true;
                }
            }
        }

        private void Accept(RangeOutcome<TOutput> outcome, bool ordered, CancellationToken cancellationToken)
        {
            int index = outcome.Range.Index;
            if (outcome.Exception is not null)
            {
                _rangeFailures.Add(new RangeFailure(outcome.Range, outcome.Exception));
                _settled[index] = true;
                outputs.Return(outcome.Output);
            }
            else
            {
                _lines.Counted(index, outcome.Rows);
            }

            if (!ordered)
            {
                if (outcome.Exception is null)
                {
                    Consume(outcome);
                }

                return;
            }

            _reorder.Add(index, outcome);
            // A consumer that cancels the run sees no further range, even one already waiting here.
            while (!cancellationToken.IsCancellationRequested
                && _nextToConsume < _ranges.Length
                && _reorder.Remove(_nextToConsume, out RangeOutcome<TOutput>? next))
            {
                _nextToConsume++;
                if (next.Exception is null)
                {
                    Consume(next);
                }
            }
        }

        private void Consume(RangeOutcome<TOutput> outcome)
        {
            int failed = outcome.Failures?.Count ?? 0;
            consume(new RangeResult<TOutput>(outcome.Range, _lines.FirstLine(outcome.Range.Index), outcome.Rows, failed, outcome.Output!));
            _settled[outcome.Range.Index] = true;
            _consumed++;
            _rows += outcome.Rows;
            if (outcome.Failures is { } failures)
            {
                foreach (PendingRowFailure failure in failures)
                {
                    _rowFailures.Add((outcome.Range, failure));
                }
            }

            outputs.Return(outcome.Output);
        }

        private FileRunResult Result(bool stopped)
        {
            var aborted = new List<FileRange>();
            for (int i = 0; i < _ranges.Length; i++)
            {
                if (!_settled[i])
                {
                    aborted.Add(_ranges[i]);
                }
            }

            _rowFailures.Sort((a, b) => a.Range.Index != b.Range.Index ? a.Range.Index.CompareTo(b.Range.Index) : a.Failure.IndexInRange.CompareTo(b.Failure.IndexInRange));
            var rowFailures = new RowFailure[_rowFailures.Count];
            for (int i = 0; i < rowFailures.Length; i++)
            {
                (FileRange range, PendingRowFailure failure) = _rowFailures[i];
                long line = _lines.ResolveFirstLine(range.Index) + failure.IndexInRange;
                rowFailures[i] = new RowFailure(range, line, failure.Offset, failure.Text, failure.Exception);
            }

            _rangeFailures.Sort((a, b) => a.Range.Index.CompareTo(b.Range.Index));
            return new FileRunResult(_consumed, _rows, rowFailures, [.. _rangeFailures], aborted, stopped);
        }
    }
}
