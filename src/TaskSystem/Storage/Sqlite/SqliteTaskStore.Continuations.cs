using Microsoft.Data.Sqlite;
using static TaskSystem.Storage.Sqlite.SqliteRows;

namespace TaskSystem.Storage.Sqlite;

/// <summary>
/// Continuations (migration 8): the <c>task_parents</c> links, and the settling of awaiting children in the
/// transaction of every write that finishes their parents (see <see cref="ITaskStore"/>'s continuation members).
/// One writer, so no race: a child is settled by whichever write finishes its last parent.
/// </summary>
internal sealed partial class SqliteTaskStore
{
    /// <summary>A parent that cancels an all-succeeded child: one that failed or was cancelled.</summary>
    private const string Blocking = """
        FROM task_parents AS l JOIN tasks AS p ON p.id = l.parent_id
        WHERE l.child_id = tasks.id AND l.any_outcome = 0 AND p.state IN ('failed', 'cancelled')
        """;

    private static readonly string CancelChildrenSql = $"""
        UPDATE tasks SET state = 'cancelled', finished_at = $now,
            error = (SELECT 'parent task ' || p.id || CASE p.state WHEN 'failed' THEN ' failed' ELSE ' was cancelled' END {Blocking} ORDER BY p.id LIMIT 1)
        WHERE id IN (SELECT value FROM json_each($ids)) AND state = 'awaiting' AND EXISTS (SELECT 1 {Blocking})
        RETURNING id, queue
        """;

    /// <summary>Ready when no parent is unfinished, and (unless the link says any outcome) none ended other than succeeded.</summary>
    private const string ReleaseChildrenSql = """
        UPDATE tasks SET state = CASE WHEN run_at > $now THEN 'scheduled' ELSE 'queued' END
        WHERE id IN (SELECT value FROM json_each($ids)) AND state = 'awaiting'
          AND NOT EXISTS (
            SELECT 1 FROM task_parents AS l JOIN tasks AS p ON p.id = l.parent_id
            WHERE l.child_id = tasks.id
              AND (p.state NOT IN ('succeeded', 'failed', 'cancelled') OR (l.any_outcome = 0 AND p.state <> 'succeeded')))
        RETURNING id
        """;

    public Action? TasksReleased { get; set; }

    public Task<IReadOnlyList<TaskParentRecord>> TaskParentsListAsync(long id, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<TaskParentRecord>>(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT p.id, p.type, p.state, p.result, p.error, l.any_outcome
                FROM task_parents AS l JOIN tasks AS p ON p.id = l.parent_id
                WHERE l.child_id = $id ORDER BY p.id
                """;
            command.Bind("$id", id);
            var parents = new List<TaskParentRecord>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                parents.Add(new TaskParentRecord(
                    reader.GetInt64(0),
                    reader.GetString(1),
                    ParseState(reader.GetString(2)),
                    reader.IsDBNull(3) ? null : reader.GetString(3),
                    reader.IsDBNull(4) ? null : reader.GetString(4),
                    reader.GetInt64(5) != 0));
            }

            return parents;
        }, cancellationToken);

    /// <summary>Refuses, before anything is written, a continuation whose parents are not all kept.</summary>
    private static void CheckParents(SqliteWriteContext context, NewTask task, int index, int count)
    {
        if (task.After is not { Length: > 0 } after)
        {
            return;
        }

        var missing = context.Command("""
            SELECT value FROM json_each($ids) WHERE value NOT IN (SELECT id FROM tasks WHERE id IN (SELECT value FROM json_each($ids)))
            ORDER BY value LIMIT 1
            """).Bind("$ids", JsonIds(after)).ExecuteScalar();
        if (missing is long id)
        {
            throw new TaskValidationException("after", $"after names task {id}, which does not exist.") { Index = count > 1 ? index : null };
        }
    }

    /// <summary>Links a new continuation to its parents and settles it against them at once.</summary>
    private static TaskRecord LinkParents(SqliteWriteContext context, TaskRecord child, NewTask task, ref int released)
    {
        context.Command("INSERT INTO task_parents (child_id, parent_id, any_outcome) SELECT $child, value, $any FROM json_each($ids)")
            .Bind("$child", child.Id)
            .Bind("$any", task.AnyOutcome ? 1 : 0)
            .Bind("$ids", JsonIds(task.After!))
            .ExecuteNonQuery();
        var counts = new FinishedCounts();
        released += Settle(context, [child.Id], Ms(task.CreatedAt), counts);
        counts.Write(context);
        return ReadSingleTask(context.Command($"SELECT {Columns} FROM tasks WHERE id = $id").Bind("$id", child.Id))!;
    }

    /// <summary>
    /// Settles the awaiting children of <paramref name="parents"/> (tasks this write may have finished), then the
    /// children of those it cancelled, and so on. Returns how many became queued or scheduled.
    /// </summary>
    private static int SettleChildren(SqliteWriteContext context, IEnumerable<long> parents, long now, FinishedCounts counts)
    {
        var ids = JsonIds(parents);
        if (ids == "[]")
        {
            return 0;
        }

        var children = ReadIds(context.Command("SELECT DISTINCT child_id FROM task_parents WHERE parent_id IN (SELECT value FROM json_each($ids))")
            .Bind("$ids", ids));
        return children.Count == 0 ? 0 : Settle(context, children, now, counts);
    }

    private static int Settle(SqliteWriteContext context, List<long> children, long now, FinishedCounts counts)
    {
        var released = 0;
        while (children.Count > 0)
        {
            var ids = JsonIds(children);
            var cancelled = new List<long>();
            using (var reader = context.Command(CancelChildrenSql).Bind("$ids", ids).Bind("$now", now).ExecuteReader())
            {
                while (reader.Read())
                {
                    cancelled.Add(reader.GetInt64(0));
                    counts.Entered(reader.GetString(1), "cancelled", now);
                }
            }

            released += ReadIds(context.Command(ReleaseChildrenSql).Bind("$ids", ids).Bind("$now", now)).Count;
            children = cancelled.Count == 0
                ? []
                : ReadIds(context.Command("SELECT DISTINCT child_id FROM task_parents WHERE parent_id IN (SELECT value FROM json_each($ids))")
                    .Bind("$ids", JsonIds(cancelled)));
        }

        return released;
    }

    /// <summary>
    /// Runs a finishing write whose work returns its result and the tasks it may have finished, settling their children
    /// in the same transaction; tells this node of releases after the commit.
    /// </summary>
    private async Task<T> WriteSettlingAsync<T>(
        Func<SqliteWriteContext, (T Result, IEnumerable<long> Finished)> work, DateTimeOffset now, CancellationToken cancellationToken, bool durable = false)
    {
        var released = 0;
        var result = await WriteAsync(context =>
        {
            var (result, finished) = work(context);
            var counts = new FinishedCounts();
            released = SettleChildren(context, finished, Ms(now), counts);
            counts.Write(context);
            return result;
        }, cancellationToken, durable: durable).ConfigureAwait(false);
        Released(released);
        return result;
    }

    /// <summary>Tells this node that continuations were released (after the commit that released them).</summary>
    private void Released(int count)
    {
        if (count > 0)
        {
            TasksReleased?.Invoke();
        }
    }

    private static List<long> ReadIds(SqliteCommand command)
    {
        var ids = new List<long>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }

    private static string JsonIds(IEnumerable<long> ids) => "[" + string.Join(',', ids) + "]";
}
