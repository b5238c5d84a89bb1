using System.Diagnostics;

namespace Parallelize.Files;

/// <summary>
/// A byte range of one file: the unit of work a <see cref="FileSource"/> hands to an executor. It owns the lines that
/// start at a byte offset in [<see cref="Offset"/>, <see cref="Offset"/> + <see cref="Length"/>); the last of them may
/// end after the range, and a range may own no line at all (when one line spans it whole).
/// </summary>
/// <param name="Path">The file, as given to the source.</param>
/// <param name="FileIndex">The file's index among the source's paths.</param>
/// <param name="Index">The range's index among all the source's ranges (file order, then offset).</param>
/// <param name="IndexInFile">The range's index among its file's ranges.</param>
/// <param name="Offset">The byte offset where the range starts.</param>
/// <param name="Length">The range's length in bytes, at least 1.</param>
[DebuggerDisplay("{Path} [{Offset}, {Offset + Length}) #{Index}")]
public readonly record struct FileRange(string Path, int FileIndex, int Index, int IndexInFile, long Offset, long Length);
