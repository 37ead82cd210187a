namespace TaskSystem;

/// <summary>A request to the <see cref="TaskManager"/> was invalid; the message says what and why.</summary>
public sealed class TaskValidationException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public TaskValidationException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public TaskValidationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public TaskValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for one field of the request.</summary>
    public TaskValidationException(string field, string message)
        : base(message, field)
    {
        Field = field;
    }

    /// <summary>The field at fault, when one is.</summary>
    public string? Field { get; }

    /// <summary>In a batch (<see cref="TaskManager.EnqueueManyAsync(IEnumerable{TaskRequest}, CancellationToken)"/>), the position of the request at fault, from 0.</summary>
    public int? Index { get; init; }

    /// <summary>True when the payload was larger than allowed.</summary>
    public bool IsTooLarge { get; init; }

    /// <summary>The same failure, placed at <paramref name="index"/> in a batch.</summary>
    internal TaskValidationException At(int index) => Field is null
        ? new TaskValidationException(Message, this) { Index = index, IsTooLarge = IsTooLarge }
        : new TaskValidationException(Field, Message) { Index = index, IsTooLarge = IsTooLarge };

    /// <inheritdoc />
    public override string Message => base.Message.Split(" (Parameter '", 2)[0];
}
