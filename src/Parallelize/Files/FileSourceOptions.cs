namespace Parallelize.Files;

/// <summary>
/// How a <see cref="FileSource"/> splits its files and runs their ranges. Each property is validated when it is set.
/// </summary>
/// <remarks>
/// Peak memory of a run is bounded by bytes, not by rows: each executor holds one read buffer of at most
/// <see cref="RangeSize"/> + <see cref="MaxLineLength"/> + 3 bytes (reused from range to range), and at most
/// <see cref="MaxRangesInFlight"/> ranges are submitted and not yet consumed, each with one output object
/// (the reorder window of <see cref="Ordered"/> is part of that count, not added to it). Row failures are kept
/// until the run ends.
/// </remarks>
public sealed record FileSourceOptions
{
    /// <summary>The default <see cref="RangeSize"/>: 4 MiB.</summary>
    public const int DefaultRangeSize = 4 * 1024 * 1024;

    /// <summary>The default <see cref="MaxLineLength"/>: 1 MiB.</summary>
    public const int DefaultMaxLineLength = 1024 * 1024;

    private readonly int _rangeSize = DefaultRangeSize;
    private readonly int _maxLineLength = DefaultMaxLineLength;
    private readonly int _degreeOfParallelism = Environment.ProcessorCount;
    private readonly int? _maxRangesInFlight;

    /// <summary>
    /// Gets the nominal size of a range in bytes. A file is cut every <c>RangeSize</c> bytes; a range owns the lines
    /// that start inside it, so a line is never split and every line belongs to exactly one range.
    /// </summary>
    /// <value>At least 1. The default is 4 MiB (<see cref="DefaultRangeSize"/>).</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1 or more than 1 GiB.</exception>
    public int RangeSize
    {
        get => _rangeSize;
        init => _rangeSize = value is >= 1 and <= 1 << 30
            ? value
            : throw new ArgumentOutOfRangeException(nameof(RangeSize), value, "RangeSize must be at least 1 byte and at most 1 GiB.");
    }

    /// <summary>
    /// Gets the longest line accepted, in bytes, not counting its line break (<c>\n</c> or <c>\r\n</c>). A longer
    /// line fails on its own: it ends in <see cref="FileRunResult.RowFailures"/> with an
    /// <see cref="InvalidDataException"/> that names the limit, and the other rows go on.
    /// </summary>
    /// <value>At least 1. The default is 1 MiB (<see cref="DefaultMaxLineLength"/>).</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1 or more than 1 GiB.</exception>
    public int MaxLineLength
    {
        get => _maxLineLength;
        init => _maxLineLength = value is >= 1 and <= 1 << 30
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxLineLength), value, "MaxLineLength must be at least 1 byte and at most 1 GiB.");
    }

    /// <summary>Gets the number of executors that read and process ranges at the same time.</summary>
    /// <value>At least 1. The default is <see cref="Environment.ProcessorCount"/>.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int DegreeOfParallelism
    {
        get => _degreeOfParallelism;
        init => _degreeOfParallelism = value >= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(DegreeOfParallelism), value, "DegreeOfParallelism must be at least 1.");
    }

    /// <summary>
    /// Gets the most ranges submitted to the executors and not yet consumed: queued, running, done and waiting in the
    /// reorder window, or being consumed. Bounds the output objects in existence, and so the memory they take.
    /// </summary>
    /// <value>At least 1, or <see langword="null"/> for twice <see cref="DegreeOfParallelism"/>. The default is <see langword="null"/>.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int? MaxRangesInFlight
    {
        get => _maxRangesInFlight;
        init => _maxRangesInFlight = value is null or >= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxRangesInFlight), value, "MaxRangesInFlight must be at least 1, or null for twice the degree of parallelism.");
    }

    /// <summary>
    /// Gets a value indicating whether ranges are consumed in file order (the order of the paths, then by offset)
    /// rather than as they finish. A range that fails or is aborted leaves its place empty.
    /// </summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool Ordered { get; init; }

    /// <summary>Gets the effective <see cref="MaxRangesInFlight"/>.</summary>
    internal int RangesInFlight => _maxRangesInFlight ?? 2 * _degreeOfParallelism;
}
