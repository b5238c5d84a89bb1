using System.Diagnostics;

namespace Parallelize.Files;

/// <summary>
/// One or many files split into line-aligned byte ranges that the executors of a <see cref="Parallelize{TIn, TOut}"/>
/// pool read and process in parallel themselves (there is no reader thread), with the results of each range handed
/// to a consumer on the calling thread, in file order if asked. For CSV-like ETL: whole lines as UTF-8 bytes, the
/// position of every row, a bad row failing alone.
/// </summary>
/// <remarks>
/// <para>The files are measured when the source is created and split every <see cref="FileSourceOptions.RangeSize"/>
/// bytes; nothing is read then. A range owns the lines that start in it, so every line is processed exactly once,
/// whatever the range size. Lines end at <c>\n</c>; a <c>\r</c> before it is dropped; a last line without a line break
/// counts; an empty file has no ranges.</para>
/// <para>Line numbers are not counted ahead: each range counts its own lines as it runs, and a row's number is the
/// sum of the counts of the ranges before it in its file. So <see cref="RangeResult{TOutput}.FirstLine"/> is known
/// once the earlier ranges are done, and the line numbers of <see cref="FileRunResult.RowFailures"/> are always
/// resolved (the lines of a range that never ran are counted from the file then, only if a failure after it needs
/// them).</para>
/// <para>The source is immutable and thread-safe: several runs may use it at once. The files must not change while
/// a run reads them; a file that got shorter fails the ranges past its new end (<see cref="FileRunResult.RangeFailures"/>).</para>
/// </remarks>
/// <example>
/// <code>
/// var source = new FileSource("data.csv", new FileSourceOptions { Ordered = true });
/// FileRunResult result = source.Run(
///     () => new List&lt;long&gt;(),                      // one output per range
///     (row, sums) => sums.Add(SumRow(row.Bytes)),    // on an executor, once per row
///     range => Write(range.Output),                  // on this thread, in file order
///     sums => sums.Clear());                         // outputs are reused
/// foreach (RowFailure failure in result.RowFailures) Console.Error.WriteLine(failure);
/// </code>
/// </example>
[DebuggerDisplay("{Paths.Count} file(s), {Length} bytes, {Ranges.Count} ranges")]
public sealed partial class FileSource
{
    private readonly long[] _lengths;
    private readonly FileRange[] _ranges;

    /// <summary>Creates a source over one file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">How to split and run it; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public FileSource(string path, FileSourceOptions? options = null)
        : this([path ?? throw new ArgumentNullException(nameof(path))], options, nameof(path))
    {
    }

    /// <summary>Creates a source over several files, processed as one sequence: the paths' order is the file order.</summary>
    /// <param name="paths">The files; a file may be given only once.</param>
    /// <param name="options">How to split and run them; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="paths"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="paths"/> holds a <see langword="null"/> or empty path.</exception>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    public FileSource(IEnumerable<string> paths, FileSourceOptions? options = null)
        : this([.. paths ?? throw new ArgumentNullException(nameof(paths))], options, nameof(paths))
    {
    }

    private FileSource(string[] paths, FileSourceOptions? options, string argument)
    {
        Options = options ?? new FileSourceOptions();
        _lengths = new long[paths.Length];
        var ranges = new List<FileRange>();
        for (int file = 0; file < paths.Length; file++)
        {
            if (string.IsNullOrEmpty(paths[file]))
            {
                throw new ArgumentException($"Path {file} is null or empty.", argument);
            }

            var info = new FileInfo(paths[file]);
            if (!info.Exists)
            {
                throw new FileNotFoundException($"The file {paths[file]} does not exist.", paths[file]);
            }

            _lengths[file] = info.Length;
            int inFile = 0;
            for (long offset = 0; offset < info.Length; offset += Options.RangeSize)
            {
                ranges.Add(new FileRange(paths[file], file, ranges.Count, inFile++, offset, Math.Min(Options.RangeSize, info.Length - offset)));
            }
        }

        Paths = paths;
        _ranges = [.. ranges];
        Length = _lengths.Sum();
    }

    /// <summary>Gets the files, in file order.</summary>
    public IReadOnlyList<string> Paths { get; }

    /// <summary>Gets the options.</summary>
    public FileSourceOptions Options { get; }

    /// <summary>Gets the ranges, in file order (<see cref="FileRange.Index"/> is the position in this list).</summary>
    public IReadOnlyList<FileRange> Ranges => _ranges;

    /// <summary>Gets the files' total length in bytes, as measured when the source was created.</summary>
    public long Length { get; }

    /// <summary>Gets a file's length as measured when the source was created.</summary>
    internal long FileLength(int fileIndex) => _lengths[fileIndex];
}
