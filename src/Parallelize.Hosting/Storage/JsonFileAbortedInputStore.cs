using System.Text.Json;

namespace Parallelize.Hosting;

/// <summary>
/// Keeps aborted inputs in a JSON file (an array of inputs, by <see cref="JsonSerializer"/>), replaced whole and
/// atomically at each save, and removed when a run leaves nothing behind.
/// </summary>
/// <typeparam name="TIn">The type of the pool's inputs; <see cref="JsonSerializer"/> must be able to write and read it back.</typeparam>
/// <remarks>
/// A save writes a temporary file beside the target, flushes it to the disk, then renames it over the target, so the
/// file holds either the previous save or the new one in full, whenever the process dies. It writes to the end even
/// when the host's shutdown timeout runs out meanwhile: a small file write overrunning the host's budget is better than
/// losing the inputs. One store serves one pool; two processes must not share a file.
/// </remarks>
public sealed class JsonFileAbortedInputStore<TIn> : IAbortedInputStore<TIn>
{
    private readonly JsonSerializerOptions? _serializerOptions;

    /// <summary>Creates a store that keeps the inputs in <paramref name="path"/>.</summary>
    /// <param name="path">The file; its folder is created when needed.</param>
    /// <param name="serializerOptions">How inputs are written and read; <see langword="null"/> for the defaults of <see cref="JsonSerializer"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or white space.</exception>
    public JsonFileAbortedInputStore(string path, JsonSerializerOptions? serializerOptions = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = System.IO.Path.GetFullPath(path);
        _serializerOptions = serializerOptions;
    }

    /// <summary>Gets the full path of the file.</summary>
    public string Path { get; }

    /// <summary>Reads the inputs saved in the file.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The inputs in the order they were saved; empty if there is no file.</returns>
    /// <exception cref="JsonException">The file is not a JSON array of inputs.</exception>
    public async ValueTask<IReadOnlyList<TIn>> LoadAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(Path))
        {
            return [];
        }

        FileStream file = File.OpenRead(Path);
        await using (file.ConfigureAwait(false))
        {
            List<TIn>? inputs = await JsonSerializer.DeserializeAsync<List<TIn>>(file, _serializerOptions, cancellationToken).ConfigureAwait(false);
            return inputs ?? [];
        }
    }

    /// <summary>Replaces the file with <paramref name="inputs"/>, or removes it when there are none.</summary>
    /// <param name="inputs">The inputs to save.</param>
    /// <param name="cancellationToken">Not observed: the write always runs to its end (see the remarks of the type).</param>
    /// <returns>A task that completes when the file is on the disk.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="inputs"/> is <see langword="null"/>.</exception>
    public async ValueTask SaveAsync(IReadOnlyList<TIn> inputs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0)
        {
            if (File.Exists(Path))
            {
                File.Delete(Path);
            }

            return;
        }

        string? folder = System.IO.Path.GetDirectoryName(Path);
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        string temporary = $"{Path}.{Environment.ProcessId}.tmp";
        var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 4096, FileOptions.Asynchronous);
        await using (file.ConfigureAwait(false))
        {
            await JsonSerializer.SerializeAsync(file, inputs, _serializerOptions, CancellationToken.None).ConfigureAwait(false);
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, Path, overwrite: true);
    }
}
